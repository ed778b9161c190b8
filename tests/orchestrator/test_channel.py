"""`agyn orchestrator`'s runner channel listens only while its process leads: no listener before, one while
leading, none after losing the lease, one again when it leads again (what lets a Kubernetes readiness
probe on the port pick the leader)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx

from agyn.orchestrator.channel import serve_while_leading
from tests.cli.test_cli import free_port


async def answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(url)).status_code == 200
    except httpx.TransportError:
        return False


async def eventually(check: Any, expected: bool, what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check() == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_the_channel_listens_only_while_leading() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    loop = SimpleNamespace(leading=asyncio.Event())  # the orchestrator loop's leadership flag
    task = asyncio.create_task(serve_while_leading(SimpleNamespace(), loop, "127.0.0.1", port))
    try:
        await asyncio.sleep(0.5)
        assert not await answers(url)  # a standby: nothing listens
        loop.leading.set()
        await eventually(lambda: answers(url), True, "the leader's channel")
        loop.leading.clear()
        await eventually(lambda: answers(url), False, "the listener closed after the lease was lost")
        loop.leading.set()
        await eventually(lambda: answers(url), True, "the channel again on leading again")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await eventually(lambda: answers(url), False, "no listener once stopped")
