"""The background writer: records are buffered in memory and written in batches, off the request path.

Delivery: every record handed to `submit` is written at least once while the process runs and stops
cleanly — a failed write keeps its batch and retries with backoff, and `stop` flushes what is left.
A duplicate write is harmless (the idempotency key makes it an update). What is lost: the buffer of
a process that crashes (at most about `flush_interval` of records), and the oldest records beyond
`max_buffered` while the database is unreachable (logged and counted in `dropped`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from agyn.kit.db import Database
from agyn.kit.stopping import StopSignal, stop_loop
from agyn.metering.records import UsageRecord
from agyn.metering.repository import upsert_usage
from agyn.settings import MeteringSettings

log = logging.getLogger("agyn.metering")

MAX_BACKOFF = 30.0
STOP_ATTEMPTS = 3


class UsageWriter:
    def __init__(self, database: Database, settings: MeteringSettings) -> None:
        self.database = database
        self.settings = settings
        self._buffer: list[UsageRecord] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stop = StopSignal()
        self._writing = 0
        self.written = 0
        self.dropped = 0
        self.failures = 0

    @property
    def pending(self) -> int:
        """Records not yet written: buffered, plus the batch being written now."""
        return len(self._buffer) + self._writing

    def submit(self, records: Iterable[UsageRecord]) -> None:
        """Hand records over; returns at once (no I/O)."""
        self._buffer.extend(records)
        excess = len(self._buffer) - self.settings.max_buffered
        if excess > 0:
            del self._buffer[:excess]
            self.dropped += excess
            log.error("usage records dropped: the buffer is full (is the database reachable?)",
                      extra={"dropped": excess, "dropped_total": self.dropped})
        if len(self._buffer) >= self.settings.batch_size:
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stop = StopSignal()
            self._task = asyncio.create_task(self._run(), name="metering-writer")

    async def stop(self) -> None:
        """Stop the loop (a batch it is writing is written first), then write what is buffered (a few
        attempts)."""
        if self._task is not None:
            await stop_loop(self._task, self._stop)
            self._task = None
        for attempt in range(STOP_ATTEMPTS):
            if await self.flush():
                return
            await asyncio.sleep(0.2 * (attempt + 1))
        log.error("usage records not written at stop: the database refused them",
                  extra={"lost": len(self._buffer)})

    async def flush(self) -> bool:
        """Write everything buffered now, and wait for a batch the loop is writing; False when a write
        failed (the records stay buffered)."""
        while self.pending:
            if not await self._write_batch():
                return False
        return True

    async def _run(self) -> None:
        backoff = 0.0
        while True:
            if backoff:
                await self._stop.wait(backoff)
            else:
                await self._stop.wait(self.settings.flush_interval, wake=self._wake)
            if self._stop.requested:
                return
            self._wake.clear()
            if await self.flush():
                backoff = 0.0
            else:
                backoff = min(MAX_BACKOFF, max(self.settings.flush_interval, backoff * 2))

    async def _write_batch(self) -> bool:
        async with self._lock:
            batch = self._buffer[: self.settings.batch_size]
            if not batch:
                return True
            del self._buffer[: len(batch)]
            self._writing = len(batch)
            try:
                async with self.database.transaction() as session:
                    await upsert_usage(session, batch)
            except BaseException as error:
                self._buffer[:0] = batch  # first in line for the next attempt (a cancelled write too)
                if not isinstance(error, Exception):
                    raise
                self.failures += 1
                log.exception("writing usage records failed; they stay buffered and are retried",
                              extra={"records": len(batch), "buffered": len(self._buffer)})
                return False
            finally:
                self._writing = 0
            self.written += len(batch)
            return True
