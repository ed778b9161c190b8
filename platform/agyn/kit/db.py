"""Database engine, declarative base, and the one-transaction-per-request unit of work."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import Counter
from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    DateTime,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    any_,
    event,
    func,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, Session, declared_attr, mapped_column
from sqlalchemy.pool import PoolResetState

from agyn.kit.ids import uuid7

log = logging.getLogger("agyn.db")
MAX_ENCODED_CHARACTERS = 8_000_000
"""What `among` keeps of its encoded arrays on SQLite, all together (past it the oldest go)."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class RecordModel(Base):
    """A top-level resource: time-ordered UUID id, timestamps, and an optimistic-lock version.

    The version doubles as the resource's ETag, so concurrent writers get 412 instead of a lost
    update.
    """

    __abstract__ = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}

    @property
    def etag(self) -> str:
        return etag_of(self.id, self.version)


def etag_of(record_id: uuid.UUID, version: int) -> str:
    """A record's ETag: its id and version, hashed (the version alone would tell how often it changed)."""
    digest = hashlib.sha256(f"{record_id}:{version}".encode()).hexdigest()[:20]
    return f'"{digest}"'


async def lock_rows(session: AsyncSession, model: type[Any], ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Lock these rows of `model` until the transaction ends; returns the ids that still exist.

    The rule that reads after this call sees every transaction that locked the same rows before it
    committed, so "check then write" holds under concurrency (the last owner, a grant against a
    removal). PostgreSQL: `SELECT ... FOR NO KEY UPDATE` (inserts referencing the row are not
    blocked). SQLite has no row locks: a no-op UPDATE of the rows takes the database's write lock
    now, so a second writer waits here rather than after its reads.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    id_column = model.__table__.c.id
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        result = await session.execute(update(model.__table__).where(id_column.in_(wanted))
                                       .values({id_column: id_column}).returning(id_column))
        return set(result.scalars())
    # ordered by id: two transactions locking overlapping sets take them in one order (no deadlock)
    result = await session.execute(select(id_column).where(id_column.in_(wanted)).order_by(id_column)
                                   .with_for_update(key_share=True))
    return set(result.scalars())


async def lock_name(session: AsyncSession, name: str) -> None:
    """Serialize the transactions that take the same `name` until this one ends, for a rule with no
    row to lock yet (first-start bootstrap: "create unless it exists"). PostgreSQL: a transaction-level
    advisory lock. SQLite: nothing to do, one process serves a database file.
    """
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def restrict_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (the SQLite database: hashes, ciphertext).

    A path that cannot be created is left alone: opening the database reports it, where start-up
    failures are reported."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        pass


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite+aiosqlite:///<path>` URL (None for an in-memory database)."""
    _, _, rest = url.partition(":///")
    path = rest.split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


IDLE_BEFORE_PING = 5.0
"""Seconds a PostgreSQL connection may sit in the pool and go out again without a ping."""
CHECKED_IN = "agyn_checked_in"


class Database:
    """One async engine and session factory per process."""

    def __init__(self, url: str, *, echo: bool = False, idle_before_ping: float = IDLE_BEFORE_PING) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite and (path := sqlite_path(url)) is not None:
            restrict_file(path)  # before SQLite creates it with the process umask (0644)
        engine_args: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            engine_args["connect_args"] = {"timeout": 30}
            engine_args["pool_reset_on_return"] = None  # `_sqlite_reset` instead
        else:
            engine_args.update(pool_size=10, max_overflow=20)
        self.engine: AsyncEngine = create_async_engine(url, **engine_args)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "reset", _sqlite_reset)
        else:
            _ping_when_idle(self.engine, idle_before_ping)
        self.after_commit_failures = Counter(
            "agyn_after_commit_failures", "After-commit work (events, OpenFGA tuple writes) that failed.",
            ["kind"], registry=None)
        # a class of its own, so session events (the read cache's) follow this database's sessions only
        self.session_class: type[Session] = type("DatabaseSession", (Session,), {})
        self._json_arrays: dict[int, tuple[Sequence[Any], str]] = {}
        """id(values) → (values, their JSON array) for `among` on SQLite (the values are kept, so the id
        cannot be reused by another tuple while its entry lives)."""
        self._encoded_characters = 0
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False,
                                               sync_session_class=self.session_class,
                                               info={FAILURES: self.after_commit_failures})

    def among(self, column: ColumnElement[Any] | InstrumentedAttribute[Any],
              values: Sequence[Any]) -> ColumnElement[bool]:
        """`column IN values`, with one parameter, so that a filter over hundreds of ids is neither rendered
        nor bound value by value: on PostgreSQL `column = ANY(:values)`, an array; on SQLite a JSON array
        read by `json_each`, encoded once for a tuple of values passed again (the authorization
        service hands out the same tuple of ids until its tuples change)."""
        if self.is_sqlite:
            encoded = literal(self._json_array(column, values), String())
            return column.in_(select(literal_column("value")).select_from(func.json_each(encoded)))
        return column == any_(literal(list(values), ARRAY(column.type)))

    def _json_array(self, column: ColumnElement[Any] | InstrumentedAttribute[Any], values: Sequence[Any]) -> str:
        known = self._json_arrays.get(id(values))
        if known is not None and known[0] is values:
            return known[1]
        to_stored = column.type.bind_processor(self.engine.dialect) or (lambda value: value)
        encoded = json.dumps([to_stored(value) for value in values])
        if isinstance(values, tuple) and len(encoded) <= MAX_ENCODED_CHARACTERS:  # a tuple never changes
            while self._json_arrays and self._encoded_characters + len(encoded) > MAX_ENCODED_CHARACTERS:
                _, forgotten = self._json_arrays.pop(next(iter(self._json_arrays)))
                self._encoded_characters -= len(forgotten)
            self._json_arrays[id(values)] = (values, encoded)
            self._encoded_characters += len(encoded)
        return encoded

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits on success (running after-commit hooks) or rolls back."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await commit(session)
            except BaseException:
                await session.rollback()
                raise


def _ping_when_idle(engine: AsyncEngine, idle_before_ping: float) -> None:
    """The pool's pre-ping (on asyncpg three round trips: begin, `;`, rollback), done only for a
    connection that sat in the pool longer than `idle_before_ping` seconds, where a restarted server or a
    dropped link would have left it dead. A busy pool's connections come back within milliseconds and go
    out unpinged; one that dies in that window fails its request, and SQLAlchemy then replaces the
    pool's connections (disconnect errors invalidate the pool)."""
    dialect = engine.sync_engine.dialect

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[CHECKED_IN] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(CHECKED_IN)
        if since is None or time.monotonic() - since <= idle_before_ping:
            return  # new (just connected), or back from work a moment ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            raise DisconnectionError("an idle pooled connection no longer answers")  # the pool connects anew

    event.listen(engine.sync_engine, "checkin", checked_in)
    event.listen(engine.sync_engine, "checkout", checked_out)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """The pool's rollback of a connection it takes back, done only when SQLite holds a transaction open
    on it: a request that committed left none, and the rollback would be one more trip to
    aiosqlite's thread for nothing."""
    if not state.asyncio_safe or state.transaction_was_reset:
        return
    try:
        open_transaction = dbapi_connection.driver_connection.in_transaction
    except ValueError:  # aiosqlite's connection is closed: nothing to roll back
        return
    if open_transaction:
        dbapi_connection.rollback()


AfterCommit = Callable[[], Awaitable[None]]
AFTER_COMMIT = "after_commit"
FAILURES = "after_commit_failures"


@dataclass(frozen=True)
class _Hook:
    run: AfterCommit
    what: str
    event_id: str | None


def after_commit(session: AsyncSession, hook: AfterCommit, *, what: str, event_id: str | None = None) -> None:
    """Run `hook` once this session's transaction has committed (events, tuples for OpenFGA, caches).

    `what` (and the event id, for an event) name the work in the log if it fails.
    """
    session.info.setdefault(AFTER_COMMIT, []).append(_Hook(hook, what, event_id))


def has_work(session: AsyncSession) -> bool:
    """Whether committing `session` would do anything: an open transaction, or staged after-commit work
    (a request answered from caches alone has neither, and skips the commit's bookkeeping)."""
    return session.in_transaction() or bool(session.info.get(AFTER_COMMIT))


def discard_after_commit(session: AsyncSession) -> None:
    """Forget the work staged for a transaction that will not commit."""
    session.info.pop(AFTER_COMMIT, None)


async def commit(session: AsyncSession) -> None:
    """Commit, then run the after-commit work. Each piece runs alone: one that fails is logged and
    counted, never stops the others, and never turns the committed write into an error."""
    await session.commit()
    hooks: list[_Hook] = session.info.pop(AFTER_COMMIT, [])
    for hook in hooks:
        try:
            await hook.run()
        except Exception:
            log.exception("after-commit work failed; the write itself is committed",
                          extra={"after_commit": hook.what, "event_id": hook.event_id})
            failures: Counter | None = session.info.get(FAILURES)
            if failures is not None:
                failures.labels(hook.what.split(" ", 1)[0]).inc()
