from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from agyn.kit.db import Base, utcnow


class AuthorizationTuple(Base):
    """A relationship tuple of the embedded engine; the table is its durable copy."""

    __tablename__ = "authorization_tuples"

    object: Mapped[str] = mapped_column(String(255), primary_key=True)
    relation: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
