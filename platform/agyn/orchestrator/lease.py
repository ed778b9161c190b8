"""Leader election: only one process orchestrates.

By default (`AdvisoryLock`), on PostgreSQL the leader holds a session advisory lock on a connection of
its own (not from the pool): when the process dies its session ends and the lock goes with it, so a
waiting replica takes over at its next try. On SQLite there is one process per database file: it is
the leader.

On Kubernetes the leader holds a Lease instead (`kubernetes_lease.py`).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

import asyncpg

log = logging.getLogger("agyn.orchestrator.lease")

LOCK_KEY = 0x6167796E_6F726368  # "agynorch"
"""The advisory lock's key: the same in every replica of a deployment."""


class Lease(Protocol):
    held: bool

    async def acquire(self) -> bool:
        """Try once; True when this process is (still) the leader."""
        ...

    async def still_held(self) -> bool:
        """Checked by the leader between passes."""
        ...

    async def release(self) -> None: ...


class AdvisoryLock:
    def __init__(self, database_url: str, *, is_sqlite: bool) -> None:
        self.database_url = database_url
        self.is_sqlite = is_sqlite
        self._connection: Any = None
        self.held = False

    async def acquire(self) -> bool:
        """Try once; True when this process is (still) the leader."""
        if self.is_sqlite:
            self.held = True
            return True
        if self.held and self._connection is not None:
            return True  # a session lock is held until released or the session ends
        if self._connection is None:
            try:
                self._connection = await asyncpg.connect(self._plain_url())
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("cannot reach the database for the orchestrator lease", extra={"error": str(error)})
                return False
        try:
            self.held = bool(await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("the orchestrator lease's connection failed", extra={"error": str(error)})
            await self.release()
            return False
        return self.held

    async def still_held(self) -> bool:
        """The leader checks its connection between passes: a broken one has lost the lock."""
        if self.is_sqlite:
            return True
        if self._connection is None or not self.held:
            return False
        try:
            await self._connection.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self.release()
            return False
        return True

    async def release(self) -> None:
        self.held = False
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    def _plain_url(self) -> str:
        url = self.database_url
        for driver in ("postgresql+asyncpg://", "postgres+asyncpg://"):
            if url.startswith(driver):
                return "postgresql://" + url[len(driver):]
        return url

