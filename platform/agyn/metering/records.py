"""What a producer hands to metering: a usage record, in micro-units, with labels from a fixed set."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

MICROS = 1_000_000


class Unit(StrEnum):
    TOKENS = "TOKENS"
    COUNT = "COUNT"
    CORE_SECONDS = "CORE_SECONDS"
    GB_SECONDS = "GB_SECONDS"


LABELS = ("resource", "resource_id", "model", "identity_id", "identity_type", "agent_id", "thread_id",
          "message_id", "kind", "status", "vendor", "runner_id", "host", "outcome")
"""The labels a record may carry; each is a column (queryable, groupable). Others are dropped."""

LABEL_MAX_LENGTH = 255


def micros(amount: int | float) -> int:
    """`amount` units as micro-units, the stored integer (3 tokens → 3_000_000)."""
    return round(amount * MICROS)


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One measurement. The idempotency key identifies it: recording it again (a retry, a replay)
    replaces its value instead of adding to it."""

    organization_id: uuid.UUID
    idempotency_key: str
    producer: str
    unit: Unit
    value: int
    """Micro-units (`micros(3)` for three tokens)."""
    timestamp: datetime
    labels: Mapping[str, str] = field(default_factory=dict)
