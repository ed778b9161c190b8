"""Randomized differential testing: generated stores answered by OpenFGA, the embedded engine and a
reference evaluator.

A store is random tuples over a model (a few objects per type, several tuples per relation, so
objects get several parents and groups nest and cycle) plus checks and list_objects queries over
every kind of user the model admits (plain objects, `type:*`, `type:id#relation`). Each store is
one test of a generated `.fga.yaml` whose expectations are the embedded engine's answers; `fga model
test --verbose` then reports OpenFGA's own answer to every query, so one process answers a few
thousand queries. Every store is derived from (seed, model, index) alone and can be replayed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agyn.authorization import dsl
from agyn.authorization.engine import MODEL_FILE, AuthorizationError, Engine, InMemoryTupleStore, TupleKey
from agyn.authorization.fga_yaml import Outcome, list_result
from tests.authorization.fga_cli import run_fga
from tests.authorization.reference import ReferenceEvaluator

# Every construct the engine supports: direct types, `t:*`, `t#rel` (of direct and computed
# relations), computed usersets, `from` over one and over several parent types (not all of which
# define the relation), recursive `from`, nested and cyclic groups, `or`, `and`, `but not`, parentheses.
ORGANIZATIONS_MODEL = """\
model
  schema 1.1

type user

type team
  relations
    define lead: [user]
    define member: [user, user:*, team#member] or lead

type org
  relations
    define admin: [user, team#member]
    define member: [user, team#member] or admin
    define banned: [user, user:*, team#lead]

type folder
  relations
    define org: [org]
    define parent: [folder]
    define owner: [user, team#lead]
    define viewer: [user, user:*, team#member, org#member] or owner or viewer from parent
    define editor: ([user] or owner or admin from org) but not banned from org

type doc
  relations
    define parent: [folder, org]
    define owner: [user]
    define reviewer: [user, team#lead]
    define blocked: [user, team#lead, org#banned]  # acyclic: see GRAPH_MODEL
    define editor: [user, team#member] or owner or editor from parent
    define viewer: ([user:*, team#member] or editor or viewer from parent) but not blocked
    define approver: editor and reviewer and member from parent
    define can_share: (owner or admin from parent) and (viewer but not reviewer)
"""

# Recursion under `and` and `but not`, through cycles of `from` and of usersets. What the subtract of a
# `but not` reaches is kept acyclic (here and in ORGANIZATIONS_MODEL): where OpenFGA meets a cycle
# there, a cycle flag makes the whole exclusion "not allowed", or not, depending on the resolution
# strategy it picks and even on goroutine scheduling. Seen with fga 0.8.2 / OpenFGA v1.22.0:
# `define shut: (deny or shut from next) but not open` answers one query differently from run to
# run; `viewer from parent but not blocked` with `blocked: [team#member]` over two teams nested in
# each other denies `team:t0#member` but allows a plain user in the same place. The engine reads a
# cycle as "grants nothing" everywhere; Agyn's model has no recursive relation, so this cannot arise.
GRAPH_MODEL = """\
model
  schema 1.1

type user

type node
  relations
    define next: [node]
    define allowed: [user, user:*, node#reach]
    define deny: [user, node#next]
    define reach: allowed or reach from next
    define open: reach but not deny
    define gated: reach and allowed from next
    define both: open and gated
"""

MODELS: dict[str, str] = {
    "agyn": MODEL_FILE.read_text(encoding="utf-8"),
    "organizations": ORGANIZATIONS_MODEL,
    "graph": GRAPH_MODEL,
}

Query = tuple[str, str, str]  # (user, relation, object) for a check; (user, relation, type) for list_objects


@dataclass(frozen=True, slots=True)
class Store:
    name: str
    tuples: tuple[TupleKey, ...]
    checks: tuple[Query, ...]
    lists: tuple[Query, ...]


def generate_store(
    model: dsl.AuthorizationModel, rng: random.Random, name: str, *, checks: int = 250, lists: int = 40
) -> Store:
    """Random tuples that the model accepts, and up to `checks` checks and `lists` list_objects over them."""
    objects = {t: [f"{t}:{t[0]}{i}" for i in range(rng.randint(2, 4))] for t in model.types}
    parents = tupleset_relations(model)
    tuples: dict[TupleKey, None] = {}
    for type_def in model.types.values():
        for relation in type_def.relations.values():
            restrictions = relation.directly_related
            if not restrictions:
                continue
            # objects often get several parents: following only some of them is a bug to catch
            weights = (2, 3, 3, 2) if (type_def.name, relation.name) in parents else (4, 3, 2, 1)
            for obj in objects[type_def.name]:
                for _ in range(rng.choices((0, 1, 2, 3), weights=weights)[0]):
                    r = rng.choice(restrictions)
                    if r.wildcard:
                        user = f"{r.type}:*"
                    elif r.relation:
                        user = f"{rng.choice(objects[r.type])}#{r.relation}"
                    else:
                        user = rng.choice(objects[r.type])
                    if user != f"{obj}#{relation.name}":  # OpenFGA refuses a tuple that is implicit
                        tuples[TupleKey(user, relation.name, obj)] = None
    users = sorted(_query_users(model, objects))
    relations = [(t.name, r) for t in model.types.values() for r in t.relations]
    all_checks = [(u, r, o) for u in users for t, r in relations for o in objects[t]]
    all_lists = [(u, r, t) for u in users for t, r in relations]
    return Store(
        name,
        tuple(tuples),
        tuple(rng.sample(all_checks, min(checks, len(all_checks)))),
        tuple(rng.sample(all_lists, min(lists, len(all_lists)))),
    )


def tupleset_relations(model: dsl.AuthorizationModel) -> set[tuple[str, str]]:
    """The (type, relation) pairs used after `from`: an object's parents."""
    return {(t.name, node.tupleset) for t in model.types.values() for r in t.relations.values()
            for node in _walk(r.rewrite) if isinstance(node, dsl.TupleToUserset)}


def _walk(rewrite: dsl.Rewrite) -> list[dsl.Rewrite]:
    if isinstance(rewrite, dsl.Union | dsl.Intersection):
        return [rewrite, *(n for c in rewrite.children for n in _walk(c))]
    if isinstance(rewrite, dsl.Difference):
        return [rewrite, *_walk(rewrite.base), *_walk(rewrite.subtract)]
    return [rewrite]


def _query_users(model: dsl.AuthorizationModel, objects: dict[str, list[str]]) -> set[str]:
    users: set[str] = set()
    for type_def in model.types.values():
        for relation in type_def.relations.values():
            for r in relation.directly_related:
                if r.wildcard:
                    users.add(f"{r.type}:*")
                    users.update(objects[r.type])
                elif r.relation:
                    users.update(f"{o}#{r.relation}" for o in objects[r.type])
                else:
                    users.update(objects[r.type])
    return users


def generate_stores(seed: int, model_name: str, count: int) -> list[Store]:
    """Store i of a model depends only on (seed, model, i): a failure replays with the same seed."""
    model = dsl.parse(MODELS[model_name])
    return [
        generate_store(model, random.Random(f"{seed}/{model_name}/{i}"), f"{model_name}-{seed}-{i}")
        for i in range(count)
    ]


# --- answering ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Disagreement:
    store: Store
    kind: str
    query: Query
    openfga: Any
    engine: Any
    reference: Any

    def describe(self) -> str:
        user, relation, subject = self.query
        call = f"Check({user}, {relation}, {subject})" if self.kind == "check" else (
            f"ListObjects({user}, {relation}, type={subject})")
        return (f"[{self.store.name}] {call}: openfga {_show(self.openfga)}, engine {_show(self.engine)}, "
                f"reference {_show(self.reference)}")


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return f"[{', '.join(value)}]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def engine_answers(engine: Engine, store: Store) -> dict[tuple[str, Query], Any]:
    """The embedded engine's answer to every query of the store; an error answers as its class name."""
    tuples = InMemoryTupleStore(store.tuples)
    answers: dict[tuple[str, Query], Any] = {}
    for query in store.checks:
        try:
            answers[("check", query)] = engine.check(tuples, *query)
        except AuthorizationError as exc:
            answers[("check", query)] = type(exc).__name__
    for query in store.lists:
        try:
            answers[("list_objects", query)] = list_result(engine.list_objects(tuples, *query))
        except AuthorizationError as exc:
            answers[("list_objects", query)] = type(exc).__name__
    return answers


def reference_answers(model: dsl.AuthorizationModel, store: Store) -> dict[tuple[str, Query], Any]:
    reference = ReferenceEvaluator(model, store.tuples)
    answers: dict[tuple[str, Query], Any] = {("check", q): reference.check(*q) for q in store.checks}
    answers.update({("list_objects", q): list_result(reference.list_objects(*q)) for q in store.lists})
    return answers


def write_tests_file(path: Path, model_text: str, stores: Sequence[Store],
                     expected: Sequence[dict[tuple[str, Query], Any]]) -> None:
    """One `fga model test` file: a test per store, its tuples its own, expecting the given answers."""
    tests = []
    for store, answers in zip(stores, expected, strict=True):
        checks: dict[tuple[str, str], dict[str, Any]] = {}
        for user, relation, obj in store.checks:
            answer = answers[("check", (user, relation, obj))]
            checks.setdefault((user, obj), {})[relation] = answer if isinstance(answer, bool) else False
        lists: dict[tuple[str, str], dict[str, Any]] = {}
        for user, relation, type_name in store.lists:
            answer = answers[("list_objects", (user, relation, type_name))]
            lists.setdefault((user, type_name), {})[relation] = list(answer) if isinstance(answer, tuple) else []
        tests.append({
            "name": store.name,
            "tuples": [{"user": t.user, "relation": t.relation, "object": t.object} for t in store.tuples],
            "check": [{"user": u, "object": o, "assertions": a} for (u, o), a in checks.items()],
            "list_objects": [{"user": u, "type": t, "assertions": a} for (u, t), a in lists.items()],
        })
    document = {"name": "differential", "model": model_text, "tests": tests}
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")  # JSON is YAML, and much faster to write


def openfga_answers(outcomes: Iterable[Outcome]) -> dict[str, dict[tuple[str, Query], Any]]:
    """OpenFGA's answers by store name; an error answers as its text."""
    answers: dict[str, dict[tuple[str, Query], Any]] = {}
    for o in outcomes:
        answer = o.error if o.error is not None else o.actual
        answers.setdefault(o.test, {})[(o.kind, (o.user, o.relation, o.subject))] = answer
    return answers


@dataclass(frozen=True, slots=True)
class Comparison:
    disagreements: list[Disagreement]
    queries: int
    allowed: int  # checks OpenFGA allowed
    found: int  # list_objects for which OpenFGA found objects


def compare(model_name: str, stores: Sequence[Store], directory: Path) -> Comparison:
    """Answer every query of every store three ways (OpenFGA, engine, reference) and compare."""
    model_text = MODELS[model_name]
    model = dsl.parse(model_text)
    engine = Engine(model)
    by_engine = [engine_answers(engine, s) for s in stores]
    by_reference = [reference_answers(model, s) for s in stores]
    tests_file = directory / f"{model_name}.fga.yaml"
    write_tests_file(tests_file, model_text, stores, by_engine)
    _, outcomes = run_fga(tests_file)
    by_openfga = openfga_answers(outcomes)
    disagreements = []
    queries = allowed = found = 0
    for store, engine_side, reference_side in zip(stores, by_engine, by_reference, strict=True):
        openfga_side = by_openfga.get(store.name, {})
        for key, engine_answer in engine_side.items():
            queries += 1
            openfga_answer = openfga_side.get(key, "no answer")
            allowed += openfga_answer is True
            found += isinstance(openfga_answer, tuple) and bool(openfga_answer)
            if not engine_answer == openfga_answer == reference_side[key]:
                disagreements.append(Disagreement(store, key[0], key[1], openfga_answer, engine_answer,
                                                  reference_side[key]))
    return Comparison(disagreements, queries, allowed, found)


def shrink(model_name: str, store: Store, kind: str, query: Query, directory: Path, budget: int = 150) -> Store:
    """The store cut down to tuples without which this query's answers agree again (one query, one fga run
    per attempt), for a failure report a reader can follow."""
    model_text = MODELS[model_name]
    engine = Engine(dsl.parse(model_text))
    single = Store(store.name, store.tuples, (query,) if kind == "check" else (), (query,) if kind != "check" else ())

    def disagrees(candidate: Store) -> bool:
        answers = engine_answers(engine, candidate)
        path = directory / "shrink.fga.yaml"
        write_tests_file(path, model_text, [candidate], [answers])
        _, outcomes = run_fga(path)
        openfga_answer: Any = openfga_answers(outcomes).get(candidate.name, {}).get((kind, query))
        return bool(openfga_answer != answers[(kind, query)])

    tuples = list(single.tuples)
    changed = True
    while changed and budget > 0:
        changed = False
        for index in range(len(tuples) - 1, -1, -1):
            if budget <= 0:
                break
            budget -= 1
            candidate = Store(single.name, tuple(tuples[:index] + tuples[index + 1:]), single.checks, single.lists)
            if disagrees(candidate):
                tuples = list(candidate.tuples)
                changed = True
    return Store(single.name, tuple(tuples), single.checks, single.lists)
