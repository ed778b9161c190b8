"""Retention: spans older than `AGYN_TRACING__RETENTION` go, in batches. *What* is `purge_expired` (one
pass, each batch its own short transaction so writers are never held up for long); *when* is
`RetentionLoop` (every `purge_interval_seconds`, started and stopped with the module)."""

from __future__ import annotations

import asyncio
import logging

from agyn.kit.platform import Platform
from agyn.kit.stopping import StopSignal, stop_loop
from agyn.settings import TracingSettings
from agyn.tracing import repository

log = logging.getLogger("agyn.tracing")


async def purge_expired(platform: Platform, settings: TracingSettings) -> int:
    """Delete every span that started before now minus the retention; returns how many went."""
    cutoff = platform.clock.now() - settings.retention
    cutoff_ns = int(cutoff.timestamp() * 1_000_000) * 1000
    total = 0
    while True:
        async with platform.database.transaction() as session:
            deleted = await repository.purge_started_before(session, cutoff_ns, settings.purge_batch_size)
        total += deleted
        if deleted < settings.purge_batch_size:
            return total


class RetentionLoop:
    def __init__(self, platform: Platform, settings: TracingSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.task: asyncio.Task[None] | None = None
        self._stop = StopSignal()

    def start(self) -> None:
        self._stop = StopSignal()
        self.task = asyncio.create_task(self._run(), name="tracing-retention")

    async def stop(self) -> None:
        """A purge in hand finishes its batch, then the loop leaves."""
        if self.task is not None:
            await stop_loop(self.task, self._stop)
            self.task = None

    async def _run(self) -> None:
        while not self._stop.requested:
            try:
                purged = await purge_expired(self.platform, self.settings)
                if purged:
                    log.info("purged %d spans past retention", purged)
            except Exception:  # the next pass tries again; a failed purge loses nothing
                log.exception("span retention purge failed")
            await self._stop.wait(self.settings.purge_interval_seconds)
