"""The comparisons behind "no spurious diff" (`agyn_provider.values`), field kind by field kind."""

from __future__ import annotations

from typing import Any

import pytest
from tf.types import Unknown

from agyn.kit.resources import Field, duration, json_object, nested, string, string_list, string_map
from agyn_provider.values import from_api, same, short_duration, to_api

NAME = string("name", "")
DESCRIPTION = string("description", "")
WITH_DEFAULT = string("email", "", default="")
TOKEN = string("token", "", sensitive=True)
SERVICE_TOKEN = string("service_token", "", computed=True, sensitive=True, once=True)
LABELS = string_map("labels", "")
TAGS = string_list("tags", "")
CONFIGURATION = json_object("configuration", "")
TIMEOUT = duration("idle_timeout", "")
VAULT = nested("vault", "", (string("address", ""), string("token", "", sensitive=True)))


@pytest.mark.parametrize(("field", "api", "known", "state"), [
    (NAME, "acme", None, "acme"),
    (DESCRIPTION, "", None, None),  # empty and null are the same: keep what Terraform had
    (DESCRIPTION, None, "", ""),
    (WITH_DEFAULT, "", None, ""),  # a default is a value, also after an import
    (LABELS, {}, None, None),
    (LABELS, None, {}, {}),
    (TAGS, [], None, None),
    (TAGS, ["a"], None, ["a"]),
    (TOKEN, None, "sk-1", "sk-1"),  # write-only: never read back
    (TOKEN, None, None, None),  # after an import Terraform cannot know it
    (SERVICE_TOKEN, "agyn_x", Unknown, "agyn_x"),  # shown once, in the create response
    (SERVICE_TOKEN, None, "agyn_x", "agyn_x"),
    (CONFIGURATION, {"b": 1, "a": [1, 2]}, '{ "a": [1, 2], "b": 1 }', '{ "a": [1, 2], "b": 1 }'),
    (CONFIGURATION, {"a": 1, "added": True}, '{"a": 1}', '{"a": 1}'),  # keys the API added
    (CONFIGURATION, {"a": 2}, '{"a": 1}', '{"a":2}'),  # a changed value is drift
    (CONFIGURATION, {"b": 1, "a": {"c": "é"}}, None, '{"a":{"c":"é"},"b":1}'),  # import: jsonencode's spelling
    (TIMEOUT, "5m0s", "5m", "5m"),
    (TIMEOUT, "5m0s", "300s", "300s"),
    (TIMEOUT, "7m0s", "5m", "7m"),
    (TIMEOUT, "1h30m0s", None, "1h30m"),
    (VAULT, {"address": "https://v"}, {"address": "https://old", "token": "t"}, {"address": "https://v", "token": "t"}),
])
def test_from_api(field: Field, api: Any, known: Any, state: Any) -> None:
    assert from_api(field, api, known) == state


@pytest.mark.parametrize(("text", "short"), [
    ("5m0s", "5m"), ("1h0m0s", "1h"), ("1h30m0s", "1h30m"), ("1h0m5s", "1h0m5s"), ("0s", "0s"), ("1.5s", "1.5s"),
    ("300ms", "300ms"),
])
def test_short_durations_drop_trailing_zero_units(text: str, short: str) -> None:
    assert short_duration(text) == short


def test_semantic_equality() -> None:
    assert same(TIMEOUT, "5m", "300s") and not same(TIMEOUT, "5m", "6m")
    assert same(CONFIGURATION, '{"a": 1}', '{"a":1}') and not same(CONFIGURATION, '{"a": 1}', '{"a": 2}')
    assert same(LABELS, None, {}) and same(TAGS, [], None) and not same(NAME, None, "")
    assert not same(NAME, Unknown, "x") and same(NAME, Unknown, Unknown)


def test_to_api_sends_documents_and_leaves_out_unset_nested_values() -> None:
    assert to_api(CONFIGURATION, '{"a": [1]}') == {"a": [1]}
    assert to_api(VAULT, {"address": "https://v", "token": None}) == {"address": "https://v"}
    assert to_api(NAME, None) is None
