from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agyn.kit.db import RecordModel
from agyn.organizations.resources import ORGANIZATION


class Organization(RecordModel):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(ORGANIZATION.field("name").max_length), unique=True)
    is_system: Mapped[bool] = mapped_column(default=False)


class Membership(RecordModel):
    """An identity's role in an org; only `active` memberships grant anything."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "identity_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                       index=True)
    identity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[uuid.UUID | None] = mapped_column()
