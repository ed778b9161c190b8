"""When the orchestrator runs: while it holds the lease, a pass on every wake-up (`message.created`,
`agent.updated`, a workload's runtime ending) and on a periodic tick. Events are hints: the tick alone
converges, and a pass that changed something is followed by another at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from agyn.kit.events import Event
from agyn.orchestrator.lease import Lease
from agyn.orchestrator.service import Orchestrator, Report

log = logging.getLogger("agyn.orchestrator")

FOLLOW_UP_PASSES = 5
"""Passes run back to back after one that acted (a start is followed by its first observation)."""


class OrchestratorLoop:
    def __init__(self, orchestrator: Orchestrator, lease: Lease, *, tick: float, lease_retry: float) -> None:
        self.orchestrator = orchestrator
        self.lease = lease
        self.tick = tick
        self.lease_retry = lease_retry
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.leading = asyncio.Event()
        self.passes = 0
        self.last_report: Report | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="orchestrator")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.lease.held:
            await self.orchestrator.stop_local_workloads()
        await self.lease.release()

    def wake(self) -> None:
        self._wake.set()

    async def on_event(self, event: Event) -> None:
        self.wake()

    async def _run(self) -> None:
        while True:
            if not await self.lease.acquire():
                self.leading.clear()
                await self._sleep(self.lease_retry)
                continue
            if not self.leading.is_set():
                log.info("this process leads the orchestration")
                self.leading.set()
            follow_ups = 0
            while True:
                self._wake.clear()
                report = await self._pass()
                acted = report is not None and any(k != "wait" for k in report.decisions)
                if acted and follow_ups < FOLLOW_UP_PASSES:
                    follow_ups += 1
                    await asyncio.sleep(0)
                    continue
                break
            timeout = self.tick
            if report is not None and report.next_at is not None:
                until = (report.next_at - self.orchestrator.platform.clock.now()).total_seconds()
                timeout = max(0.01, min(timeout, until))
            await self._sleep(timeout)
            if not await self.lease.still_held():
                log.warning("this process lost the orchestration lease")
                self.leading.clear()

    async def _pass(self) -> Report | None:
        try:
            report = await self.orchestrator.reconcile_once()
        except Exception:
            log.exception("a reconcile pass failed; the next one tries again")
            return None
        self.passes += 1
        self.last_report = report
        return report

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
