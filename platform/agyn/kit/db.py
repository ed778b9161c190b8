"""Database engine, declarative base, and the one-transaction-per-request unit of work."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import Counter
from sqlalchemy import JSON, DateTime, Integer, MetaData, TypeDecorator, event, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from agyn.kit.ids import uuid7

log = logging.getLogger("agyn.db")

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
        digest = hashlib.sha256(f"{self.id}:{self.version}".encode()).hexdigest()[:20]
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


class Database:
    """One async engine and session factory per process."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite and (path := sqlite_path(url)) is not None:
            restrict_file(path)  # before SQLite creates it with the process umask (0644)
        engine_args: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            engine_args["connect_args"] = {"timeout": 30}
        else:
            engine_args.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **engine_args)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.after_commit_failures = Counter(
            "agyn_after_commit_failures", "After-commit work (events, OpenFGA tuple writes) that failed.",
            ["kind"], registry=None)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False,
                                               info={FAILURES: self.after_commit_failures})

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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


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
