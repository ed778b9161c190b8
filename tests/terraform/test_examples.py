"""The HCL users start from: the Terraform quickstart (its README's steps) and the modules in
`modules/` apply, settle into an empty plan and destroy cleanly, through `terraform init` from the
filesystem mirror as a user runs them."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.plugin import Platform, TerraformBuild, Workspace, terraform_env

REPOSITORY = Path(__file__).resolve().parents[2]
WorkspaceFrom = Callable[..., Workspace]


@pytest.fixture
def workspace_from(tmp_path: Path, agyn_platform: Platform, cli_config: Path,
                   terraform_build: TerraformBuild) -> Iterator[WorkspaceFrom]:
    """`workspace_from(directory)`: a copy of that directory's `.tf` files, initialised from the mirror;
    destroyed at the end of the test if something is left."""
    made: list[Workspace] = []

    def make(source: Path | None = None, main: str | None = None) -> Workspace:
        directory = tmp_path / f"workspace-{len(made)}"
        directory.mkdir()
        for file in (source.glob("*.tf") if source else ()):
            shutil.copy(file, directory / file.name)
        env = terraform_env(cli_config, AGYN_API_URL=agyn_platform.url, AGYN_API_TOKEN=agyn_platform.token)
        workspace = Workspace(directory, env, terraform_build)
        if main is not None:
            workspace.write(main)
        workspace.init()
        made.append(workspace)
        return workspace

    yield make
    for workspace in made:
        if workspace.has_state:
            workspace.destroy("-refresh=false")


def test_terraform_quickstart(workspace_from: WorkspaceFrom, agyn_platform: Platform) -> None:
    workspace = workspace_from(REPOSITORY / "examples" / "terraform-quickstart")
    workspace.apply().check()
    workspace.assert_idempotent()
    state = workspace.state()
    assert len(state) == 8
    agent = agyn_platform.get("agents", state["agyn_agent.helper"]["id"])
    assert agent.status_code == 200 and agent.json()["configuration"]["system_prompt"].startswith("You help")
    env = agyn_platform.get("envs", state["agyn_env.github_token"]["id"]).json()
    assert env["mcp_id"] == state["agyn_mcp.github"]["id"] and env["secret_id"] == state["agyn_secret.github"]["id"]
    printed = "\n".join(workspace.log)
    assert "sk-quickstart-placeholder" not in printed and "ghp-quickstart-placeholder" not in printed

    workspace.destroy().check()
    for address, collection in (("agyn_agent.helper", "agents"), ("agyn_organization.acme", "organizations"),
                                ("agyn_secret.github", "secrets")):
        assert agyn_platform.get(collection, state[address]["id"]).status_code == 404


MODULES_ROOT = """
terraform {{
  required_providers {{
    agyn = {{ source = "agynio/agyn", version = ">= 0.1.0" }}
  }}
}}

# users created in the same configuration as the modules that reference them: for_each keys are names
resource "agyn_user" "dana" {{
  oidc_subject = "example|modules-dana"
}}

resource "agyn_user" "eli" {{
  oidc_subject = "example|modules-eli"
}}

module "org" {{
  source       = "{modules}/organization"
  name         = "modules-test"
  members      = {{ dana = {{ identity_id = agyn_user.dana.id }}, eli = {{ identity_id = agyn_user.eli.id, role = "owner" }} }}
  llm_provider = {{ endpoint = "https://llm.example/v1", auth_method = "x_api_key" }}
  llm_provider_token = "module-token-value"
  models       = {{ "fast" = "small-1", "smart" = "large-2" }}
}}

resource "agyn_secret" "api" {{
  organization_id = module.org.organization_id
  name            = "api-key"
  value           = "module-secret-value"
}}

resource "agyn_volume" "shared" {{
  organization_id = module.org.organization_id
  name            = "shared"
  mount_path      = "/shared"
}}

module "agent" {{
  source          = "{modules}/agent"
  organization_id = module.org.organization_id
  name            = "reviewer"
  nickname        = "reviewer"
  model_id        = module.org.model_ids["smart"]
  system_prompt   = "Review pull requests."
  runner_labels   = {{ zone = "eu" }}
  capabilities    = ["docker"]
  resources       = {{ limits_cpu = "2", requests_memory = "256Mi" }}
  env             = {{ LOG_LEVEL = "module-plain-env-value" }}
  secret_envs     = {{ API_KEY = agyn_secret.api.id }}
  mcp_servers     = {{ files = {{ command = "files-mcp", env = {{ ROOT = "/workspace" }},
                                  secret_envs = {{ TOKEN = agyn_secret.api.id }},
                                  init_scripts = {{ warm = "echo warm" }}, volume_ids = {{ shared = agyn_volume.shared.id }} }} }}
  skills          = {{ review = {{ body = "Read the diff first.", description = "A pull request arrives" }} }}
  hooks           = {{ started = {{ event = "workload.started", function = "notify", secret_envs = {{ TOKEN = agyn_secret.api.id }} }} }}
  init_scripts    = {{ ready = "echo ready" }}
  volumes         = {{ cache = {{ mount_path = "/cache", persistent = true, size = "1Gi" }} }}
  volume_ids      = {{ shared = agyn_volume.shared.id }}
  roles           = {{ dana = {{ identity_id = module.org.member_ids["dana"], role = "maintainer" }} }}
}}

output "agent_id" {{
  value = module.agent.agent_id
}}
"""


MODULES_TERRAFORM = (1, 3)  # their `required_version`: optional() attributes with defaults


def test_modules_declare_the_terraform_they_need() -> None:
    for versions in (REPOSITORY / "modules").glob("*/versions.tf"):
        assert 'required_version = ">= 1.3"' in versions.read_text(), versions


def test_modules_compose(workspace_from: WorkspaceFrom, agyn_platform: Platform,
                         terraform_build: TerraformBuild) -> None:
    if not terraform_build.at_least(*MODULES_TERRAFORM):
        pytest.skip("modules/ need Terraform >= 1.3 (test_modules_do_not_load_on_older_terraform)")
    workspace = workspace_from(main=MODULES_ROOT.format(modules=REPOSITORY / "modules"))
    changes = workspace.planned_changes()  # plans although the users and the secret do not exist yet
    assert all(change["actions"] == ["create"] for change in changes.values())
    workspace.apply("tfplan").check()
    workspace.assert_idempotent()
    state = workspace.state()
    agent_id = state["module.agent.agyn_agent.this"]["id"]
    agent = agyn_platform.get("agents", agent_id).json()
    assert agent["model"] == state['module.org.agyn_model.this["smart"]']["id"]
    assert agent["configuration"] == {"system_prompt": "Review pull requests."}
    assert agent["runner_labels"] == {"zone": "eu"} and agent["capabilities"] == ["docker"]
    assert agent["resources"]["limits_cpu"] == "2"

    def listed(collection: str, **filters: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = agyn_platform.api.get(f"/api/v1/{collection}", params=filters).json()["items"]
        return items

    assert [s["name"] for s in listed("skills", agent_id=agent_id)] == ["review"]
    assert sorted(e["name"] for e in listed("envs", agent_id=agent_id)) == ["API_KEY", "LOG_LEVEL"]
    mcp_id = state['module.agent.agyn_mcp.this["files"]']["id"]
    assert [e["name"] for e in listed("envs", mcp_id=mcp_id)] == ["TOKEN"]
    hooks = listed("hooks", agent_id=agent_id)
    assert [h["event"] for h in hooks] == ["workload.started"]
    assert [e["name"] for e in listed("envs", hook_id=hooks[0]["id"])] == ["TOKEN"]
    shared = state["agyn_volume.shared"]["id"]
    assert sorted(a["agent_id"] or a["mcp_id"] for a in listed("volume-attachments", volume_id=shared)) == \
        sorted([agent_id, mcp_id])
    roles = agyn_platform.api.get("/api/v1/agent-roles", params={"agent_id": agent_id}).json()["items"]
    assert {(r["identity_id"], r["role"]) for r in roles} >= {(state["agyn_user.dana"]["id"], "maintainer")}
    printed = "\n".join(workspace.log)
    for secret in ("module-token-value", "module-secret-value", "module-plain-env-value"):
        assert secret not in printed
    workspace.destroy().check()
    assert agyn_platform.get("agents", agent_id).status_code == 404


def test_modules_do_not_load_on_older_terraform(tmp_path: Path, cli_config: Path,
                                               terraform_build: TerraformBuild) -> None:
    """Their `required_version` is truthful: Terraform before 1.3 cannot read their variable types (and
    Terraform 1.0 reports that, not the version constraint). When the modules load on an older
    Terraform, lower `required_version` and MODULES_TERRAFORM."""
    if terraform_build.at_least(*MODULES_TERRAFORM):
        pytest.skip(f"Terraform {terraform_build.name} runs the modules (test_modules_compose)")
    workspace = Workspace(tmp_path, terraform_env(cli_config), terraform_build)
    workspace.write(MODULES_ROOT.format(modules=REPOSITORY / "modules"))
    result = workspace.run("init", "-input=false", "-no-color")
    assert result.returncode == 1
    assert "Optional attribute modifier expects only one argument" in " ".join(result.output.split())
