"""The container recipes, checked without a container engine (none runs here): their instructions are
parsed and linted (stages, user, port, entrypoint, health check), the files they copy exist and are in the
build context, the wheel they install is this project's with the web page in it (built here by the
Dockerfile's own stages, replayed on directories standing for the images), and the runtime image's launcher
works from wherever its tree is copied."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser

REPO = Path(__file__).parents[2]
PLATFORM = REPO / "Dockerfile"
RUNTIME = REPO / "images" / "runtime" / "Dockerfile"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def instructions(path: Path) -> list[dict[str, Any]]:
    parser = DockerfileParser(path=str(path))
    parsed: list[dict[str, Any]] = parser.structure
    return parsed


def stages(path: Path) -> list[list[dict[str, Any]]]:
    """The instructions of each stage (from its FROM to the next)."""
    result: list[list[dict[str, Any]]] = []
    for item in instructions(path):
        if item["instruction"] == "FROM":
            result.append([])
        if result:
            result[-1].append(item)
    return result


def stage_named(path: Path, name: str) -> list[dict[str, Any]]:
    [found] = [s for s in stages(path) if values(s, "FROM")[0].endswith(f" AS {name}")]
    return found


def copies(stage: list[dict[str, Any]]) -> tuple[set[str], list[str]]:
    """What a stage copies from the build context (the sources), and its copies from other stages."""
    context = {part for v in values(stage, "COPY") if not v.startswith("--from=") for part in v.split()[:-1]}
    return context, [v for v in values(stage, "COPY") if v.startswith("--from=")]


def values(stage: list[dict[str, Any]], instruction: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == instruction]


def exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list), f"{value}: use the exec (JSON) form, so signals reach the process"
    return parsed


def ignored(name: str) -> bool:
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    return any(re.fullmatch(p.replace("**/", "").replace("*", "[^/]*"), name) for p in patterns)


@pytest.mark.parametrize("path", [PLATFORM, RUNTIME], ids=["platform", "runtime"])
def test_multi_stage_non_root_exec_form(path: Path) -> None:
    found = stages(path)
    assert len(found) >= 2, "build in one stage, ship another"
    final = found[-1]
    [user] = values(final, "USER")
    assert user.split(":")[0] not in {"root", "0"} and user.split(":")[0].isdigit()  # numeric: runAsNonRoot can check
    [entrypoint] = values(final, "ENTRYPOINT")
    [cmd] = values(final, "CMD")
    exec_form(entrypoint), exec_form(cmd)
    for stage in found:
        assert not values(stage, "ADD"), "COPY, not ADD (no remote fetches or archive magic)"
        [base] = values(stage, "FROM")
        assert ":latest" not in base and (":" in base or "$" in base), f"{base}: pin the base image's tag"


def test_the_platform_image_serves_the_api() -> None:
    final = stages(PLATFORM)[-1]
    assert exec_form(values(final, "ENTRYPOINT")[0]) == ["agyn"]
    assert exec_form(values(final, "CMD")[0]) == ["serve"]  # the stack passes orchestrator / runner / db as args
    assert values(final, "EXPOSE") == ["8080"]
    env = " ".join(values(final, "ENV"))
    assert "AGYN_HOST=0.0.0.0" in env and "AGYN_PORT=8080" in env  # reachable from outside the container
    [healthcheck] = values(final, "HEALTHCHECK")
    assert "http://127.0.0.1:8080/readyz" in healthcheck
    assert values(final, "USER") == ["10001:10001"]  # the stack's runAsUser


def test_the_runtime_image_runs_the_agent_runtime() -> None:
    final = stages(RUNTIME)[-1]
    assert exec_form(values(final, "ENTRYPOINT")[0]) == ["/opt/agyn/bin/agyn"]
    assert exec_form(values(final, "CMD")[0]) == ["agent-runtime"]
    assert any("--from=tree /opt/agyn /opt/agyn" in v for v in values(final, "COPY"))
    [tools] = [v for v in values(final, "RUN") if "apt-get install" in v]
    for tool in ("git", "curl", "ca-certificates", "bash", "ripgrep"):
        assert re.search(rf"\b{tool}\b", tools), tool
    assert "rm -rf /var/lib/apt/lists/*" in tools


@pytest.mark.parametrize("path", [PLATFORM, RUNTIME], ids=["platform", "runtime"])
def test_the_wheel_installed_is_this_projects(path: Path) -> None:
    """The wheel stage copies exactly what the project's packages are built from, from the build context,
    and the final stage installs that wheel by the project's name."""
    wheel_stage = stage_named(path, "wheel")
    sources, from_stages = copies(wheel_stage)
    package_dirs = set(PYPROJECT["tool"]["setuptools"]["packages"]["find"]["where"])
    assert sources == {"pyproject.toml", PYPROJECT["project"]["readme"], *package_dirs}
    # the platform's wheel carries the web page's bundle; the runtime's serves no page
    assert from_stages == (["--from=page /src/platform/agyn/web/static platform/agyn/web/static"]
                           if path == PLATFORM else [])
    for source in sources:
        assert (REPO / source).exists(), source
        assert not ignored(source), f"{source} is excluded by .dockerignore"
    [build] = values(wheel_stage, "RUN")
    assert build.startswith("pip wheel") and "--no-deps" in build and build.endswith(" .")
    installs = " ".join(values(stages(path)[-2] if path == RUNTIME else stages(path)[-1], "RUN"))
    assert f"/tmp/dist/{PYPROJECT['project']['name']}-*.whl" in installs


def test_the_context_leaves_out_what_is_not_built() -> None:
    for name in (".git", ".venv", ".agyn", "tests", "stacks"):
        assert ignored(name), name


def test_the_page_stage_builds_the_bundle_from_the_locked_sources() -> None:
    page = stage_named(PLATFORM, "page")
    sources, from_stages = copies(page)
    assert not from_stages
    assert sources == {"web/package.json", "web/package-lock.json", "web/build.mjs", "web/index.html", "web/src"}
    for source in sources:
        assert (REPO / source).exists() and not ignored(source), source
    assert values(page, "RUN") == ["npm ci --no-audit --no-fund --loglevel=error", "npm run build"]
    assert ignored("node_modules") and ignored("platform/agyn/web/static")  # the image builds its own bundle


def replay(stage: list[dict[str, Any]], root: Path, built: dict[str, Path], run: Callable[[list[str], Path], None]) -> None:
    """A stage's WORKDIR, COPY and RUN on a directory standing for its image's root: COPY from the checkout
    (less what .dockerignore leaves out) or, with --from, from an earlier stage's root, as Docker copies
    (a directory's contents; files into a target ending in '/'); RUN as its words, absolute paths under root."""
    workdir = root

    def left_out(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        inside = here.is_relative_to(REPO)
        return {n for n in names if ignored(n) or (inside and ignored((here / n).relative_to(REPO).as_posix()))}

    for item in stage:
        if item["instruction"] == "WORKDIR":
            workdir = root / item["value"].lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif item["instruction"] == "COPY":
            words = item["value"].split()
            origin = built[words.pop(0).removeprefix("--from=")] if words[0].startswith("--from=") else REPO
            *sources, target = words
            destination = root / target.lstrip("/") if target.startswith("/") else workdir / target
            for source in sources:
                found = origin / source.lstrip("/")
                if found.is_dir():
                    shutil.copytree(found, destination, ignore=left_out, dirs_exist_ok=True)
                else:
                    into = destination / found.name if target.endswith("/") else destination
                    into.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(found, into)
        elif item["instruction"] == "RUN":
            run([str(root / w.lstrip("/")) if w.startswith("/") else w for w in shlex.split(item["value"])], workdir)


def test_the_dockerfiles_stages_make_the_projects_wheel_with_the_page(tmp_path: Path) -> None:
    """The page stage's and the wheel stage's own commands, each on what that stage copies: npm and pip here
    stand for the images' (npm prefers its cache, which the checkout's `agyn web build` filled)."""
    env = {**os.environ, "npm_config_prefer_offline": "true"}

    def run(command: list[str], cwd: Path) -> None:
        if command[0] == "pip":
            command = [sys.executable, "-m", *command]
        result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"

    built: dict[str, Path] = {}
    for name in ("page", "wheel"):
        built[name] = tmp_path / name
        replay(stage_named(PLATFORM, name), built[name], built, run)
    [wheel] = (built["wheel"] / "dist").glob("agyn-*.whl")
    assert wheel.name.startswith(f"agyn-{PYPROJECT['project']['version']}-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
        page = archive.read("agyn/web/static/index.html").decode()
    assert {"agyn/cli/main.py", "agyn/authorization/model.fga", "agyn/gateway/endpoints.py"} <= names
    assert f"agyn = {PYPROJECT['project']['scripts']['agyn']}" in entry_points
    assets = re.findall(r"/web/assets/([\w.-]+)", page)
    assert {name.rsplit(".", 1)[-1] for name in assets} == {"js", "css"}
    assert {f"agyn/web/static/assets/{name}" for name in assets} <= names  # the page and what it loads


def test_the_runtime_launcher_works_wherever_its_tree_is_copied(tmp_path: Path) -> None:
    """The launcher the runtime image writes (its printf lines, run as the image would), in a tree whose
    bin/python3 runs a Python with agyn installed, still runs after the tree moved (as the init container does)."""
    [tree_stage] = [s for s in stages(RUNTIME) if "AS tree" in values(s, "FROM")[0]]
    [run] = values(tree_stage, "RUN")
    printf = run[run.index("printf"):run.index("> /opt/agyn/bin/agyn")]
    built = tmp_path / "built"
    (built / "bin").mkdir(parents=True)
    (built / "lib").mkdir()
    python = built / "bin" / "python3"  # stands for the image's Python: this venv's
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    launcher = built / "bin" / "agyn"
    with launcher.open("w") as out:
        subprocess.run(["sh", "-c", printf], stdout=out, check=True)
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    moved = tmp_path / "pod" / "agyn"
    shutil.move(built, moved)
    result = subprocess.run([str(moved / "bin" / "agyn"), "version"], capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"agyn {PYPROJECT['project']['version']}"
