"""SPEC §6 semantics the lifecycle tests do not single out, each through the real `terraform` CLI:
JSON and durations compared by meaning, null = empty, write-only and show-once values, defaults,
reads and deletes of objects that are gone, composite-id import, and Terraform's parallelism."""

from __future__ import annotations

import httpx

from tests.terraform.plugin import Platform, Workspace, WorkspaceFactory, example, flat

ORGANIZATION = 'resource "agyn_organization" "acme" {\n  name = "acme"\n}\n'


def applied(workspace: Workspace) -> dict[str, dict]:
    workspace.apply().check()
    workspace.assert_idempotent()
    return workspace.state()


def test_json_is_compared_by_value(terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    """Another spelling of the same document, or keys the API added, are no change; a changed value is."""
    spelled = '<<-EOT\n    {  "greeting" : "hello",\n       "chat_ids": [1001, 1002] }\n  EOT'
    config = example("resources", "agyn_app_installation").replace(
        'jsonencode({ chat_ids = [1001, 1002], greeting = "hello" })', spelled)
    workspace = terraform(config)
    installation = applied(workspace)["agyn_app_installation.example"]
    assert installation["configuration"].startswith("{  \"greeting\"")  # the configured spelling stays

    api = f"/api/v1/app-installations/{installation['id']}"
    added = agyn_platform.api.patch(api, json={"configuration": {"greeting": "hello", "chat_ids": [1001, 1002],
                                                                 "added_by_server": True}})
    assert added.status_code == 200, added.text
    workspace.assert_idempotent()

    changed = agyn_platform.api.patch(api, json={"configuration": {"greeting": "bye", "chat_ids": [1001, 1002]}})
    assert changed.status_code == 200, changed.text
    assert workspace.plan().returncode == 2  # drift in a configured key is seen


def test_a_json_attribute_that_is_not_json_fails_at_plan(terraform: WorkspaceFactory) -> None:
    config = example("resources", "agyn_app_installation").replace(
        'jsonencode({ chat_ids = [1001, 1002], greeting = "hello" })', '"{not json"')
    result = terraform(config).plan()
    assert result.returncode == 1
    output = flat(result.output)
    assert "configuration: is not valid JSON" in output and 'configuration = "{not json"' in output


def test_durations_keep_the_configured_spelling(terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    workspace = terraform(example("resources", "agyn_agent"))
    agent = applied(workspace)["agyn_agent.example"]
    assert agent["idle_timeout"] == "5m"
    api = f"/api/v1/agents/{agent['id']}"
    assert agyn_platform.api.get(api).json()["idle_timeout"] == "5m0s"
    assert agyn_platform.api.patch(api, json={"idle_timeout": "300s"}).status_code == 200  # same length
    workspace.assert_idempotent()
    assert agyn_platform.api.patch(api, json={"idle_timeout": "7m"}).status_code == 200
    assert workspace.plan().returncode == 2


def test_null_and_empty_collections_are_the_same(terraform: WorkspaceFactory) -> None:
    runner = ORGANIZATION + ('resource "agyn_runner" "example" {\n  organization_id = agyn_organization.acme.id\n'
                             '  name = "pool"\n%s}\n')
    workspace = terraform(runner % "")
    assert applied(workspace)["agyn_runner.example"]["capabilities"] == []
    workspace.write(runner % "  labels = {}\n  capabilities = []\n")
    workspace.assert_idempotent()
    workspace.write(runner % '  labels = { a = "b" }\n')
    workspace.apply().check()
    workspace.write(runner % "")  # back to nothing: the default (empty), planned as a change
    assert workspace.planned_changes()["agyn_runner.example"]["after"]["labels"] == {}
    workspace.apply("tfplan").check()
    workspace.assert_idempotent()


def test_write_only_values_come_from_the_configuration(terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    workspace = terraform(example("resources", "agyn_llm_provider"))
    provider = applied(workspace)["agyn_llm_provider.example"]
    assert provider["token"] == "sk-example-secret-token"
    assert "token" not in agyn_platform.api.get(f"/api/v1/llm-providers/{provider['id']}").json()
    changed = agyn_platform.api.patch(f"/api/v1/llm-providers/{provider['id']}", json={"token": "changed-elsewhere"})
    assert changed.status_code == 200
    workspace.assert_idempotent()  # never read back, so never drift
    assert workspace.state()["agyn_llm_provider.example"]["token"] == "sk-example-secret-token"


def test_values_shown_once_are_kept_from_the_create_response(
        terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    workspace = terraform(example("resources", "agyn_runner"))
    token = applied(workspace)["agyn_runner.example"]["service_token"]
    me = httpx.get(f"{agyn_platform.url}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["identity_type"] == "runner"
    workspace.write(example("resources", "agyn_runner").replace('"gpu-pool"', '"gpu-pool-2"'))
    changes = workspace.planned_changes()["agyn_runner.example"]
    assert changes["actions"] == ["update"] and changes["after"]["service_token"] == token
    workspace.apply("tfplan").check()
    assert workspace.state()["agyn_runner.example"]["service_token"] == token
    assert token not in "".join(workspace.log)


def test_a_removed_setting_goes_back_to_its_default(terraform: WorkspaceFactory) -> None:
    with_protocol = example("resources", "agyn_llm_provider").replace('"responses"', '"anthropic_messages"')
    workspace = terraform(with_protocol)
    applied(workspace)
    workspace.write(with_protocol.replace('  protocol        = "anthropic_messages"\n', ""))
    change = workspace.planned_changes()["agyn_llm_provider.example"]
    assert (change["before"]["protocol"], change["after"]["protocol"]) == ("anthropic_messages", "responses")
    workspace.apply("tfplan").check()
    workspace.assert_idempotent()


def test_a_users_cluster_role_is_granted_and_taken_back(terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    """The users API refuses a null cluster_role; leaving it out plans (and sends) its default, none."""
    admin = example("resources", "agyn_user").replace('  username     = "alice"\n',
                                                      '  username     = "alice"\n  cluster_role = "admin"\n')
    workspace = terraform(admin)
    user = applied(workspace)["agyn_user.example"]
    assert agyn_platform.get("users", user["id"]).json()["cluster_role"] == "admin"
    workspace.write(example("resources", "agyn_user"))
    assert workspace.planned_changes()["agyn_user.example"]["after"]["cluster_role"] == "none"
    workspace.apply("tfplan").check()
    workspace.assert_idempotent()
    assert agyn_platform.get("users", user["id"]).json()["cluster_role"] == "none"


def test_objects_deleted_elsewhere_leave_the_state_and_delete_quietly(
        terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    workspace = terraform(ORGANIZATION)
    organization = applied(workspace)["agyn_organization.acme"]
    agyn_platform.delete("organizations", organization["id"])
    workspace.destroy("-refresh=false").check()  # Delete of a missing object succeeds
    workspace.apply().check()
    agyn_platform.delete("organizations", workspace.state()["agyn_organization.acme"]["id"])
    workspace.apply("-refresh-only").check()  # Read of a deleted object removes it from state
    assert "agyn_organization.acme" not in workspace.state()


def test_import_of_a_relationship_by_its_composite_id(terraform: WorkspaceFactory) -> None:
    config = example("resources", "agyn_agent_role")
    state = applied(terraform(config))
    role = state["agyn_agent_role.example"]
    assert role["id"] == f"{role['agent_id']}:{role['identity_id']}"
    imported = terraform(config, destroy=False)
    bad = imported.import_("agyn_agent_role.example", "not-a-composite-id")
    assert bad.returncode == 1 and "is not an agent role id (<agent_id>:<identity_id>)" in flat(bad.output)
    imported.import_("agyn_agent_role.example", role["id"]).check()
    assert imported.state()["agyn_agent_role.example"] == role
    imported.import_all({address: values["id"] for address, values in state.items()
                        if address != "agyn_agent_role.example"})
    imported.apply().check()  # imports the rest (and sends the LLM provider's token again)
    imported.assert_idempotent()


def test_parallel_applies_of_many_objects(terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    models = example("resources", "agyn_model").replace(
        'resource "agyn_model" "example" {\n', 'resource "agyn_model" "example" {\n  count = 30\n').replace(
        'name            = "gpt-4o"', 'name            = "model-${count.index}"')
    workspace = terraform(models)
    result = workspace.apply("-parallelism=10").check()
    assert "Resources: 32 added" in flat(result.output)
    workspace.assert_idempotent()
    ids = [v["id"] for a, v in workspace.state().items() if a.startswith("agyn_model.example[")]
    assert len(set(ids)) == 30
    workspace.destroy("-parallelism=10").check()
    assert all(agyn_platform.get("models", i).status_code == 404 for i in ids)


def test_sensitive_values_are_never_printed(terraform: WorkspaceFactory) -> None:
    workspace = terraform(example("resources", "agyn_secret"))
    result = workspace.plan()
    assert "(sensitive value)" in result.output
    workspace.apply().check()
    workspace.write(example("resources", "agyn_secret").replace("ghp_example-secret-value", "ghp_next-value"))
    workspace.plan()
    workspace.apply().check()
    printed = "".join(workspace.log)
    for secret in ("ghp_example-secret-value", "ghp_next-value", "hvs.example-vault-token"):
        assert secret not in printed
