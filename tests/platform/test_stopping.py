"""Stopping a background loop lets the work in hand finish (a transaction cut by a cancellation can leave
SQLite's write lock held); only a loop that overstays its grace is cancelled."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from agyn.kit.stopping import StopSignal, stop_loop
from agyn.orchestrator.loop import OrchestratorLoop
from agyn.orchestrator.service import Report


async def test_the_wait_ends_on_a_wake_up_on_the_stop_request_or_at_its_timeout() -> None:
    signal, wake = StopSignal(), asyncio.Event()
    assert await signal.wait(0.01, wake=wake) is False
    wake.set()
    assert await signal.wait(5, wake=wake) is True
    asyncio.get_running_loop().call_later(0.01, signal.request)
    started = time.monotonic()
    assert await signal.wait(5) is True
    assert time.monotonic() - started < 4
    assert signal.requested


async def test_work_in_hand_finishes_and_the_loop_leaves_at_its_next_wait() -> None:
    signal, release, finished = StopSignal(), asyncio.Event(), []

    async def loop() -> None:
        while not signal.requested:
            await release.wait()  # the work: not a wait the stop request interrupts
            finished.append("work")
            await signal.wait(60)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.01)
    asyncio.get_running_loop().call_later(0.05, release.set)
    await stop_loop(task, signal, grace=5)
    assert finished == ["work"]
    assert task.done() and not task.cancelled()


async def test_a_loop_that_overstays_its_grace_is_cancelled() -> None:
    signal = StopSignal()
    task = asyncio.create_task(asyncio.Event().wait())
    await stop_loop(task, signal, grace=0.05)  # type: ignore[arg-type]
    assert task.cancelled()


class HeldLease:
    held = True

    async def acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        self.held = False


class SlowOrchestrator:
    """A pass that takes until `release` is set, remembering whether it ran to its end."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_pass = asyncio.Event()
        self.passes: list[str] = []
        self.platform: Any = None

    async def reconcile_once(self, thread_ids: Any = None) -> Report:
        self.in_pass.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.passes.append("cut")
            raise
        self.passes.append("done")
        return Report()

    async def stop_local_workloads(self) -> None:
        pass


async def test_the_orchestrator_loop_stops_after_the_pass_in_hand() -> None:
    orchestrator, lease = SlowOrchestrator(), HeldLease()
    loop = OrchestratorLoop(orchestrator, lease, tick=60, lease_retry=60)  # type: ignore[arg-type]
    loop.start()
    await asyncio.wait_for(orchestrator.in_pass.wait(), 5)
    asyncio.get_running_loop().call_later(0.05, orchestrator.release.set)
    await loop.stop()
    assert orchestrator.passes == ["done"]
    assert not lease.held
