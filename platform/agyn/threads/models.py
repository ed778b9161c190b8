"""The conversation store: threads, their participants, messages, and one read-state row per
recipient (every participant but the sender), unacknowledged until that recipient acks it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from agyn.kit.db import Base, RecordModel, utcnow
from agyn.kit.ids import uuid7

THREAD_STATUSES = ("active", "archived", "degraded")


class Thread(RecordModel):
    """Never updated by a send (so concurrent sends do not contend for it): only its status changes."""

    __tablename__ = "threads"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                       index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    degraded_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID] = mapped_column()


class Participant(Base):
    """An identity of any type (user, agent, app) taking part in a thread."""

    __tablename__ = "thread_participants"
    # an identity's threads, newest first, read straight off the index (conversations, threads of mine)
    __table_args__ = (Index("ix_thread_participants_identity_id_thread_id", "identity_id", "thread_id"),)

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """Immutable once sent; its uuid7 id orders a thread's messages."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread_id_id", "thread_id", "id"),
        # one message per sender and Idempotency-Key in a thread, whichever of the sender's tokens sent it
        Index("uq_messages_thread_id_sender_id_idempotency_key", "thread_id", "sender_id", "idempotency_key",
              unique=True, postgresql_where=text("idempotency_key IS NOT NULL"),
              sqlite_where=text("idempotency_key IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    sender_id: Mapped[uuid.UUID] = mapped_column()
    body: Mapped[str] = mapped_column(Text)
    file_ids: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))


class Recipient(Base):
    """A message's read state for one recipient; `acked_at` NULL means unacknowledged (unread)."""

    __tablename__ = "message_recipients"
    __table_args__ = (
        # the recipient's unacked messages, per thread, oldest first; and their counts (index only)
        Index("ix_message_recipients_participant_acked", "participant_id", "acked_at", "thread_id", "message_id"),
        # the unacked rows alone, small however many messages were ever sent: the orchestrator's
        # (thread, agent) pairs with work to do
        Index("ix_message_recipients_unacked", "thread_id", "participant_id",
              postgresql_where=text("acked_at IS NULL"), sqlite_where=text("acked_at IS NULL")),
    )

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    thread_id: Mapped[uuid.UUID] = mapped_column()  # the message's, denormalised (its rows go with the message)
    acked_at: Mapped[datetime | None] = mapped_column()
