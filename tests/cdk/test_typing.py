"""The CDK library is typed for its users: `py.typed` ships, type names resolve (the framework is
chosen at run time, but type checkers see cdktf), and the documented programs pass `mypy --strict`
as a user runs it, outside this repository's configuration, against the installed package."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import typing
from pathlib import Path

from agyn.agents.resources import HOOK_EVENTS
from agyn_cdk import HookEvent

REPOSITORY = Path(__file__).resolve().parents[2]
PROGRAMS = [REPOSITORY / "examples" / "cdk-quickstart" / "main.py", REPOSITORY / "stacks" / "tenant" / "main.py"]
READMES = [REPOSITORY / "README.md", REPOSITORY / "cdk" / "README.md"]


def python_blocks(readme: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S)


def test_the_packages_ship_py_typed() -> None:
    for package in ("agyn_cdk", "agyn", "agyn_provider"):
        module = __import__(package)
        assert (Path(module.__file__).parent / "py.typed").is_file(), package
    assert '"agyn_cdk" = ["py.typed"]' in (REPOSITORY / "pyproject.toml").read_text()


def test_hook_events_are_the_registry_s() -> None:
    assert typing.get_args(HookEvent) == HOOK_EVENTS


def pip(arguments: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *arguments], capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_documented_programs_pass_mypy_strict(tmp_path: Path) -> None:
    sources = []
    for program in PROGRAMS:  # copied under distinct names: each is a `main.py`
        sources.append(tmp_path / f"{program.parent.name.replace('-', '_')}.py")
        sources[-1].write_text(program.read_text())
    for readme in READMES:
        for n, block in enumerate(python_blocks(readme)):
            if "agyn_cdk" in block:
                target = tmp_path / f"{readme.parent.name or 'root'}_readme_{n}.py"
                target.write_text(block)
                sources.append(target)
    assert len(sources) > len(PROGRAMS), "the READMEs show a CDK program"
    wheel_dir, site = tmp_path / "wheel", tmp_path / "site"
    pip(["wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(REPOSITORY)])
    pip(["install", "--no-deps", "-q", "--target", str(site), *map(str, wheel_dir.glob("*.whl"))])
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")
    # run where no configuration of this repository applies, on the packages installed from the wheel
    # (found as installed packages, so they are typed only if they ship py.typed)
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
                             "--cache-dir", str(tmp_path / "cache"), "--config-file", str(config),
                             *map(str, sources)], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                            check=False, env={**os.environ, "PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stdout + result.stderr
