"""Every rule of the registry, broken once, is refused by `terraform validate` and `terraform plan`
before anything is created, with one error on the right attribute (`tests/rule_cases.py` makes the
table from the registry).

One workspace per resource type holds its documented example and one copy of the `example` object
per rule (`bad_<n>`), each with one bad value; `validate -json` reports every diagnostic with the
block it belongs to (`snippet.context`) and the line it points at (`snippet.code`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

import pytest

from agyn.kit.resources import Kind
from tests.rule_cases import REGISTRY, Long, RuleCase, rule_cases
from tests.terraform.plugin import Platform, WorkspaceFactory, example

CASES = rule_cases()
BY_TYPE: dict[str, list[RuleCase]] = defaultdict(list)
for _case in CASES:
    BY_TYPE[_case.type].append(_case)


def hcl(value: Any) -> str:
    if isinstance(value, Long):
        return f'format("%0{value.length}d", 0)'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value).replace("${", "$${")
    if isinstance(value, list):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {hcl(v)}" for k, v in value.items()) + " }"
    return str(value)


def resource_block(kind: str, name: str, body: str, changes: dict[str, Any]) -> str:
    """The `example` object's block renamed, with these changes (a None value leaves the attribute out)."""
    blocks = {f.name for f in REGISTRY[kind].fields if f.kind == Kind.object}
    lines = body.splitlines()
    kept: list[str] = []
    skipping = ""
    for line in lines:
        if skipping:
            if line == skipping:
                skipping = ""
            continue
        found = re.match(r"^(\s+)(\w+)\s*[={]", line)
        if found and found.group(2) in changes:
            if line.rstrip().endswith("{"):
                skipping = f"{found.group(1)}}}"
            continue
        kept.append(line)
    assert kept[-1] == "}", body
    added = []
    for attribute, value in changes.items():
        if value is None:
            continue
        if attribute in blocks:
            added.append(f"  {attribute} {{\n" + "".join(f"    {k} = {hcl(v)}\n" for k, v in value.items()) + "  }")
        else:
            added.append(f"  {attribute} = {hcl(value)}")
    return "\n".join([f'resource "{kind}" "{name}" {{', *kept[1:-1], *added, "}"])


def example_block(config: str, kind: str) -> str:
    lines = config.splitlines()
    start = lines.index(f'resource "{kind}" "example" {{')
    return "\n".join(lines[start:lines.index("}", start) + 1])


def broken_config(kind: str, cases: list[RuleCase]) -> str:
    config = example("resources", kind)
    body = example_block(config, kind)
    return config + "\n" + "\n\n".join(resource_block(kind, f"bad_{n}", body, case.changes)
                                       for n, case in enumerate(cases)) + "\n"


def errors_by_block(output: str) -> dict[str, list[dict[str, Any]]]:
    diagnostics = json.loads(output)["diagnostics"]
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for diagnostic in diagnostics:
        assert diagnostic["severity"] == "error", diagnostic
        context = diagnostic.get("snippet", {}).get("context") or ""
        found[context].append(diagnostic)
    return found


def test_every_rule_has_a_case() -> None:
    """Each kind of rule the registry declares appears in the table."""
    rules = {case.rule.split(": ")[-1] for case in CASES} | {case.rule.split(" ")[0] for case in CASES}
    assert {"choices", "min_length", "max_length", "pattern", "duration", "positive", "json_object", "id",
            "key_pattern", "exactly", "together", "when"} <= rules
    assert any(case.attribute == "vault.address" for case in CASES)
    assert any(case.type == "agyn_hook" and case.attribute == "event" for case in CASES)


@pytest.mark.parametrize("kind", sorted(BY_TYPE))
def test_validate_refuses_every_rule_on_its_attribute(kind: str, terraform: WorkspaceFactory,
                                                      agyn_platform: Platform) -> None:
    cases = BY_TYPE[kind]
    workspace = terraform(broken_config(kind, cases), destroy=False)
    result = workspace.run("validate", "-json", "-no-color")
    assert result.returncode == 1, result.output
    errors = errors_by_block(result.stdout)
    assert not errors.get(f'resource "{kind}" "example"'), "the documented example itself must stay valid"
    for n, case in enumerate(cases):
        found = errors.get(f'resource "{kind}" "bad_{n}"', [])
        assert len(found) == 1, f"{case.id}: expected one error, got {[d['detail'] for d in found]}"
        diagnostic = found[0]
        assert diagnostic["summary"] == f"Invalid {case.attribute}", (case.id, diagnostic)
        detail = diagnostic["detail"]
        assert detail.startswith(f"{case.attribute}: "), (case.id, detail)
        for word in case.words:
            assert word in detail, (case.id, word, detail)
        assert "Value error" not in detail and "Input should" not in detail
        attribute = case.attribute.split(".")[-1]
        if case.changes.get(case.attribute.split(".")[0]) is not None:  # Terraform points at the line set
            assert diagnostic["snippet"]["code"].strip().startswith(attribute), (case.id, diagnostic["snippet"])
    assert not workspace.has_state


PLAN_ONLY = """
variable "availability" {
  type    = string
  default = "public"
}

variable "idle_timeout" {
  type    = string
  default = "5 minutes"
}

resource "agyn_organization" "acme" {
  name = "acme-plan-validation"
}

resource "agyn_agent" "late" {
  organization_id = agyn_organization.acme.id
  name            = "late"
  role            = "reviewer"
  model           = "00000000-0000-7000-8000-000000000001"
  availability    = var.availability
  idle_timeout    = var.idle_timeout
}

resource "agyn_env" "unknown_owner" {
  agent_id = agyn_agent.late.id
  mcp_id   = agyn_organization.acme.id
  name     = "X"
  value    = "v"
}
"""


def test_values_known_only_at_plan_are_checked_at_plan_and_unknown_ones_skipped(
        terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    """`validate` sees variables as unknown and skips their rules; `plan` knows them and refuses them
    before anything (not even the organization) is created. Values unknown until apply (ids of
    objects not created yet) are left to the API."""
    workspace = terraform(PLAN_ONLY, destroy=False)
    assert workspace.run("validate", "-no-color").returncode == 0
    result = workspace.plan()
    assert result.returncode == 1, result.output
    output = " ".join(result.output.split())
    assert 'availability: must be internal or private (got "public")' in output
    assert 'idle_timeout: must be a duration such as 30s, 5m or 1h30m (got "5 minutes")' in output
    assert output.count("Error:") == 2, output
    assert "exactly one of" not in output  # agent_id and mcp_id are unknown: decided by the API at apply
    assert not workspace.has_state
    names = [o["name"] for o in agyn_platform.api.get("/api/v1/organizations").json()["items"]]
    assert "acme-plan-validation" not in names


def test_a_duplicate_name_points_at_name_with_the_existing_id_and_how_to_import_it(
        terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    created = agyn_platform.api.post("/api/v1/organizations", json={"name": "taken-by-hand"})
    assert created.status_code == 201, created.text
    existing = created.json()["id"]
    again = agyn_platform.api.post("/api/v1/organizations", json={"name": "taken-by-hand"}).json()
    assert again["existing_id"] == existing and [e["field"] for e in again["errors"]] == ["name"]

    workspace = terraform('resource "agyn_organization" "team" {\n  name = "taken-by-hand"\n}\n')
    result = workspace.apply()
    assert result.returncode == 1, result.output
    output = " ".join(result.output.split())
    assert f"an organization named 'taken-by-hand' already exists (id {existing})" in output
    assert f"terraform import agyn_organization.<name> {existing}" in output
    assert 'name = "taken-by-hand"' in output  # Terraform points at the attribute, not the whole resource
    assert output.count("Error:") == 1

    workspace.import_("agyn_organization.team", existing).check()  # the hint works as written
    assert workspace.plan().returncode == 0
    workspace.destroy().check()
