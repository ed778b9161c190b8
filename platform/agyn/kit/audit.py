"""An append-only audit log of privileged actions (who did what to which resource)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from agyn.kit.db import Base, utcnow
from agyn.kit.ids import uuid7
from agyn.kit.principal import Principal


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    actor_identity_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def record_audit_event(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    target_type: str,
    target_id: object,
    **details: Any,
) -> None:
    """Add an audit entry to the caller's transaction: it lands only if the action does."""
    session.add(
        AuditEvent(
            actor_identity_id=actor.identity_id if actor else None,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            details=details,
        )
    )
