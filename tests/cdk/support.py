"""Synthesizing the repository's CDK apps as people do (`python main.py` in the app's directory), and
comparing the result with committed snapshots."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from agyn_cdk import cdk
from tests.cli.test_cli import cli_env

REPO = Path(__file__).parents[2]
QUICKSTART = REPO / "examples" / "cdk-quickstart"
TENANT = REPO / "stacks" / "tenant"
BOOTSTRAP = REPO / "stacks" / "bootstrap"
SNAPSHOTS = Path(__file__).with_name("snapshots")
_spec = importlib.util.spec_from_file_location("codegen", REPO / "cdk" / "codegen.py")
assert _spec is not None and _spec.loader is not None
CODEGEN = importlib.util.module_from_spec(_spec)
"""`cdk/codegen.py`, the L1 generator (a script beside the package, not in it)."""
_spec.loader.exec_module(CODEGEN)
UPDATE_SNAPSHOTS = os.environ.get("AGYN_UPDATE_SNAPSHOTS") == "1"
"""`AGYN_UPDATE_SNAPSHOTS=1 pytest tests/cdk` rewrites the snapshots instead of comparing."""
VENV_BIN = Path(sys.executable).parent
SYNTH_TIMEOUT = 120.0


def app_settings() -> dict[str, str]:
    """What an app needs to run: this venv's `python` first on PATH (cdktf.json says `python main.py`),
    and no Node 20 end-of-life banner from jsii."""
    return {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


def app_env(**extra: str) -> dict[str, str]:
    """The caller's environment with no AGYN_* setting (so no framework choice either), plus `extra`."""
    return cli_env(**app_settings(), **extra)


def copy_app(source: Path, destination: Path) -> Path:
    """The app's files in a directory of the test's (synth output and Terraform state land there)."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("cdktf.out", "*.tfstate*", "__pycache__"))
    return destination


def run_app(directory: Path, *command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command or (sys.executable, "main.py")), cwd=directory, env=app_env(**env),
                          capture_output=True, text=True, timeout=SYNTH_TIMEOUT, check=False)


def synth(directory: Path, stack: str, *command: str, **env: str) -> dict[str, Any]:
    """Run the app in `directory`; its stack's synthesized `cdk.tf.json`."""
    result = run_app(directory, *command, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((directory / "cdktf.out" / "stacks" / stack / "cdk.tf.json").read_text())


def normalized(document: dict[str, Any], directory: Path) -> dict[str, Any]:
    """Without what depends on the machine (the state file's absolute path) or the framework's version."""
    text = json.dumps(document).replace(str(directory), "<app>")
    result = json.loads(text)
    result["//"]["metadata"]["version"] = "<framework version>"
    return result


def assert_snapshot(name: str, document: dict[str, Any]) -> None:
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if UPDATE_SNAPSHOTS:
        # rewriting instead of comparing passes every test: fine at a desk, never in CI
        assert not os.environ.get("CI"), "AGYN_UPDATE_SNAPSHOTS=1 is set in CI, where snapshots must be compared"
        path.write_text(text)
        return
    assert path.exists(), f"no snapshot {path}: run AGYN_UPDATE_SNAPSHOTS=1 pytest tests/cdk"
    assert json.loads(path.read_text()) == document, \
        f"{name} differs from {path}; if the change is intended, run AGYN_UPDATE_SNAPSHOTS=1 pytest tests/cdk"


def synthesized(stack: Any) -> dict[str, Any]:
    """An in-process stack's Terraform JSON, references resolved to `${type.name.attribute}`."""
    return json.loads(cdk.Testing.synth(stack))


def full_synth(stack: Any) -> dict[str, Any]:
    """Like `synthesized`, with each resource's construct path in its metadata."""
    outdir = Path(cdk.Testing.full_synth(stack))
    return json.loads((outdir / "stacks" / stack.node.id / "cdk.tf.json").read_text())
