from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agyn.kit.db import Base, utcnow


class Identity(Base):
    __tablename__ = "identities"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrgNickname(Base):
    """A handle (`@nickname`) of an identity inside one organization."""

    __tablename__ = "org_nicknames"
    __table_args__ = (UniqueConstraint("organization_id", "identity_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    nickname: Mapped[str] = mapped_column(String(32), primary_key=True)
    identity_id: Mapped[uuid.UUID] = mapped_column(index=True)
