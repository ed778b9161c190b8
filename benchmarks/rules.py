"""The registry's rules (`agyn.kit.rules`): what one check of an object costs, as the provider pays it
at every `validate` and `plan` per resource, and the CDK per construct.

    .venv/bin/python benchmarks/rules.py [--rounds 2000]

Checks one valid object of every registry resource, then one object per rule case (each breaking a
rule), and prints microseconds per check (median of 5 runs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests' helpers

from agyn.kit import rules
from tests.rule_cases import REGISTRY, plain, rule_cases, valid_attributes


def per_check(objects: list[tuple[object, dict[str, object]]], rounds: int) -> float:
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            for resource, values in objects:
                rules.problems(resource, values)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - started) / (rounds * len(objects)))
    return statistics.median(samples) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    valid = [(r, valid_attributes(r)) for r in REGISTRY.values()]
    broken = [(c.declaration, {**valid_attributes(c.declaration), **{k: plain(v) for k, v in c.changes.items()}})
              for c in rule_cases()]
    print(f"valid objects ({len(valid)} resources): {per_check(valid, args.rounds):.1f} µs per check")
    print(f"broken objects ({len(broken)} rule cases): {per_check(broken, args.rounds // 10):.1f} µs per check")


if __name__ == "__main__":
    main()
