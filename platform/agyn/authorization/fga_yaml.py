"""Run an `fga model test` file (`*.fga.yaml`) on the embedded engine.

The same file runs under the real OpenFGA engine (`fga model test`); comparing the two outcome lists
assertion by assertion is how the embedded engine is held to OpenFGA's semantics. As in the
`fga` CLI, each test gets a fresh store with the file's tuples plus the test's own tuples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from agyn.authorization import dsl
from agyn.authorization.engine import (
    AuthorizationError,
    Engine,
    InMemoryTupleStore,
    TupleKey,
)


class TestFileError(ValueError):
    """The test file itself is malformed or uses something this runner does not support."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True, slots=True)
class Outcome:
    """One assertion: `subject` is the object of a check, or the object type of a list_objects."""

    test: str
    kind: Literal["check", "list_objects"]
    user: str
    relation: str
    subject: str
    expected: bool | tuple[str, ...]
    actual: bool | tuple[str, ...] | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.actual == self.expected

    def describe(self) -> str:
        call = (
            f"Check({self.user}, {self.relation}, {self.subject})"
            if self.kind == "check"
            else f"ListObjects({self.user}, {self.relation}, type={self.subject})"
        )
        result = f"error: {self.error}" if self.error else f"got {_show(self.actual)}"
        return f"[{self.test}] {call}: expected {_show(self.expected)}, {result}"


def _show(value: bool | tuple[str, ...] | None) -> str:
    return f"[{', '.join(value)}]" if isinstance(value, tuple) else str(value).lower()


def list_result(objects: Any) -> tuple[str, ...]:
    """list_objects results compare as sets, as in the `fga` CLI."""
    return tuple(sorted(set(objects or ())))


def run_file(path: str | Path) -> list[Outcome]:
    """Every check and list_objects assertion of the file, in file order."""
    path = Path(path)
    document = _load_yaml(path)
    engine = Engine(_load_model(document, path.parent))
    shared = _tuples(document, path.parent, "the file")
    outcomes: list[Outcome] = []
    for test in document.get("tests") or []:
        name = str(test.get("name", ""))
        if test.get("list_users"):
            raise TestFileError(f"test {name!r}: list_users assertions are not supported by the embedded engine")
        store = InMemoryTupleStore()
        for key in shared + _tuples(test, path.parent, f"test {name!r}"):
            try:
                engine.validate_tuple(key)
            except AuthorizationError as exc:
                raise TestFileError(f"test {name!r}: tuple {key}: {exc}") from exc
            store.add(key)
        outcomes.extend(_run_checks(engine, store, name, test.get("check") or []))
        outcomes.extend(_run_list_objects(engine, store, name, test.get("list_objects") or []))
    return outcomes


def _run_checks(engine: Engine, store: InMemoryTupleStore, test: str, checks: list[Mapping[str, Any]]) -> list[Outcome]:
    outcomes = []
    for check in checks:
        _reject_context(check, test)
        for relation, expected in (check.get("assertions") or {}).items():
            actual, error = None, None
            try:
                actual = engine.check(store, check["user"], relation, check["object"])
            except AuthorizationError as exc:
                error = str(exc)
            outcomes.append(
                Outcome(test, "check", check["user"], relation, check["object"], bool(expected), actual, error)
            )
    return outcomes


def _run_list_objects(
    engine: Engine, store: InMemoryTupleStore, test: str, queries: list[Mapping[str, Any]]
) -> list[Outcome]:
    outcomes = []
    for query in queries:
        _reject_context(query, test)
        for relation, expected in (query.get("assertions") or {}).items():
            actual, error = None, None
            try:
                actual = list_result(engine.list_objects(store, query["user"], relation, query["type"]))
            except AuthorizationError as exc:
                error = str(exc)
            outcomes.append(
                Outcome(
                    test, "list_objects", query["user"], relation, query["type"], list_result(expected), actual, error
                )
            )
    return outcomes


def _reject_context(assertion: Mapping[str, Any], test: str) -> None:
    if assertion.get("context"):
        raise TestFileError(f"test {test!r}: `context` (conditions) is not supported by the embedded engine")


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TestFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise TestFileError(f"{path}: expected a mapping with model_file/model, tuples and tests")
    return document


def _load_model(document: Mapping[str, Any], base: Path) -> dsl.AuthorizationModel:
    if document.get("model"):
        return dsl.parse(document["model"])
    if document.get("model_file"):
        return dsl.parse_file(base / document["model_file"])
    raise TestFileError("the test file names no model: set `model_file` or `model`")


def _tuples(section: Mapping[str, Any], base: Path, where: str) -> list[TupleKey]:
    raw = list(section.get("tuples") or [])
    for name in [section.get("tuple_file"), *(section.get("tuple_files") or [])]:
        if name:
            if Path(name).suffix not in (".yaml", ".yml", ".json"):
                raise TestFileError(f"{where}: tuple file {name!r}: only YAML and JSON tuple files are supported")
            raw.extend(_load_yaml_list(base / name))
    keys = []
    for item in raw:
        if item.get("condition"):
            raise TestFileError(f"{where}: conditional tuples are not supported by the embedded engine")
        try:
            keys.append(TupleKey(item["user"], item["relation"], item["object"]))
        except (KeyError, TypeError) as exc:
            raise TestFileError(f"{where}: a tuple needs user, relation and object: {item!r}") from exc
    return keys


def _load_yaml_list(path: Path) -> list[Any]:
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TestFileError(f"tuple file {path}: {exc}") from exc
    if not isinstance(items, list):
        raise TestFileError(f"tuple file {path}: expected a list of tuples")
    return items
