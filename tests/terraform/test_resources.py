"""Every registry resource through the real `terraform` CLI (SPEC §6), table-driven.

A case starts from the resource's documented example (`provider-bridge/examples/resources/<type>/
resource.tf`, whose `example` object is the one under test) and says, in a few lines, what to change
in place, what immutable change forces a replacement, which invalid value the API refuses (and
with which words), and which write-only values must never be printed. A new registry resource
needs an example and a case: `test_every_registry_resource_has_a_case` says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from agyn.kit.resources import Kind, Resource
from tests.terraform.plugin import REGISTRY, Platform, WorkspaceFactory, example, flat


def block(**values: str) -> str:
    """The body of a nested block (an object field) with these attributes: `vault` + `block(...)`."""
    return "{\n" + "".join(f"    {name} = {value}\n" for name, value in values.items()) + "  }"


def set_attributes(config: str, address: str, values: dict[str, str]) -> str:
    """The configuration with these attributes of the block `address` (`type.name`) set to these HCL
    expressions, replacing or adding lines; an object field is a nested block (its value a `block`)."""
    kind, name = address.split(".")
    blocks = {f.name for f in REGISTRY[kind].fields if f.kind == Kind.object}
    lines = config.splitlines()
    start = lines.index(f'resource "{kind}" "{name}" {{')
    end = lines.index("}", start)
    for attribute, value in values.items():
        written = f"{attribute} {value}" if attribute in blocks else f"{attribute} = {value}"
        pattern = re.compile(rf"^(\s+){re.escape(attribute)}\s*[={{]")
        found = next((i for i in range(start + 1, end) if pattern.match(lines[i])), None)
        if found is None:
            lines.insert(end, f"  {written}")
            end += 1
            continue
        indent = pattern.match(lines[found]).group(1)  # type: ignore[union-attr]
        if lines[found].rstrip().endswith("{"):  # an object or block written over several lines: drop them
            close = lines.index(f"{indent}}}", found)
            del lines[found + 1:close + 1]
            end -= close - found
        lines[found] = f"{indent}{written}"
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    type: str
    update: dict[str, str]
    invalid: tuple[str, str, str]  # attribute, HCL value, words of the API's message
    replace: dict[str, str] = field(default_factory=dict)
    extra: str = ""  # HCL the changes refer to
    secrets: tuple[str, ...] = ()  # write-only values that must never be printed
    shown: str = ""  # the line Terraform shows with the invalid value's error (default `attribute = value`)

    @property
    def address(self) -> str:
        return f"{self.type}.example"

    @property
    def declaration(self) -> Resource:
        return REGISTRY[self.type]

    def config(self, changes: dict[str, str] | None = None) -> str:
        return set_attributes(example("resources", self.type) + self.extra, self.address, changes or {})


ORG_OTHER = '\nresource "agyn_organization" "other" {\n  name = "other"\n}\n'
OTHER_MODEL = """
resource "agyn_llm_provider" "other" {
  organization_id = agyn_organization.other.id
  endpoint        = "https://api.example.com/v1"
  auth_method     = "x_api_key"
  token           = "other-secret"
}

resource "agyn_model" "other" {
  organization_id = agyn_organization.other.id
  llm_provider_id = agyn_llm_provider.other.id
  name            = "other-model"
  remote_name     = "other-model-1"
}
"""
OTHER_AGENT = """
resource "agyn_agent" "other" {
  organization_id = agyn_organization.acme.id
  name            = "other"
  role            = "helper"
  model           = agyn_model.gpt.id
  availability    = "internal"
}
"""

CASES = [
    Case("agyn_organization", update={"name": '"acme-renamed"'}, invalid=("name", '""', "name: must not be empty")),
    Case("agyn_user", update={"name": '"Alice Renamed"', "email": '"alice@example.org"'},
         replace={"oidc_subject": '"example|alice-2"'},
         invalid=("username", '"Not Valid"', "username: use 1 to 32 characters")),
    Case("agyn_membership", update={"role": '"owner"'}, replace={"identity_id": "agyn_user.carol.id"},
         extra='\nresource "agyn_user" "carol" {\n  oidc_subject = "example|carol"\n}\n',
         invalid=("role", '"boss"', "role: must be owner or member (got \"boss\")")),
    Case("agyn_llm_provider", update={"endpoint": '"https://api2.openai.com/v1"', "token": '"sk-rotated-token"'},
         replace={"organization_id": "agyn_organization.other.id"}, extra=ORG_OTHER,
         secrets=("sk-example-secret-token", "sk-rotated-token"),
         invalid=("endpoint", '"not a url"', "must be an http(s) URL")),
    Case("agyn_model", update={"remote_name": '"gpt-4o-2024-11-20"'},
         replace={"llm_provider_id": "agyn_llm_provider.other.id"},
         extra='\nresource "agyn_llm_provider" "other" {\n  organization_id = agyn_organization.acme.id\n'
               '  endpoint        = "https://api.example.com/v1"\n  auth_method     = "x_api_key"\n'
               '  token           = "other-secret"\n}\n',
         invalid=("name", '"not valid!"', "use letters, digits and . _ : / -")),
    Case("agyn_secret_provider", update={"description": '"Vault (production)"',
                                         "vault": block(address='"https://vault2.example.com"', token='"hvs.rotated"')},
         replace={"organization_id": "agyn_organization.other.id"}, extra=ORG_OTHER,
         secrets=("hvs.example-vault-token", "hvs.rotated"),
         invalid=("vault", block(address='"vault.example.com"', token='"t"'), "must be an http(s) URL"),
         shown='address = "vault.example.com"'),
    Case("agyn_secret", update={"description": '"Pushes to GitHub"', "value": '"ghp_rotated-value"'},
         replace={"organization_id": "agyn_organization.other.id"}, extra=ORG_OTHER,
         secrets=("ghp_example-secret-value", "ghp_rotated-value", "hvs.example-vault-token"),
         invalid=("name", '""', "name: must not be empty")),
    Case("agyn_runner", update={"labels": '{ zone = "us-east" }', "capabilities": '["docker"]'},
         replace={"organization_id": "agyn_organization.other.id"}, extra=ORG_OTHER,
         invalid=("name", '""', "name: must not be empty")),
    Case("agyn_app", update={"name": '"Reminders v2"', "visibility": '"public"'}, replace={"slug": '"reminders-2"'},
         invalid=("slug", '"Not_Valid"', "use 1 to 63 characters from a-z, 0-9 and '-'")),
    Case("agyn_app_installation",
         update={"slug": '"telegram-bot"', "configuration": 'jsonencode({ chat_ids = [1001], greeting = "hi" })'},
         replace={"app_id": "agyn_app.other.id"},
         extra='\nresource "agyn_app" "other" {\n  organization_id = agyn_organization.acme.id\n'
               '  slug            = "other-app"\n  name            = "Other"\n}\n',
         invalid=("configuration", '"[1, 2]"', "configuration: must be a JSON object")),
    Case("agyn_agent", update={"role": '"senior reviewer"', "idle_timeout": '"10m"',
                               "configuration": 'jsonencode({ system_prompt = "Be brief." })',
                               "resources": block(requests_cpu='"500m"', limits_cpu='"2"')},
         replace={"organization_id": "agyn_organization.other.id", "model": "agyn_model.other.id"},
         extra=ORG_OTHER + OTHER_MODEL, invalid=("nickname", '"Not Valid"', "use 1 to 32 characters from a-z")),
    Case("agyn_agent_role", update={"role": '"maintainer"'},
         replace={"identity_id": "agyn_membership.erin.identity_id"},
         extra='\nresource "agyn_user" "erin" {\n  oidc_subject = "example|erin"\n}\n'
               '\nresource "agyn_membership" "erin" {\n  organization_id = agyn_organization.acme.id\n'
               '  identity_id     = agyn_user.erin.id\n}\n',
         invalid=("role", '"boss"', "role: must be one of owner, maintainer, participant")),
    Case("agyn_mcp", update={"command": '"github-mcp-server stdio --read-only"', "env": "{}"},
         replace={"agent_id": "agyn_agent.other.id"}, extra=OTHER_AGENT,
         invalid=("name", '"Bad Name"', "use 1 to 63 characters from a-z, 0-9 and '_'")),
    Case("agyn_skill", update={"body": '"Check authorization and input validation."'},
         replace={"agent_id": "agyn_agent.other.id"}, extra=OTHER_AGENT,
         invalid=("name", '"Bad Name"', "use 1 to 64 characters from a-z, 0-9 and '-'")),
    Case("agyn_hook", update={"function": '"notify-start --verbose"'}, replace={"agent_id": "agyn_agent.other.id"},
         extra=OTHER_AGENT, invalid=("event", '"on_banana"', "event: must be one of workload.started")),
    Case("agyn_env", update={"value": '"env-rotated-value"'}, replace={"agent_id": "agyn_agent.other.id"},
         extra=OTHER_AGENT, secrets=("env-example-secret-value", "env-rotated-value", "ghp_example-secret-value"),
         invalid=("name", '"1BAD"', "must be an environment variable name")),
    Case("agyn_init_script", update={"script": '"git clone --depth 1 https://github.com/agynio/example"'},
         replace={"agent_id": "agyn_agent.other.id"}, extra=OTHER_AGENT,
         invalid=("script", '""', "script: must not be empty")),
    Case("agyn_volume", update={"size": '"20Gi"', "ttl": '"48h"'},
         replace={"organization_id": "agyn_organization.other.id"}, extra=ORG_OTHER,
         invalid=("mount_path", '"relative/path"', "must be an absolute path")),
    Case("agyn_volume_attachment", update={}, replace={"agent_id": "agyn_agent.other.id"}, extra=OTHER_AGENT,
         invalid=("volume_id", '"00000000-0000-7000-8000-000000000000"', "volume_id: no volume")),
]


def write_only(resource: Resource) -> set[str]:
    """Attributes Terraform cannot read back: write-only fields, and objects holding one."""
    return {f.name for f in resource.fields
            if (f.sensitive and not f.once) or (f.kind == Kind.object and any(s.sensitive for s in f.fields))}


def test_every_registry_resource_has_a_case() -> None:
    assert {c.type for c in CASES} == set(REGISTRY), "add an example and a Case for each new registry resource"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.type)
def test_lifecycle(case: Case, terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    """create → no-op → update in place → replace → import → out-of-band delete → destroy."""
    collection = case.declaration.collection
    workspace = terraform(case.config())
    workspace.apply().check()
    workspace.assert_idempotent()
    state = workspace.state()
    created = state[case.address]
    assert agyn_platform.get(collection, created["id"]).status_code == 200

    if case.update:
        workspace.write(case.config(case.update))
        assert workspace.planned_changes()[case.address]["actions"] == ["update"]
        workspace.apply("tfplan").check()
        workspace.assert_idempotent()  # so the state holds the configured values, as configured

    if case.replace:
        workspace.write(case.config({**case.update, **case.replace}))
        assert workspace.planned_changes()[case.address]["actions"] == ["delete", "create"]
        workspace.apply("tfplan").check()
        workspace.assert_idempotent()
        state = workspace.state()
        assert state[case.address]["id"] != created["id"]
        assert agyn_platform.get(collection, created["id"]).status_code == 404

    imported = terraform(case.config({**case.update, **case.replace}), destroy=False)
    imported.import_all({address: values["id"] for address, values in state.items()})
    for address, change in imported.planned_changes().items():
        changed = {k for k in change["after"] if change["before"].get(k) != change["after"][k]}
        assert change["actions"] == ["update"] and changed <= write_only(REGISTRY[address.split(".")[0]]), \
            f"after import, {address} plans {change['actions']} of {sorted(changed)}"
    imported.apply("tfplan").check()  # imports, and sends the write-only values Terraform could not read
    imported.assert_idempotent()

    agyn_platform.delete(collection, state[case.address]["id"])
    assert workspace.planned_changes()[case.address]["actions"] == ["create"]
    workspace.apply("tfplan").check()
    workspace.assert_idempotent()

    objects = {address: values["id"] for address, values in workspace.state().items()}
    workspace.destroy().check()
    for address, object_id in objects.items():
        assert agyn_platform.get(REGISTRY[address.split(".")[0]].collection, object_id).status_code == 404, address
    printed = "".join(workspace.log + imported.log)
    for secret in case.secrets:
        assert secret not in printed


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.type)
def test_invalid_value_fails_naming_the_attribute_before_anything_is_created(
        case: Case, terraform: WorkspaceFactory) -> None:
    """A value the registry's rules refuse fails at plan, so nothing is created; one only the API can
    judge (an id that names nothing) fails at apply with the API's message."""
    attribute, value, message = case.invalid
    workspace = terraform(case.config({attribute: value}))
    result = workspace.apply()
    assert result.returncode == 1, result.output
    output = flat(result.output)
    assert message in output
    assert f"with {case.address}," in output
    assert (case.shown or f"{attribute} = {value}") in output  # Terraform shows the offending line
    assert f"{case.address}: Creation complete" not in output
    if f"Cannot create {case.type}" not in output:  # refused at plan: nothing at all was created
        assert "Creation complete" not in output and not workspace.has_state
