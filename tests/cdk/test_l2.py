"""The L2 constructs' wiring: what each makes, and that every reference names the right object."""

from __future__ import annotations

from typing import Any

import pytest

from agyn_cdk import (
    Agent,
    AgentRole,
    AgynProvider,
    FromSecret,
    Hook,
    InvalidConfiguration,
    LlmCatalog,
    LlmCatalogProps,
    McpServer,
    Member,
    Organization,
    Secret,
    Skill,
    Volume,
    cdk,
)
from agyn_cdk.agent import script_key
from agyn_cdk.l1 import AgynSecret, AgynUser
from tests.cdk.support import full_synth

ORG_ID, MODEL_ID, USER_ID, VOLUME_ID = (f"0199a3c0-0000-7000-8000-00000000001{n}" for n in (6, 7, 8, 9))
OTHER_USER_ID = "0199a3c0-0000-7000-8000-000000000020"
CATALOG = LlmCatalogProps(endpoint="https://llm.example/v1", token="sk-test",
                          models={"gpt-4o": "gpt-4o-2024-08-06", "team/mini": "gpt-4o-mini"})


@pytest.fixture(autouse=True)
def provider(stack: Any) -> None:
    """A full synth checks that the stack configures the provider its resources use."""
    AgynProvider(stack, "agyn")


def by_path(document: dict[str, Any], terraform_type: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """The resources of a type, by construct path below the stack → (Terraform name, body)."""
    return {body["//"]["metadata"]["path"].split("/", 1)[1]: (name, body)
            for name, body in document.get("resource", {}).get(terraform_type, {}).items()}


def ref(document: dict[str, Any], terraform_type: str, path: str, attribute: str = "id") -> str:
    name, _ = by_path(document, terraform_type)[path]
    return f"${{{terraform_type}.{name}.{attribute}}}"


def body(document: dict[str, Any], terraform_type: str, path: str) -> dict[str, Any]:
    return {k: v for k, v in by_path(document, terraform_type)[path][1].items() if k != "//"}


def test_organization_with_members_and_a_catalog(stack: Any) -> None:
    org = Organization(stack, "acme", name="acme", llm=CATALOG,
                       members=[Member("0199a3c0-0000-7000-8000-000000000001", "owner"),
                                Member("0199a3c0-0000-7000-8000-000000000002", key="bob")])
    assert org.llm is not None
    cdk.TerraformOutput(stack, "model", value=org.llm.model("gpt-4o"))
    cdk.TerraformOutput(stack, "bob", value=org.member_id("bob"))
    document = full_synth(stack)
    org_id = ref(document, "agyn_organization", "acme/organization")

    assert body(document, "agyn_organization", "acme/organization") == {"name": "acme"}
    memberships = by_path(document, "agyn_membership")
    assert {path: {k: v for k, v in b.items() if k != "//"} for path, (_, b) in memberships.items()} == {
        "acme/member-0199a3c0-0000-7000-8000-000000000001": {
            "organization_id": org_id, "identity_id": "0199a3c0-0000-7000-8000-000000000001", "role": "owner"},
        "acme/member-bob": {
            "organization_id": org_id, "identity_id": "0199a3c0-0000-7000-8000-000000000002", "role": "member"},
    }
    provider_id = ref(document, "agyn_llm_provider", "acme/llm/provider")
    assert body(document, "agyn_llm_provider", "acme/llm/provider") == {
        "organization_id": org_id, "endpoint": "https://llm.example/v1", "auth_method": "bearer", "token": "sk-test"}
    assert body(document, "agyn_model", "acme/llm/model-team-mini") == {
        "organization_id": org_id, "llm_provider_id": provider_id, "name": "team/mini", "remote_name": "gpt-4o-mini"}
    assert document["output"]["model"]["value"] == ref(document, "agyn_model", "acme/llm/model-gpt-4o")
    assert document["output"]["bob"]["value"] == ref(document, "agyn_membership", "acme/member-bob", "identity_id")


def test_catalog_names_its_models_on_a_miss(stack: Any) -> None:
    catalog = LlmCatalog(stack, "llm", organization_id=ORG_ID, props=CATALOG)
    with pytest.raises(KeyError, match="no model 'gpt-5'; it has gpt-4o, team/mini"):
        catalog.model("gpt-5")


def test_a_member_named_by_a_reference_needs_a_key(stack: Any) -> None:
    user = AgynUser(stack, "dana", oidc_subject="example|dana")
    with pytest.raises(ValueError, match="give it a key"):
        Organization(stack, "acme", name="acme", members=[Member(user.id)])
    with pytest.raises(ValueError, match="more than once"):
        Organization(stack, "other", name="other", members=[Member("a", key="x"), Member("b", key="x")])


def test_agent_defaults(stack: Any) -> None:
    Agent(stack, "bot", organization_id=ORG_ID, name="bot", role="assistant", model=MODEL_ID)
    document = full_synth(stack)
    assert body(document, "agyn_agent", "bot/agent") == {
        "organization_id": ORG_ID, "name": "bot", "role": "assistant", "model": MODEL_ID,
        "availability": "internal", "idle_timeout": "5m"}
    assert set(document["resource"]) == {"agyn_agent"}


def test_agent_wires_every_nested_item_to_its_owner(stack: Any) -> None:
    org = Organization(stack, "acme", name="acme", llm=CATALOG, members=[Member(USER_ID, key="dana")])
    secret = AgynSecret(stack, "github", organization_id=org.id, name="github", value="ghp")
    assert org.llm is not None
    Agent(stack, "bot", organization_id=org.id, name="bot", role="assistant", model=org.llm.model("team/mini"),
          configuration={"system_prompt": "hi", "organization": org.id},
          env={"GITHUB_TOKEN": FromSecret(secret.id), "MODE": "strict"},
          init_scripts=["echo one", "echo two"],
          volumes=[Volume(name="work", mount_path="/work"), VOLUME_ID],
          mcp_servers=[McpServer(name="gh", command="gh-mcp", env={"PLAIN": "1", "TOKEN": FromSecret(secret.id)},
                                 init_scripts=["setup"], volumes=[Volume(name="work", mount_path="/work")])],
          skills=[Skill(name="review", body="Review it.", description="reviews")],
          hooks=[Hook(event="workload.started", function="notify", env={"URL": "http://hook"})],
          roles=[AgentRole(org.member_id("dana"), "maintainer", key="dana"), AgentRole(OTHER_USER_ID, "owner")])
    document = full_synth(stack)
    org_id = ref(document, "agyn_organization", "acme/organization")
    agent = {"agent_id": ref(document, "agyn_agent", "bot/agent")}
    mcp = {"mcp_id": ref(document, "agyn_mcp", "bot/mcp-gh/mcp")}
    hook = {"hook_id": ref(document, "agyn_hook", "bot/hook-workload-started/hook")}
    secret_id = ref(document, "agyn_secret", "github")
    volume_id = ref(document, "agyn_volume", "bot/volume-work")

    assert body(document, "agyn_agent", "bot/agent") == {
        "organization_id": org_id, "name": "bot", "role": "assistant", "availability": "internal",
        "idle_timeout": "5m", "model": ref(document, "agyn_model", "acme/llm/model-team-mini"),
        "configuration": '{"organization":"%s","system_prompt":"hi"}' % org_id}
    envs = {path: body(document, "agyn_env", path) for path in by_path(document, "agyn_env")}
    assert envs == {
        "bot/env-GITHUB_TOKEN": {**agent, "name": "GITHUB_TOKEN", "secret_id": secret_id},
        "bot/env-MODE": {**agent, "name": "MODE", "value": "strict"},
        "bot/mcp-gh/env-TOKEN": {**mcp, "name": "TOKEN", "secret_id": secret_id},
        "bot/mcp-gh/env-PLAIN": {**mcp, "name": "PLAIN", "value": "1"},  # as the agent's own env: write-only
        "bot/hook-workload-started/env-URL": {**hook, "name": "URL", "value": "http://hook"},
    }
    assert body(document, "agyn_mcp", "bot/mcp-gh/mcp") == {**agent, "name": "gh", "command": "gh-mcp"}
    assert body(document, "agyn_skill", "bot/skill-review") == {**agent, "name": "review", "body": "Review it.",
                                                                 "description": "reviews"}
    assert body(document, "agyn_hook", "bot/hook-workload-started/hook") == {
        **agent, "event": "workload.started", "function": "notify"}
    scripts = {path: body(document, "agyn_init_script", path) for path in by_path(document, "agyn_init_script")}
    assert scripts == {f"bot/{script_key('echo one')}": {**agent, "script": "echo one"},
                       f"bot/{script_key('echo two')}": {**agent, "script": "echo two"},
                       f"bot/mcp-gh/{script_key('setup')}": {**mcp, "script": "setup"}}
    assert {path: body(document, "agyn_volume", path) for path in by_path(document, "agyn_volume")} == {
        "bot/volume-work": {"organization_id": org_id, "name": "work", "mount_path": "/work", "persistent": False}}
    attachments = {p: body(document, "agyn_volume_attachment", p) for p in by_path(document, "agyn_volume_attachment")}
    assert attachments == {"bot/mount-work": {**agent, "volume_id": volume_id},
                           "bot/mount-1": {**agent, "volume_id": VOLUME_ID},
                           "bot/mcp-gh/mount-work": {**mcp, "volume_id": volume_id}}
    roles = {path: body(document, "agyn_agent_role", path) for path in by_path(document, "agyn_agent_role")}
    assert roles == {
        "bot/role-dana": {**agent, "role": "maintainer",
                          "identity_id": ref(document, "agyn_membership", "acme/member-dana", "identity_id")},
        f"bot/role-{OTHER_USER_ID}": {**agent, "role": "owner", "identity_id": OTHER_USER_ID},
    }


def test_agent_refuses_ambiguous_items(stack: Any) -> None:
    common: dict[str, Any] = {"organization_id": ORG_ID, "role": "assistant", "model": MODEL_ID}
    with pytest.raises(ValueError, match="MCP servers: gh appear more than once"):
        Agent(stack, "a", name="a", mcp_servers=[McpServer(name="gh", command="x"), McpServer(name="gh", command="y")],
              **common)
    with pytest.raises(ValueError, match="hooks"):
        Agent(stack, "b", name="b", hooks=[Hook(event="e", function="f"), Hook(event="e", function="g")], **common)
    with pytest.raises(ValueError, match="defined twice, differently"):
        Agent(stack, "c", name="c", volumes=[Volume(name="v", mount_path="/v")],
              mcp_servers=[McpServer(name="m", command="x", volumes=[Volume(name="v", mount_path="/other")])],
              **common)
    user = AgynUser(stack, "dana", oidc_subject="example|dana")
    with pytest.raises(ValueError, match="give it a key"):
        Agent(stack, "d", name="d", roles=[AgentRole(user.id)], **common)


def test_a_volume_given_to_two_agents_is_one_shared_volume(stack: Any) -> None:
    cache = Volume(name="cache", mount_path="/cache")
    first = Agent(stack, "one", organization_id=ORG_ID, name="one", role="r", model=MODEL_ID, volumes=[cache])
    second = Agent(stack, "two", organization_id=ORG_ID, name="two", role="r", model=MODEL_ID,
                   mcp_servers=[McpServer(name="files", command="serve", volumes=[cache])], volumes=[cache])
    document = full_synth(stack)
    assert list(by_path(document, "agyn_volume")) == ["one/volume-cache"]
    assert first.volumes["cache"] is second.volumes["cache"]
    volume_id = ref(document, "agyn_volume", "one/volume-cache")
    mounts = {path: b["volume_id"] for path, (_, b) in by_path(document, "agyn_volume_attachment").items()}
    assert mounts == {"one/mount-cache": volume_id, "two/mount-cache": volume_id,
                      "two/mcp-files/mount-cache": volume_id}
    with pytest.raises(ValueError, match="defined twice, differently"):
        Agent(stack, "three", organization_id=ORG_ID, name="three", role="r", model=MODEL_ID,
              volumes=[Volume(name="cache", mount_path="/elsewhere")])


def test_reordering_init_scripts_changes_nothing(stack: Any, tmp_path: Any) -> None:
    def scripts(order: list[str]) -> set[str]:
        app_stack = cdk.TerraformStack(cdk.App(outdir=str(tmp_path / "-".join(order))), "s")
        AgynProvider(app_stack, "agyn")
        Agent(app_stack, "bot", organization_id=ORG_ID, name="bot", role="r", model=MODEL_ID, init_scripts=order)
        return set(by_path(full_synth(app_stack), "agyn_init_script"))

    assert scripts(["echo a", "echo b"]) == scripts(["echo b", "echo a"])
    with pytest.raises(ValueError, match="the same script twice"):
        Agent(stack, "twice", organization_id=ORG_ID, name="twice", role="r", model=MODEL_ID,
              init_scripts=["echo a", "echo a"])


def test_secret_construct(stack: Any) -> None:
    stored = Secret(stack, "gh", organization_id=ORG_ID, name="gh", value="ghp_value")
    Secret(stack, "vaulted", organization_id=ORG_ID, name="db", provider_id=OTHER_USER_ID, reference="kv/db/password")
    Agent(stack, "bot", organization_id=ORG_ID, name="bot", role="r", model=MODEL_ID,
          env={"GH": FromSecret(stored.id)})
    document = full_synth(stack)
    assert body(document, "agyn_secret", "gh/secret") == {"organization_id": ORG_ID, "name": "gh", "value": "ghp_value"}
    assert body(document, "agyn_env", "bot/env-GH")["secret_id"] == ref(document, "agyn_secret", "gh/secret")
    with pytest.raises(InvalidConfiguration, match="provider_id: conflicts with value"):
        Secret(stack, "both", organization_id=ORG_ID, name="both", value="v", provider_id=OTHER_USER_ID,
               reference="kv/a/b")
    with pytest.raises(InvalidConfiguration, match="reference: is required when provider_id is set"):
        Secret(stack, "half", organization_id=ORG_ID, name="half", provider_id=OTHER_USER_ID)


def test_organization_model_id_without_a_catalog_says_so(stack: Any) -> None:
    org = Organization(stack, "acme", name="acme")
    with pytest.raises(KeyError, match="no LLM catalog"):
        org.model_id("gpt-4o")
