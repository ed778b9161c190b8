"""The committed provider docs (`provider-bridge/docs/`) are what the generator makes of the registry
and the examples now: a new resource, field or example needs `python -m agyn_provider.docs`."""

from __future__ import annotations

from agyn_provider.docs import render, stale


def test_committed_docs_are_up_to_date() -> None:
    outdated = stale(render())
    assert not outdated, f"stale provider docs {outdated}: run `python -m agyn_provider.docs`"


def test_every_page_has_an_example_and_a_schema() -> None:
    for path, page in render().items():
        assert "## Example Usage\n\n```terraform\n" in page and "## Schema" in page, path
