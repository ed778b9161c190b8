"""The committed provider docs (`provider-bridge/docs/`) are what the generator makes of the registry
and the examples now: a new resource, field or example needs `python -m agyn_provider.docs`."""

from __future__ import annotations

from agyn.agents.resources import HOOK_EVENTS
from agyn.kit import rules
from agyn.modules import load_registry
from agyn_provider.docs import render, stale


def test_committed_docs_are_up_to_date() -> None:
    outdated = stale(render())
    assert not outdated, f"stale provider docs {outdated}: run `python -m agyn_provider.docs`"


def test_every_page_has_an_example_and_a_schema() -> None:
    for path, page in render().items():
        assert "## Example Usage\n\n```terraform\n" in page and "## Schema" in page, path


def test_every_resource_page_states_every_rule_of_the_registry() -> None:
    """Each field's rules (choices, lengths, patterns with their messages, durations, ids, map keys) and
    the rules across fields are on the resource's page, in the words `agyn.kit.rules` uses."""
    pages = render()
    for resource in load_registry():
        page = " ".join(pages[f"resources/{resource.name}.md"].split())
        for field in resource.input_fields:
            for sub in (field, *field.fields):
                for rule in rules.field_rules(sub):
                    assert " ".join(rule.split()) in page, (resource.name, sub.name, rule)
        for rule in rules.resource_rules(resource):
            assert rule in page, (resource.name, rule)
        for names in resource.unique_together:
            assert f"`{names[-1]}` is unique" in page, (resource.name, names)


def test_hook_events_and_model_ids_are_documented() -> None:
    pages = render()
    for event in HOOK_EVENTS:
        assert f"`{event}`" in pages["resources/hook.md"]
    assert "not the model's name" in pages["resources/agent.md"]


def test_data_source_lookups_say_what_they_match() -> None:
    for resource in load_registry():
        if resource.data_source is None:
            continue
        page = render()[f"data-sources/{resource.name}.md"]
        for name in resource.data_source.lookup:
            assert f"- `{name}` (String) The {name} of the {resource.name.replace('_', ' ')} to find" in page
        assert "Changing it replaces" not in page and "Default `" not in page
