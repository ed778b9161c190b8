from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agyn.kit.db import Base
from agyn.kit.ids import uuid7
from agyn.metering.records import LABEL_MAX_LENGTH


class UsageRow(Base):
    """A usage record as stored: one row per idempotency key in an organization; labels as columns.

    No foreign key to organizations: usage is a ledger written off the request path, kept as recorded.
    """

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key"),
        Index("ix_usage_records_org_unit_time", "organization_id", "unit", "timestamp"),
        Index("ix_usage_records_org_time", "organization_id", "timestamp"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    organization_id: Mapped[uuid.UUID]
    idempotency_key: Mapped[str] = mapped_column(String(255))
    producer: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[datetime]
    unit: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(BigInteger)
    resource: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    resource_id: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    model: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    identity_id: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    identity_type: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    agent_id: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    thread_id: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    message_id: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    kind: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    status: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    vendor: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    runner_id: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    host: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
    outcome: Mapped[str | None] = mapped_column(String(LABEL_MAX_LENGTH))
