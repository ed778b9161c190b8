from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.browser.harness import REPO, Platform, World, ensure_bundle, make_world
from tests.cli.test_cli import AGYN
from tests.conftest import BACKENDS, scratch_postgres

ARTIFACTS = REPO / "artifacts" / "browser"
"""Screenshots of each step (gitignored)."""


@asynccontextmanager
async def running_platform(backend: str, workdir: Path, **settings: str) -> AsyncIterator[Platform]:
    """The platform with the page built, on SQLite or a fresh PostgreSQL database."""
    ensure_bundle()
    async with contextlib.AsyncExitStack() as stack:
        database_url = await stack.enter_async_context(scratch_postgres()) if backend == "postgresql" else None
        platform = Platform(workdir, database_url, backend, **settings)
        try:
            if database_url:
                upgraded = subprocess.run([str(AGYN), "db", "upgrade", "--data-dir", str(platform.data_dir)],
                                          env=platform.env, capture_output=True, text=True, timeout=120, check=False)
                assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
            platform.start()
            yield platform
        finally:
            platform.stop()


@pytest.fixture(scope="module", params=BACKENDS)
async def web_platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                       ) -> AsyncIterator[Platform]:
    async with running_platform(request.param, tmp_path_factory.mktemp(f"web-{request.param}")) as platform:
        yield platform


@pytest.fixture
def world(web_platform: Platform) -> World:
    return make_world(web_platform)


@pytest.fixture
def shots(request: pytest.FixtureRequest, web_platform: Platform) -> Path:
    """This test's screenshot directory, emptied."""
    folder = ARTIFACTS / web_platform.backend / request.node.originalname
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder
