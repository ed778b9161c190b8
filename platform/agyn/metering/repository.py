"""Usage queries that are more than CRUD: the idempotent batch upsert and the bucketed sums."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.metering.models import UsageRow
from agyn.metering.records import LABEL_MAX_LENGTH, LABELS, UsageRecord

Granularity = Literal["hour", "day"]
USAGE_TABLE = cast(Table, UsageRow.__table__)
"""Batches go to the table (a Core executemany), not through the ORM's bulk insert, which costs several
times more CPU per row for the same statement."""


_NO_LABELS = dict.fromkeys(LABELS)
_LABEL_NAMES = frozenset(LABELS)


def _row(record: UsageRecord) -> dict[str, Any]:
    row = {"organization_id": record.organization_id, "idempotency_key": record.idempotency_key,
           "producer": record.producer, "timestamp": record.timestamp, "unit": str(record.unit),
           "value": record.value, **_NO_LABELS}
    for name, value in record.labels.items():
        if name in _LABEL_NAMES and value is not None:
            row[name] = str(value)[:LABEL_MAX_LENGTH]
    return row


async def upsert_usage(session: AsyncSession, records: Sequence[UsageRecord]) -> int:
    """Insert the records, or update the value of those whose idempotency key is already stored
    (so a replayed record never counts twice, and a re-sampled one corrects its value). Returns how
    many distinct records were written."""
    latest: dict[tuple[uuid.UUID, str], UsageRecord] = {}
    for record in records:  # one statement may not touch a row twice (PostgreSQL refuses): the last wins
        latest[(record.organization_id, record.idempotency_key)] = record
    if not latest:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(USAGE_TABLE)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(USAGE_TABLE)
    statement = statement.on_conflict_do_update(index_elements=["organization_id", "idempotency_key"],
                                                set_={"value": statement.excluded.value})
    await session.execute(statement, [_row(record) for record in latest.values()])
    return len(latest)


@dataclass(frozen=True)
class UsageFilter:
    organization_id: uuid.UUID
    start: datetime
    end: datetime
    unit: str | None = None
    labels: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Bucket:
    start: datetime | None
    unit: str
    group: str | None
    value: int
    """Micro-units."""


def _period(session: AsyncSession, granularity: Granularity) -> ColumnElement[Any]:
    """The start of a record's hour or day, in UTC."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(granularity, func.timezone("UTC", UsageRow.timestamp))
    pattern = "%Y-%m-%d %H:00:00" if granularity == "hour" else "%Y-%m-%d 00:00:00"
    return func.strftime(pattern, UsageRow.timestamp)  # SQLite keeps naive UTC text


def _as_utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def usage_buckets(session: AsyncSession, where: UsageFilter, *, group_by: str | None = None,
                        granularity: Granularity | None = None) -> list[Bucket]:
    """Sums of value per (period, unit, group label), oldest period first."""
    if group_by is not None and group_by not in LABELS:
        raise ValueError(f"unknown label {group_by}")
    columns: list[Any] = []
    period = _period(session, granularity) if granularity else None
    if period is not None:
        columns.append(period.label("period"))
    columns.append(UsageRow.unit)
    group = getattr(UsageRow, group_by) if group_by else None
    if group is not None:
        columns.append(group.label("grp"))
    statement = select(*columns, func.sum(UsageRow.value).label("total")).where(
        UsageRow.organization_id == where.organization_id, UsageRow.timestamp >= where.start,
        UsageRow.timestamp < where.end)
    if where.unit is not None:
        statement = statement.where(UsageRow.unit == where.unit)
    for name, value in (where.labels or {}).items():
        statement = statement.where(getattr(UsageRow, name) == value)
    keys = columns
    statement = statement.group_by(*keys).order_by(*keys)
    buckets = []
    for row in (await session.execute(statement)).all():
        mapping = row._mapping
        buckets.append(Bucket(start=_as_utc(mapping["period"]) if period is not None else None,
                              unit=mapping["unit"], group=mapping["grp"] if group is not None else None,
                              value=int(mapping["total"] or 0)))
    return buckets
