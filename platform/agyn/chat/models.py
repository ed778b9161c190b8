from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from agyn.kit.db import RecordModel

SUMMARY_MAX = 200


class Conversation(RecordModel):
    """The chat state of a thread (same id): written on the first change of its status or summary;
    a thread without one is an open conversation whose summary is its first message's first line."""

    __tablename__ = "conversations"

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    summary: Mapped[str | None] = mapped_column(String(SUMMARY_MAX))
