from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from agyn.api.dependencies import PrincipalDep, SessionDep, authenticate, service
from agyn.kit.errors import InvalidArgument
from agyn.kit.http import TransactionalRoute
from agyn.kit.routing import ModuleRouter
from agyn.metering.records import LABELS, MICROS, Unit
from agyn.metering.schemas import UsageBucket, UsageReport
from agyn.metering.service import MeteringService

router = ModuleRouter(prefix="/api/v1", tags=["usage"], dependencies=[Depends(authenticate)],
                   route_class=TransactionalRoute)

PARAMETERS = {"organization_id", "start", "end", "unit", "group_by", "granularity"}


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get("/usage", response_model=UsageReport, summary="Usage of an organization, summed")
async def get_usage(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    metering: Annotated[MeteringService, Depends(service(MeteringService))],
    organization_id: Annotated[uuid.UUID, Query(description="The organization (you must be a member).")],
    start: Annotated[datetime | None, Query(description="From (inclusive; default: 30 days before end).")] = None,
    end: Annotated[datetime | None, Query(description="Until (exclusive; default: now).")] = None,
    unit: Annotated[Unit | None, Query(description="Only this unit (default: every unit, apart).")] = None,
    group_by: Annotated[str | None, Query(description=f"Sum per value of a label: {', '.join(LABELS)}.")] = None,
    granularity: Annotated[Literal["hour", "day"] | None, Query(
        description="Sum per hour or per day (UTC); default: one sum over the whole range.")] = None,
) -> UsageReport:
    """Sums of usage records (tokens, requests, compute) in a time range, per unit, optionally per
    period and per value of a label. Any other query parameter named after a label filters by it,
    e.g. `model=gpt-4o&kind=output`."""
    labels: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in PARAMETERS:
            continue
        if name not in LABELS:
            raise InvalidArgument.field(name, f"unknown parameter; filter by a label: {', '.join(LABELS)}")
        labels[name] = value
    start, end = _utc(start), _utc(end)
    first, last, buckets = await metering.usage(
        session, principal, organization_id, start=start, end=end, unit=unit.value if unit else None,
        group_by=group_by, granularity=granularity, labels=labels)
    return UsageReport(
        organization_id=organization_id, start=first, end=last, unit=unit.value if unit else None,
        group_by=group_by, granularity=granularity,
        buckets=[UsageBucket(start=b.start, unit=b.unit, group=b.group, value=b.value / MICROS,
                             value_micros=b.value) for b in buckets])
