"""Metering: producers record usage (`record_usage`), members of an organization read its sums."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization import objects
from agyn.kit.errors import InvalidArgument, NotFound
from agyn.kit.platform import Platform
from agyn.kit.principal import Principal
from agyn.metering.records import LABELS, UsageRecord
from agyn.metering.repository import Bucket, Granularity, UsageFilter, usage_buckets
from agyn.metering.writer import UsageWriter
from agyn.settings import Settings

DEFAULT_RANGE = timedelta(days=30)


class MeteringService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.writer = UsageWriter(platform.database, platform.get(Settings).metering)

    def record(self, *records: UsageRecord) -> None:
        """Hand usage records to the background writer (no I/O; see `record_usage`)."""
        self.writer.submit(records)

    async def usage(self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID, *,
                    start: datetime | None, end: datetime | None, unit: str | None, group_by: str | None,
                    granularity: Granularity | None, labels: Mapping[str, str]) -> tuple[datetime, datetime,
                                                                                          list[Bucket]]:
        """The organization's usage summed per period, unit and label value: for its members."""
        if not await self.platform.authz.check(principal, "can_view", objects.organization(organization_id)):
            raise NotFound(f"organization {organization_id} not found")
        end = end or self.platform.clock.now()
        start = start or end - DEFAULT_RANGE
        if start >= end:
            raise InvalidArgument.field("start", "must be before end")
        if group_by is not None and group_by not in LABELS:
            raise InvalidArgument.field("group_by", f"not a label; use one of {', '.join(LABELS)}")
        where = UsageFilter(organization_id, start, end, unit, labels)
        return start, end, await usage_buckets(session, where, group_by=group_by, granularity=granularity)


def record_usage(platform: Platform, *records: UsageRecord) -> None:
    """Record usage from any module: returns at once; a background writer stores the records in
    batches. Give each record an idempotency key that names the measured thing (e.g. `<call id>:input`,
    `thread:<id>`, `message:<id>`): recording it again replaces its value instead of adding to it, so
    a producer may retry freely. Values are micro-units (`records.micros(n)`); labels outside
    `records.LABELS` are dropped."""
    platform.get(MeteringService).record(*records)
