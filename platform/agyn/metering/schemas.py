from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class UsageBucket(BaseModel):
    start: datetime | None = Field(description="The period's start (UTC); null without a granularity.")
    unit: str = Field(description="TOKENS, COUNT, CORE_SECONDS or GB_SECONDS.")
    group: str | None = Field(description="The value of the `group_by` label (null: records without it, or no "
                                          "grouping).")
    value: float = Field(description="The sum, in units (tokens, requests, ...).")
    value_micros: int = Field(description="The same sum in micro-units, exactly as stored.")


class UsageReport(BaseModel):
    organization_id: uuid.UUID
    start: datetime
    end: datetime
    unit: str | None
    group_by: str | None
    granularity: str | None
    buckets: list[UsageBucket]
