"""Span queries that are more than CRUD: the batch upsert, the filtered list, a trace, the runs of a thread,
and the retention purge."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, delete, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.tracing.models import Span

SPANS = cast(Table, Span.__table__)
"""Batches go to the table (a Core statement), not through the ORM's unit of work."""
UPDATED = tuple(column.name for column in SPANS.columns
                if column.name not in ("trace_id", "span_id", "received_unix_nano"))
RUN_ROOT = "invocation.message"


@functools.cache
def _upsert(dialect: str) -> Any:
    """The batch upsert for one dialect, built once: building it (its `excluded` alias especially) cost as
    much as running it."""
    statement: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(SPANS)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(SPANS)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["trace_id", "span_id"],
        set_={name: getattr(excluded, name) for name in UPDATED},
        where=and_(SPANS.c.organization_id == excluded.organization_id,
                   SPANS.c.identity_id == excluded.identity_id,
                   or_(excluded.end_time_unix_nano != 0, SPANS.c.end_time_unix_nano == 0)),
    ).returning(SPANS.c.trace_id, SPANS.c.span_id, SPANS.c.received_unix_nano)


@dataclass(frozen=True)
class Upserted:
    created: list[tuple[str, str]]
    updated: list[tuple[str, str]]
    refused: list[tuple[str, str]]
    """Spans stored by another caller: not overwritten."""


async def upsert_spans(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> Upserted:
    """Insert the spans, or replace those already stored by the same caller in the same organization.

    An export of a span still in progress (`end_time_unix_nano` 0) does not reopen a span stored as
    ended: exporters may deliver out of order. Rows must share one `updated_unix_nano` (the export's time):
    a returned row whose `received_unix_nano` equals it was created by this statement.
    """
    if not rows:
        return Upserted([], [], [])
    latest = {(row["trace_id"], row["span_id"]): row for row in rows}  # one statement touches a row once
    now = next(iter(latest.values()))["updated_unix_nano"]
    statement = _upsert(session.get_bind().dialect.name)
    written = (await session.execute(statement, list(latest.values()))).all()
    created: list[tuple[str, str]] = []
    updated: list[tuple[str, str]] = []
    for trace_id, span_id, received_at in written:
        (created if received_at == now else updated).append((trace_id, span_id))
    missing = set(latest) - {(t, s) for t, s, _ in written}
    refused: list[tuple[str, str]] = []
    if missing:  # not written: stored by another caller, or an older export of an ended span (accepted, moot)
        first = next(iter(latest.values()))
        foreign = await session.execute(
            select(SPANS.c.trace_id, SPANS.c.span_id).where(
                tuple_(SPANS.c.trace_id, SPANS.c.span_id).in_(list(missing)),
                or_(SPANS.c.organization_id != first["organization_id"],
                    SPANS.c.identity_id != first["identity_id"])))
        refused = [(t, s) for t, s in foreign.all()]
    return Upserted(created, updated, refused)


@dataclass(frozen=True)
class SpanFilter:
    organization_id: uuid.UUID
    trace_id: str | None = None
    thread_id: uuid.UUID | None = None
    message_id: uuid.UUID | None = None
    name: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    in_progress: bool | None = None


@dataclass(frozen=True)
class SpanCursor:
    """The last span of a page, newest first: (start time, trace id, span id)."""

    start: int
    trace_id: str
    span_id: str

    def encode(self) -> str:
        return f"{self.start}:{self.trace_id}:{self.span_id}"

    @classmethod
    def decode(cls, text: str) -> SpanCursor:
        start, trace_id, span_id = text.split(":")
        return cls(int(start), trace_id, span_id)


async def list_spans(session: AsyncSession, where: SpanFilter, size: int,
                     after: SpanCursor | None) -> tuple[list[Span], SpanCursor | None]:
    """Spans matching the filter, newest start first, one page after the cursor."""
    statement = select(Span).where(Span.organization_id == where.organization_id)
    if where.trace_id is not None:
        statement = statement.where(Span.trace_id == where.trace_id)
    if where.thread_id is not None:
        statement = statement.where(Span.thread_id == where.thread_id)
    if where.message_id is not None:
        statement = statement.where(Span.message_id == where.message_id)
    if where.name is not None:
        statement = statement.where(Span.name == where.name)
    if where.start_ns is not None:
        statement = statement.where(Span.start_time_unix_nano >= where.start_ns)
    if where.end_ns is not None:
        statement = statement.where(Span.start_time_unix_nano < where.end_ns)
    if where.in_progress is not None:
        statement = statement.where((Span.end_time_unix_nano == 0) if where.in_progress
                                    else (Span.end_time_unix_nano != 0))
    if after is not None:
        statement = statement.where(tuple_(Span.start_time_unix_nano, Span.trace_id, Span.span_id)
                                    < tuple_(after.start, after.trace_id, after.span_id))
    statement = statement.order_by(Span.start_time_unix_nano.desc(), Span.trace_id.desc(),
                                   Span.span_id.desc()).limit(size + 1)
    spans = list((await session.scalars(statement)).all())
    if len(spans) <= size:
        return spans, None
    last = spans[size - 1]
    return spans[:size], SpanCursor(last.start_time_unix_nano, last.trace_id, last.span_id)


async def trace_spans(session: AsyncSession, trace_id: str,
                      organizations: Sequence[uuid.UUID] | None = None) -> list[Span]:
    """A trace's spans (of these organizations only, when given), by start time."""
    statement = select(Span).where(Span.trace_id == trace_id)
    if organizations is not None:
        statement = statement.where(Span.organization_id.in_(organizations))
    return list((await session.scalars(statement.order_by(Span.start_time_unix_nano, Span.span_id))).all())


async def trace_organizations(session: AsyncSession, trace_id: str) -> list[uuid.UUID]:
    """The organizations a trace's spans belong to (one, but for traces several producers share)."""
    rows = await session.scalars(select(Span.organization_id).where(Span.trace_id == trace_id).distinct())
    return list(rows.all())


@dataclass(frozen=True)
class RunCursor:
    """The last run of a page, oldest first: (start time, span id)."""

    start: int
    span_id: str

    def encode(self) -> str:
        return f"{self.start}:{self.span_id}"

    @classmethod
    def decode(cls, text: str) -> RunCursor:
        start, span_id = text.split(":")
        return cls(int(start), span_id)


async def runs_of(session: AsyncSession, thread_id: uuid.UUID, size: int,
                  after: RunCursor | None) -> tuple[list[Span], list[Span], RunCursor | None]:
    """A page of a thread's runs (their root spans, oldest first) and every span of their traces in the
    thread: two queries however many runs and steps."""
    statement = select(Span).where(Span.thread_id == thread_id, Span.name == RUN_ROOT)
    if after is not None:
        statement = statement.where(tuple_(Span.start_time_unix_nano, Span.span_id) > tuple_(after.start,
                                                                                             after.span_id))
    roots = list((await session.scalars(statement.order_by(Span.start_time_unix_nano, Span.span_id)
                                        .limit(size + 1))).all())
    cursor = None
    if len(roots) > size:
        roots = roots[:size]
        cursor = RunCursor(roots[-1].start_time_unix_nano, roots[-1].span_id)
    if not roots:
        return [], [], None
    steps = await session.scalars(
        select(Span).where(Span.thread_id == thread_id, Span.trace_id.in_({root.trace_id for root in roots}),
                           Span.name != RUN_ROOT)
        .order_by(Span.start_time_unix_nano, Span.span_id))
    return roots, list(steps.all()), cursor


async def purge_started_before(session: AsyncSession, cutoff_ns: int, batch: int) -> int:
    """Delete up to `batch` spans that started before the cutoff; returns how many went."""
    doomed = select(SPANS.c.trace_id, SPANS.c.span_id).where(SPANS.c.start_time_unix_nano < cutoff_ns).limit(batch)
    result = await session.execute(delete(SPANS).where(tuple_(SPANS.c.trace_id, SPANS.c.span_id).in_(doomed)))
    return int(getattr(result, "rowcount", 0) or 0)

