"""Building the page's bundle from its npm sources (`web/` in a checkout): `agyn web build`, the
quickstart, CI and the browser tests' fixture use this."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

STATIC = Path(__file__).parent / "static"
"""Where the bundle is written and served from (gitignored)."""
BUILD_COMMAND = "npm --prefix web ci && npm --prefix web run build"
SOURCE = Path(__file__).resolve().parents[3] / "web"
"""The npm project (package.json, package-lock.json, src/) of a source checkout."""


class BundleError(Exception):
    """The bundle cannot be built here; the message says what to do."""


def _sources() -> Iterator[Path]:
    yield from (SOURCE / name for name in ("package.json", "package-lock.json", "build.mjs", "index.html"))
    yield from (path for path in (SOURCE / "src").rglob("*") if path.is_file())


def is_stale() -> bool:
    """Whether the served bundle is missing or older than any of its sources."""
    built = STATIC / "index.html"
    if not built.is_file():
        return True
    if not SOURCE.is_dir():
        return False  # an installation without sources serves what it has
    newest = max(path.stat().st_mtime for path in _sources() if path.exists())
    return newest > built.stat().st_mtime


def _dependencies_stale() -> bool:
    installed = SOURCE / "node_modules" / ".package-lock.json"  # npm writes it on every install
    return not installed.is_file() or (SOURCE / "package-lock.json").stat().st_mtime > installed.stat().st_mtime


def build(progress: Callable[[str], None] = lambda _: None, *, force: bool = False) -> bool:
    """Install the locked npm dependencies when needed and bundle; False when it was up to date."""
    if not force and not is_stale():
        return False
    if not SOURCE.is_dir():
        raise BundleError(f"no page sources at {SOURCE}: build the page from a checkout of the repository")
    npm = shutil.which("npm")
    if npm is None:
        raise BundleError("npm is not installed: install Node.js 20+ with npm (Debian: apt-get install -y nodejs npm)")
    if _dependencies_stale():
        progress("installing the page's npm dependencies (npm ci)")
        _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"])
    progress("bundling the page (esbuild)")
    _run([npm, "run", "--silent", "build"])
    return True


def _run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=SOURCE, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BundleError(f"`{' '.join(command[1:])}` in {SOURCE} failed: {last[0]}")
