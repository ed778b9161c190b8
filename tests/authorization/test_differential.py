"""Randomized differential testing of the embedded engine against OpenFGA (`fga model test`) and a naive
reference evaluator, over Agyn's model and synthetic models that use every construct the engine supports.

A fixed seed by default, so CI is reproducible; `AGYN_DIFF_SEED` picks another seed and
`AGYN_DIFF_CASES` the number of generated stores per model (each with about 300 queries), e.g.
`AGYN_DIFF_CASES=200 AGYN_DIFF_SEED=$RANDOM pytest tests/authorization/test_differential.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agyn.authorization import dsl
from tests.authorization.differential import MODELS, compare, generate_stores, shrink, tupleset_relations

SEED = int(os.environ.get("AGYN_DIFF_SEED", "20250611"))
CASES = int(os.environ.get("AGYN_DIFF_CASES", "12"))
SHOWN = 12


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_engine_agrees_with_openfga_on_random_stores(model_name: str, tmp_path: Path) -> None:
    stores = generate_stores(SEED, model_name, CASES)
    result = compare(model_name, stores, tmp_path)
    if result.disagreements:
        first = result.disagreements[0]
        smallest = shrink(model_name, first.store, first.kind, first.query, tmp_path)
        pytest.fail(
            f"{len(result.disagreements)} of {result.queries} answers differ; AGYN_DIFF_SEED={SEED} "
            f"AGYN_DIFF_CASES={CASES} replays this (the generated tests are in {tmp_path}):\n  "
            + "\n  ".join(d.describe() for d in result.disagreements[:SHOWN])
            + f"\nthe first one with {len(smallest.tuples)} of its store's {len(first.store.tuples)} tuples:\n  "
            + "\n  ".join(str(t) for t in smallest.tuples),
            pytrace=False,
        )
    # the stores are worth comparing on: many queries, allowed ones among them, objects found
    assert result.queries >= CASES * 100
    assert result.allowed >= result.queries // 50
    assert result.found >= CASES


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_generated_stores_give_objects_several_parents(model_name: str) -> None:
    """What the engine's shortcuts could get wrong is generated: several parents per object, usersets and
    wildcards among the users asked about."""
    model = dsl.parse(MODELS[model_name])
    parents = tupleset_relations(model)
    stores = generate_stores(SEED, model_name, CASES)
    several = 0
    for store in stores:
        counts: dict[tuple[str, str], int] = {}
        for t in store.tuples:
            if (t.object.partition(":")[0], t.relation) in parents:
                counts[(t.object, t.relation)] = counts.get((t.object, t.relation), 0) + 1
        several += sum(1 for n in counts.values() if n >= 2)
    assert several >= CASES
    if model_name != "agyn":  # Agyn's model has no usersets or wildcards
        users = {u for s in stores for u, _, _ in s.checks}
        assert any("#" in u for u in users) and any(u.endswith(":*") for u in users)
