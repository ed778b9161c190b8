"""When the orchestrator runs: while it holds the lease, a pass over every pair on the periodic tick and
when woken (`agent.updated`, a workload's runtime ending, a runner's report), and a pass over one
thread's pairs when a message arrives there (so a start does not wait for a pass over everything).
Events are hints: the tick alone converges."""

from __future__ import annotations

import asyncio
import logging
import uuid

from agyn.kit.events import Event
from agyn.kit.stopping import StopSignal, stop_loop
from agyn.orchestrator.lease import Lease
from agyn.orchestrator.service import Orchestrator, Report

log = logging.getLogger("agyn.orchestrator")



class OrchestratorLoop:
    def __init__(self, orchestrator: Orchestrator, lease: Lease, *, tick: float, lease_retry: float) -> None:
        self.orchestrator = orchestrator
        self.lease = lease
        self.tick = tick
        self.lease_retry = lease_retry
        self._wake = asyncio.Event()
        self._hinted: set[uuid.UUID] = set()
        self._full = True
        self._task: asyncio.Task[None] | None = None
        self._stop = StopSignal()
        self.leading = asyncio.Event()
        self.passes = 0
        self.last_report: Report | None = None

    def start(self) -> None:
        self._stop = StopSignal()
        self._task = asyncio.create_task(self._run(), name="orchestrator")

    async def stop(self) -> None:
        """The pass in hand finishes (its transactions commit or roll back), then the loop leaves."""
        if self._task is not None:
            await stop_loop(self._task, self._stop)
            self._task = None
        if self.lease.held:
            await self.orchestrator.stop_local_workloads()
        await self.lease.release()

    def wake(self) -> None:
        """Something changed that may concern any pair: the next pass looks at every one."""
        self._full = True
        self._wake.set()

    async def on_event(self, event: Event) -> None:
        self.wake()

    async def on_message(self, event: Event) -> None:
        """A message: its thread's pairs are looked at first, in a pass of their own."""
        self._hinted.add(uuid.UUID(event.payload["thread_id"]))
        self._wake.set()

    async def _run(self) -> None:
        while not self._stop.requested:
            if not await self.lease.acquire():
                self.leading.clear()
                await self._sleep(self.lease_retry)
                continue
            if not self.leading.is_set():
                log.info("this process leads the orchestration")
                self.leading.set()
            self._wake.clear()
            hinted, self._hinted = self._hinted, set()
            full, self._full = self._full, False
            report = await self._pass() if full else await self._pass(hinted) if hinted else None
            if self._stop.requested:
                return
            if self._full or self._hinted:
                continue  # woken while it ran
            timeout = self.tick
            if report is not None and report.next_at is not None:
                until = (report.next_at - self.orchestrator.platform.clock.now()).total_seconds()
                timeout = max(0.01, min(timeout, until))
            if not await self._sleep(timeout):
                self._full = True  # the tick: every pair
            if self._stop.requested:
                return
            if not await self.lease.still_held():
                log.warning("this process lost the orchestration lease; its local workloads stop")
                self.leading.clear()
                await self.orchestrator.stop_local_workloads()

    async def _pass(self, thread_ids: set[uuid.UUID] | None = None) -> Report | None:
        try:
            report = await self.orchestrator.reconcile_once(thread_ids)
        except Exception:
            log.exception("a reconcile pass failed; the next one tries again")
            return None
        self.passes += 1
        self.last_report = report
        return report

    async def _sleep(self, seconds: float) -> bool:
        """Wait for a wake-up, the stop request or the timeout; True when woken."""
        return await self._stop.wait(seconds, wake=self._wake)
