"""What the execution plane's tests share: the platform served on a real port (workloads call it over
HTTP), the scripted runtime as the runtime command, and polling helpers."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from agyn.app import create_app
from agyn.kit.clock import SYSTEM_CLOCK, Clock
from agyn.kit.platform import Platform
from agyn.orchestrator.loop import OrchestratorLoop
from tests.conftest import Api, empty_database, make_settings

SCRIPTED_RUNTIME = Path(__file__).parent.parent / "support" / "scripted_runtime.py"
RUNTIME_COMMAND = f"{sys.executable} {SCRIPTED_RUNTIME}"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Live:
    api: Api
    url: str
    platform: Platform

    @property
    def loop(self) -> OrchestratorLoop:
        return self.platform.get(OrchestratorLoop)

    async def workloads(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.api.client.get("/api/v1/workloads", headers=self.api.admin, params=params)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


@asynccontextmanager
async def live_platform(database_url: str, data_dir: Path, *, clock: Clock = SYSTEM_CLOCK, empty: bool = True,
                        runtime_command: str = RUNTIME_COMMAND, **overrides: Any) -> AsyncIterator[Live]:
    """The platform with its orchestrator and local runner, served by uvicorn on a free port."""
    if empty:
        await empty_database(database_url)
    port = free_port()
    overrides.setdefault("orchestrator", {"enabled": True, "tick_seconds": 0.2, "lease_retry_seconds": 0.2})
    overrides.setdefault("runner", {"runtime_command": runtime_command, "stop_grace_seconds": 3})
    settings = make_settings(data_dir, database_url, port=port, **overrides)
    app = create_app(settings, clock=clock)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            token = settings.admin_token_path.read_text().strip()
            yield Live(Api(client=client, admin_token=token, settings=settings, app=app), url, app.state.platform)
    finally:
        server.should_exit = True
        await task


async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout: float = 20.0,
                     what: str = "the condition") -> T:
    """Poll `check` until it returns something truthy (real time: processes take their time)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rpartition(")")[2].split()[0] != "Z"
