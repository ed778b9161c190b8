"""The registry's rules hold at the API exactly as the Terraform provider and the CDK apply them: the
same table (`tests/rule_cases.py`, one bad value per rule), sent to the API, is refused with 400 and
one error on the same attribute, in the same words (no pydantic wording)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from agyn.kit.resources import Kind
from tests.conftest import Api, assert_problem
from tests.resources.fixtures_all import SPECS, World, build_world
from tests.rule_cases import Long, RuleCase, rule_cases

CASES = [case for case in rule_cases() if not case.rule.endswith("json_syntax")]  # an API body is JSON already


@pytest_asyncio.fixture(scope="module")
async def world(module_api: Api) -> AsyncIterator[World]:
    yield await build_world(module_api)


def api_value(case: RuleCase, name: str, value: Any) -> Any:
    """A case's value as a client sends it: a JSON document as JSON, a long string as its text."""
    if isinstance(value, Long):
        return value.text
    if isinstance(value, dict):
        return {k: api_value(case, k, v) for k, v in value.items()}
    if name in {f.name for f in case.declaration.fields if f.kind == Kind.json} and isinstance(value, str):
        return json.loads(value)
    return value


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_the_api_refuses_every_rule_on_its_attribute(case: RuleCase, world: World) -> None:
    spec = SPECS[case.declaration.collection]
    body = await world.body(spec.kind)
    for name, value in case.changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = api_value(case, name, value)
    response = await world.client.post(spec.path, headers=world.headers(spec.creator), json=body)
    problem = assert_problem(response, 400, "invalid_argument")
    errors = problem.get("errors", [])
    assert [e["field"] for e in errors] == [case.attribute], (case.id, problem)
    for word in case.words:
        assert word in errors[0]["message"], (case.id, word, errors[0]["message"])
    assert "Value error" not in problem["detail"] and "Input should" not in problem["detail"]
