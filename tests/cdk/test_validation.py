"""The CDK refuses every rule of the registry at construction (before synth writes anything), with
the attribute and the rule: the same table as the provider's (`tests/rule_cases.py`), through the L1
classes, and the common mistakes through the L2 constructs."""

from __future__ import annotations

from typing import Any

import pytest

from agyn_cdk import Agent, FromSecret, Hook, LlmCatalogProps, McpServer, Organization, Volume, l1
from agyn_cdk.base import InvalidConfiguration
from tests.rule_cases import REGISTRY, SOME_ID, RuleCase, plain, rule_cases, valid_attributes

CASES = rule_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_l1_refuses_every_rule(case: RuleCase, stack: Any) -> None:
    attributes = {**valid_attributes(case.declaration), **{k: plain(v) for k, v in case.changes.items()}}
    construct = getattr(l1, f"Agyn{case.declaration.title}")
    with pytest.raises(InvalidConfiguration) as raised:
        construct(stack, "bad", **{k: v for k, v in attributes.items() if v is not None})
    lines = str(raised.value).splitlines()
    assert lines[0] == f"{case.type} at test/bad is invalid:"
    assert len(lines) == 2, lines  # one error: this rule's
    assert lines[1].startswith(f"  - {case.attribute}: "), lines
    for word in case.words:
        assert word in lines[1], (word, lines[1])


def test_valid_attributes_construct(stack: Any) -> None:
    for resource in REGISTRY.values():
        getattr(l1, f"Agyn{resource.title}")(stack, resource.name, **valid_attributes(resource))


def test_references_are_not_known_so_their_rules_wait(stack: Any) -> None:
    """A value that is a reference (a token) is checked by Terraform at plan, when it is known."""
    org = l1.AgynOrganization(stack, "org", name="acme")
    variable = l1.cdk.TerraformVariable(stack, "availability", type="string")
    l1.AgynAgent(stack, "agent", organization_id=org.id, name="a", role="r", model=SOME_ID,
                 availability=variable.string_value)
    l1.AgynEnv(stack, "env", agent_id=org.id, mcp_id=variable.string_value, name="X", value="v")


def agent(stack: Any, **overrides: Any) -> Agent:
    options: dict[str, Any] = {"organization_id": SOME_ID, "name": "reviewer", "role": "reviews", "model": SOME_ID}
    return Agent(stack, "reviewer", **{**options, **overrides})


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"availability": "public"}, 'agyn_agent at test/reviewer/agent is invalid:\n  - availability: must be internal '
                                 'or private (got "public")'),
    ({"idle_timeout": "5 minutes"}, "idle_timeout: must be a duration such as 30s, 5m or 1h30m"),
    ({"nickname": "Helper Bot"}, "nickname: use 1 to 32 characters"),
    ({"model": "gpt-4o"}, 'model: must be the id of a model (a UUID), not "gpt-4o"'),
    ({"hooks": [Hook(event="on_banana", function="f")]}, 'event: must be one of workload.started'),
    ({"env": {"1BAD": "v"}}, "name: must be an environment variable name"),
    ({"mcp_servers": [McpServer(name="files", command="serve", env={"bad-name": "v"})]},
     "mcp-files/env-bad-name is invalid:\n  - name: must be an environment variable name"),
    ({"mcp_servers": [McpServer(name="files", command="serve", env={"TOKEN": FromSecret("by-name")})]},
     'secret_id: must be the id of a secret (a UUID), not "by-name"'),
    ({"volumes": [Volume(name="cache", mount_path="/cache", persistent=True)]},
     "size: is required when persistent is true"),
    ({"volumes": [Volume(name="cache", mount_path="/cache", ttl="1d")]}, "ttl: must be a duration"),
], ids=["availability", "idle_timeout", "nickname", "model", "hook-event", "env-name", "mcp-env-key", "secret-id",
        "volume-size", "volume-ttl"])
def test_l2_mistakes_fail_before_synth(stack: Any, overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidConfiguration) as raised:
        agent(stack, **overrides)
    assert expected in str(raised.value)
    assert "Value error" not in str(raised.value) and "Input should" not in str(raised.value)


def test_l2_organization_catalog_is_checked(stack: Any) -> None:
    with pytest.raises(InvalidConfiguration, match="endpoint: must be an http"):
        Organization(stack, "acme", name="acme",
                     llm=LlmCatalogProps(endpoint="not a url", token="t", models={"m": "m"}))
