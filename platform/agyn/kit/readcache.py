"""Recently read rows of the busiest collections, so an authorized `GET /{id}` needs no database round trip.

Only the row is cached, never an answer: authentication, authorization (404 for the invisible) and
what the caller may see of the row are decided on every request. Freshness:

- a write through any session of this process drops the rows it changed (or, for a bulk
  `UPDATE`/`DELETE`, every cached row of the table) as soon as its transaction commits;
- a read that started before such a commit cannot put its older row back: every invalidation bumps
  a generation, and a row is kept only if no invalidation happened since its transaction began;
- with Redis, the other replicas drop the same rows when the commit's message reaches them
  (`Platform.redis`, channel `<notifications channel>.read-cache`); a lost message, or a write made
  outside the platform's sessions, is outlived by the entry's lifetime, `ttl` seconds — the same
  window as the token cache (`AGYN_TOKEN_CACHE_SECONDS`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from agyn.kit.channel_listener import ChannelListener
from agyn.kit.clock import SYSTEM_CLOCK, Clock
from agyn.kit.db import etag_of

log = logging.getLogger("agyn.readcache")

Key = tuple[str, uuid.UUID]
_CHANGED_ROWS = "read_cache.rows"
_CHANGED_TABLES = "read_cache.tables"
_BEGUN_AT = "read_cache.generation"


class Snapshot:
    """The column values of a row as it was read, detached from any session (attributes by column
    name, and the row's `etag`)."""

    id: uuid.UUID

    def __init__(self, values: dict[str, Any], etag: str) -> None:
        self.__dict__.update(values)
        self.etag = etag
        self.derived: dict[Any, Any] = {}
        """What has been computed from the row, which never changes (its response bodies)."""


def snapshot_of(record: Any) -> Snapshot:
    return Snapshot({column.key: getattr(record, column.key) for column in record.__mapper__.column_attrs},
                    record.etag)


def snapshot_of_row(row: Any) -> Snapshot:
    """A `RecordModel` table's row read without the ORM (a read-only page: no identity map to fill)."""
    values = dict(row._mapping)
    return Snapshot(values, etag_of(values["id"], values["version"]))


class ReadCache:
    """Rows of the tracked tables by (table, id), each kept `ttl` seconds at most (0 turns the cache off)."""

    def __init__(self, ttl: float, *, clock: Clock = SYSTEM_CLOCK, max_entries: int = 10_000,
                 redis: Redis | None = None, channel: str = "agyn.read-cache") -> None:
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        """Per table; past it the oldest entry goes."""
        self.redis = redis
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self.generation = 0
        """Bumped by every invalidation of a tracked table."""
        self._tables: dict[str, dict[uuid.UUID, tuple[float, Snapshot]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener = None if redis is None else ChannelListener(
            redis, self.channel, on_message=self.receive, on_subscribed=lambda _: self.clear(),
            retry_seconds=(0.5, 1.0, 2.0, 5.0), name="the read-cache listener", log=log)

    def track(self, table: str) -> None:
        """Cache rows of `table` (before any read of it: writes to untracked tables are not followed)."""
        self._tables.setdefault(table, {})

    # --- reads -------------------------------------------------------------------------------

    def get(self, table: str, object_id: uuid.UUID) -> Snapshot | None:
        rows = self._tables[table]
        entry = rows.get(object_id)
        if entry is None:
            return None
        if entry[0] < self.clock.monotonic():
            rows.pop(object_id, None)
            return None
        return entry[1]

    def put(self, session: Any, table: str, object_id: uuid.UUID, record: Any) -> None:
        """Keep `record` as read by `session`'s transaction, unless a write committed since it began."""
        begun_at = session.info.get(_BEGUN_AT)
        if self.ttl <= 0 or begun_at is None or begun_at != self.generation:
            return
        if session.info.get(_CHANGED_ROWS) or session.info.get(_CHANGED_TABLES):
            return  # its own writes are not committed yet
        rows = self._tables[table]
        if len(rows) >= self.max_entries:
            rows.pop(next(iter(rows)))  # the oldest insertion
        rows[object_id] = (self.clock.monotonic() + self.ttl,
                           record if isinstance(record, Snapshot) else snapshot_of(record))

    # --- invalidation ------------------------------------------------------------------------

    def invalidate(self, rows: Iterable[Key] = (), tables: Iterable[str] = ()) -> None:
        """Drop these rows and every row of these tables (and refuse puts from older transactions)."""
        tracked = False
        for table in tables:
            if table in self._tables:
                self._tables[table] = {}
                tracked = True
        for table, object_id in rows:
            cached = self._tables.get(table)
            if cached is not None:
                cached.pop(object_id, None)
                tracked = True
        if tracked:
            self.generation += 1

    def clear(self) -> None:
        self.generation += 1
        for table in self._tables:
            self._tables[table] = {}

    def watch(self, sessions: type[Session]) -> None:
        """Follow the writes of every session of this class (`Database.session_class`)."""
        event.listen(sessions, "after_begin", self._on_begin)
        event.listen(sessions, "after_flush", self._on_flush)
        event.listen(sessions, "do_orm_execute", self._on_execute)
        event.listen(sessions, "after_commit", self._on_commit)
        event.listen(sessions, "after_rollback", self._on_rollback)

    def _on_begin(self, session: Session, _transaction: Any, _connection: Any) -> None:
        session.info.setdefault(_BEGUN_AT, self.generation)

    def _on_flush(self, session: Session, _context: UOWTransaction) -> None:
        rows = session.info.setdefault(_CHANGED_ROWS, set())
        for instance in (*session.new, *session.dirty, *session.deleted):
            object_id = getattr(instance, "id", None)
            if isinstance(object_id, uuid.UUID):
                rows.add((instance.__table__.name, object_id))

    def _on_execute(self, state: ORMExecuteState) -> None:
        if state.is_select:
            return
        # a bulk UPDATE/DELETE (or SQL we cannot read) may change any row of its tables
        tables = state.session.info.setdefault(_CHANGED_TABLES, set())
        for table in getattr(state.statement, "table", None), *state.all_mappers:
            name = getattr(table, "name", None) or getattr(getattr(table, "local_table", None), "name", None)
            if name:
                tables.add(name)
        if not state.is_update and not state.is_delete and not state.is_insert:
            tables.add("*")

    def _on_commit(self, session: Session) -> None:
        rows: set[Key] = session.info.pop(_CHANGED_ROWS, set())
        tables: set[str] = session.info.pop(_CHANGED_TABLES, set())
        session.info.pop(_BEGUN_AT, None)
        if not rows and not tables:
            return
        if "*" in tables:
            self.clear()
        else:
            self.invalidate(rows, tables)
        if self.redis is not None:
            self._publish(rows, tables)

    def _on_rollback(self, session: Session) -> None:
        for key in (_CHANGED_ROWS, _CHANGED_TABLES, _BEGUN_AT):
            session.info.pop(key, None)

    # --- across replicas ------------------------------------------------------------------------

    def _publish(self, rows: set[Key], tables: set[str]) -> None:
        assert self.redis is not None
        message = json.dumps({"origin": self.origin, "rows": [[table, str(i)] for table, i in rows],
                              "tables": sorted(tables)})
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a commit outside the event loop (none in the server): the lifetime bounds it
            return
        task = loop.create_task(self._send(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, message: str) -> None:
        assert self.redis is not None
        try:
            await self.redis.publish(self.channel, message)
        except Exception:
            log.exception("could not tell the other replicas which cached rows changed; their copies "
                          "expire within the cache's lifetime", extra={"channel": self.channel, "ttl": self.ttl})

    def receive(self, data: bytes | str) -> None:
        """Apply another replica's invalidation message."""
        try:
            message = json.loads(data)
            if message.get("origin") == self.origin:
                return
            tables = set(message.get("tables", ()))
            rows = [(str(table), uuid.UUID(str(object_id))) for table, object_id in message.get("rows", ())]
        except (ValueError, TypeError, AttributeError):
            log.warning("ignored a malformed read-cache message; clearing the cache", extra={"channel": self.channel})
            self.clear()
            return
        if "*" in tables:
            self.clear()
        else:
            self.invalidate(rows, tables)

    async def start(self) -> None:
        """Listen to the other replicas (with Redis); on every (re)subscription the cache starts empty: what
        they changed while this replica was not listening is unknown."""
        if self._listener is not None and self.ttl > 0:
            await self._listener.start()

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
