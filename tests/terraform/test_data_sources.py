"""Data sources through the real `terraform` CLI: each documented example finds the object its
resource example created, so do the other lookups the registry declares; a lookup of nothing, or of
several objects, fails saying so."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.terraform.plugin import REGISTRY, WorkspaceFactory, example, flat


@dataclass(frozen=True)
class DataCase:
    type: str
    found: str  # the resource (of its resource example) every lookup finds
    alternatives: tuple[str, ...]  # other lookups (block bodies) that find it
    missing: str  # a lookup that finds nothing

    @property
    def setup(self) -> str:
        return example("resources", self.found.split(".")[0])

    def config(self) -> str:
        blocks = [f'data "{self.type}" "alternative_{i}" {{\n  {body}\n}}\n' for i, body in enumerate(self.alternatives)]
        return "\n".join([self.setup, example("data-sources", self.type), *blocks])


CASES = [
    DataCase("agyn_organization", "agyn_organization.example", ("id = agyn_organization.example.id",),
             missing='name = "no-such-organization"'),
    DataCase("agyn_user", "agyn_user.example", ('oidc_subject = "example|alice"', "id = agyn_user.example.id"),
             missing='username = "nobody"'),
    DataCase("agyn_model", "agyn_model.example", (),
             missing='organization_id = agyn_organization.acme.id\n  name = "no-such-model"'),
    DataCase("agyn_agent", "agyn_agent.example", (),
             missing='organization_id = agyn_organization.acme.id\n  name = "nobody"'),
    DataCase("agyn_secret", "agyn_secret.example", (),
             missing='organization_id = agyn_organization.acme.id\n  name = "no-such-secret"'),
    DataCase("agyn_app", "agyn_app.example", (), missing='slug = "no-such-app"'),
    DataCase("agyn_llm_provider", "agyn_llm_provider.example", (),
             missing='organization_id = agyn_organization.acme.id\n  name = "no-such-provider"'),
    DataCase("agyn_secret_provider", "agyn_secret_provider.example", (),
             missing='organization_id = agyn_organization.acme.id\n  name = "no-such-provider"'),
    DataCase("agyn_volume", "agyn_volume.example", (),
             missing='organization_id = agyn_organization.acme.id\n  name = "no-such-volume"'),
    DataCase("agyn_runner", "agyn_runner.example", ('name = "gpu-pool"\n  organization_id = agyn_organization.acme.id',),
             missing='name = "no-such-runner"'),
]


def test_every_declared_data_source_has_a_case() -> None:
    assert {c.type for c in CASES} == {t for t, r in REGISTRY.items() if r.data_source is not None}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.type)
def test_every_lookup_finds_the_object(case: DataCase, terraform: WorkspaceFactory) -> None:
    workspace = terraform(case.setup)
    workspace.apply().check()
    workspace.write(case.config())
    workspace.apply().check()
    workspace.assert_idempotent()
    state = workspace.state()
    resource = state[case.found]
    lookups = [address for address in state if address.startswith(f"data.{case.type}.")]
    assert len(lookups) == 1 + len(case.alternatives)
    for address in lookups:
        found = state[address]
        assert found["id"] == resource["id"], address
        shared = set(found) & set(resource)
        readable = {k: ({sub: v[sub] for sub in found[k]} if isinstance(v, dict) and isinstance(found[k], dict) else v)
                    for k, v in resource.items() if k in shared}  # write-only parts of objects are not read
        assert {k: found[k] for k in shared} == readable, address


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.type)
def test_a_lookup_of_nothing_fails(case: DataCase, terraform: WorkspaceFactory) -> None:
    workspace = terraform(case.setup + f'\ndata "{case.type}" "missing" {{\n  {case.missing}\n}}\n')
    result = workspace.apply()
    assert result.returncode == 1, result.output
    output = flat(result.output)
    assert f"Cannot read data.{case.type}" in output and "is visible to this token" in output, output


def test_an_ambiguous_lookup_asks_for_more(terraform: WorkspaceFactory) -> None:
    runner = 'resource "agyn_runner" "{org}" {{\n  organization_id = agyn_organization.{org}.id\n  name = "shared"\n}}\n'
    workspace = terraform(
        'resource "agyn_organization" "one" {\n  name = "one"\n}\n'
        'resource "agyn_organization" "two" {\n  name = "two"\n}\n'
        + runner.format(org="one") + runner.format(org="two"))
    workspace.apply().check()
    workspace.write(workspace.directory.joinpath("main.tf").read_text()
                    + 'data "agyn_runner" "shared" {\n  name = "shared"\n}\n')
    result = workspace.apply()
    assert result.returncode == 1, result.output
    assert "2 objects match name = 'shared'; set organization_id to narrow the lookup" in flat(result.output)


def test_an_agent_is_looked_up_by_name_never_as_the_only_one(terraform: WorkspaceFactory) -> None:
    result = terraform('data "agyn_agent" "any" {\n  organization_id = "00000000-0000-7000-8000-000000000001"\n}\n'
                       ).run("validate", "-no-color")
    assert result.returncode == 1, result.output
    assert 'The argument "name" is required' in flat(result.output)


def test_a_lookup_needs_one_of_its_fields(terraform: WorkspaceFactory) -> None:
    result = terraform('data "agyn_organization" "any" {}\n').plan()
    assert result.returncode == 1, result.output
    output = flat(result.output)
    assert "Cannot read data.agyn_organization" in output and "set id or name" in output, output
