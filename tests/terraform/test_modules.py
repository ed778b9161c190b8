"""The modules' `validation` blocks agree with the resource registry (choices, patterns with their
messages, lengths), and a mistake in a module's input fails at plan on the module's variable."""

from __future__ import annotations

import json
import re

import pytest

from agyn.kit.resources import Field, Kind
from tests.rule_cases import REGISTRY
from tests.terraform.plugin import TerraformBuild
from tests.terraform.test_examples import MODULES_TERRAFORM, REPOSITORY, WorkspaceFrom, workspace_from

__all__ = ["workspace_from"]  # the fixture, for this module's tests
MODULES = REPOSITORY / "modules"

# (module, variable, registry resource, field): the variable (or each key / item of it) is that field
CHECKED = [
    ("agent", "name", "agyn_agent", "name"),
    ("agent", "nickname", "agyn_agent", "nickname"),
    ("agent", "role", "agyn_agent", "role"),
    ("agent", "availability", "agyn_agent", "availability"),
    ("agent", "env", "agyn_env", "name"),
    ("agent", "secret_envs", "agyn_env", "name"),
    ("agent", "mcp_servers", "agyn_mcp", "name"),
    ("agent", "skills", "agyn_skill", "name"),
    ("agent", "hooks", "agyn_hook", "event"),
    ("agent", "volumes", "agyn_volume", "name"),
    ("agent", "roles", "agyn_agent_role", "role"),
    ("organization", "name", "agyn_organization", "name"),
    ("organization", "members", "agyn_membership", "role"),
    ("organization", "llm_provider", "agyn_llm_provider", "endpoint"),
    ("organization", "llm_provider", "agyn_llm_provider", "protocol"),
    ("organization", "llm_provider", "agyn_llm_provider", "auth_method"),
    ("organization", "models", "agyn_model", "name"),
]


def variable_block(module: str, name: str) -> str:
    text = (MODULES / module / "variables.tf").read_text()
    start = text.index(f'variable "{name}" {{')
    end = text.find('\nvariable "', start + 1)
    return text[start:end if end > 0 else len(text)]


def hcl_string(text: str) -> str:
    return json.dumps(text)[1:-1]


def expected_rules(field: Field) -> list[str]:
    """What the variable's validation must say for the field's rules (the registry's own words)."""
    found = []
    if field.kind == Kind.enum:
        found.append("contains([" + ", ".join(f'"{c}"' for c in field.choices) + "]")
        found.append(", ".join(field.choices[-1:]))
    if field.pattern:
        found.append(f'regex("^(?:{hcl_string(field.pattern)})$"')
        found.append(str(field.pattern_message))
    if field.min_length and field.max_length and not field.pattern:
        found.append(f">= {field.min_length} &&")
        found.append(f"<= {field.max_length}")
    return found


@pytest.mark.parametrize(("module", "variable", "kind", "field"), CHECKED, ids=lambda v: str(v))
def test_validation_blocks_state_the_registry_rules(module: str, variable: str, kind: str, field: str) -> None:
    block = variable_block(module, variable)
    rules = expected_rules(REGISTRY[kind].field(field))
    assert rules, f"{kind}.{field} has no rule for the module to state"
    for rule in rules:
        assert rule in block, f"modules/{module} variable {variable} does not state {rule!r} of {kind}.{field}"


def test_every_enum_and_pattern_of_the_agent_is_checked() -> None:
    """The agent module validates each field of `agyn_agent` it takes that has a choice or a pattern."""
    checked = {(kind, field) for module, _, kind, field in CHECKED if module == "agent"}
    agent = REGISTRY["agyn_agent"]
    ruled = {("agyn_agent", f.name) for f in agent.input_fields if f.choices or f.pattern}
    assert ruled <= checked


def test_modules_require_the_terraform_their_syntax_needs() -> None:
    for versions in MODULES.glob("*/versions.tf"):
        uses_optional = any("optional(" in f.read_text() for f in versions.parent.glob("*.tf"))
        uses_precondition = any("precondition" in f.read_text() for f in versions.parent.glob("*.tf"))
        needed = "1.3" if uses_optional else "1.2" if uses_precondition else "1.0"
        assert re.search(rf'required_version = ">= {re.escape(needed)}"', versions.read_text()), versions


BAD_INPUTS = """
terraform {{
  required_providers {{
    agyn = {{ source = "agynio/agyn", version = ">= 0.1.0" }}
  }}
}}

module "org" {{
  source = "{modules}/organization"
  name   = "bad-inputs"
  models = {{ fast = "small-1" }}
}}

module "agent" {{
  source          = "{modules}/agent"
  organization_id = module.org.organization_id
  name            = "helper"
  nickname        = "Helper Bot"
  availability    = "everyone"
  model_id        = "00000000-0000-7000-8000-000000000001"
  hooks           = {{ start = {{ event = "on_banana", function = "f" }} }}
}}
"""


def test_bad_module_inputs_fail_at_plan_on_the_variable(workspace_from: WorkspaceFrom,
                                                        terraform_build: TerraformBuild) -> None:
    if not terraform_build.at_least(*MODULES_TERRAFORM):
        pytest.skip("modules/ need Terraform >= 1.3")
    workspace = workspace_from(main=BAD_INPUTS.format(modules=MODULES))
    result = workspace.plan()
    assert result.returncode == 1, result.output
    output = " ".join(result.output.split())
    assert "nickname: use 1 to 32 characters from a-z, 0-9, '_' and '-'." in output
    assert "availability must be internal or private." in output
    assert "hooks: each event must be one of workload.started" in output
    workspace.write(BAD_INPUTS.format(modules=MODULES).split('module "agent"')[0])
    result = workspace.plan()
    assert result.returncode == 1 and "models need an llm_provider" in " ".join(result.output.split())
    assert not workspace.has_state

