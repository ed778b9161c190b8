from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, Dialect, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from agyn.kit.db import Base


class SpanJSON(TypeDecorator[Any]):
    """JSON encoded with orjson: a span is six documents, and the standard library's encoder was the largest
    cost of ingestion. Non-finite floats become null (PostgreSQL's json refuses NaN)."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        def encode(value: Any) -> str | None:
            return None if value is None else orjson.dumps(value).decode()

        return encode


class Span(Base):
    """One OTLP span as last exported (upserted on its ids); `end_time_unix_nano` 0 while in progress.

    Ids are lowercase hex, as OTLP/JSON writes them. The identity columns are set by the server from the
    caller, never from what the producer claims; no foreign keys: traces outlive what they describe and
    are purged by age only.
    """

    __tablename__ = "spans"
    __table_args__ = (
        Index("ix_spans_organization_start", "organization_id", "start_time_unix_nano"),
        Index("ix_spans_thread_start", "thread_id", "start_time_unix_nano"),
        Index("ix_spans_start", "start_time_unix_nano"),
        Index("ix_spans_message", "message_id", postgresql_where=text("message_id IS NOT NULL"),
              sqlite_where=text("message_id IS NOT NULL")),
    )

    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    span_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    parent_span_id: Mapped[str | None] = mapped_column(String(16))
    trace_state: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[int] = mapped_column(Integer, default=0)
    start_time_unix_nano: Mapped[int] = mapped_column(BigInteger)
    end_time_unix_nano: Mapped[int] = mapped_column(BigInteger)
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    status_message: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(SpanJSON)
    events: Mapped[list[dict[str, Any]]] = mapped_column(SpanJSON)
    links: Mapped[list[dict[str, Any]]] = mapped_column(SpanJSON)
    resource: Mapped[dict[str, Any]] = mapped_column(SpanJSON)
    scope: Mapped[dict[str, Any]] = mapped_column(SpanJSON)
    dropped_counts: Mapped[dict[str, int]] = mapped_column(SpanJSON)
    """Attributes, events and links the producer dropped (only those it reported)."""
    organization_id: Mapped[uuid.UUID]
    identity_id: Mapped[uuid.UUID]
    """Who exported it: only the same caller may export it again."""
    agent_id: Mapped[uuid.UUID | None]
    thread_id: Mapped[uuid.UUID | None]
    workload_id: Mapped[uuid.UUID | None]
    message_id: Mapped[uuid.UUID | None]
    received_unix_nano: Mapped[int] = mapped_column(BigInteger)
    """When the span was first stored (nanoseconds, like its own times: cheaper to write than timestamps)."""
    updated_unix_nano: Mapped[int] = mapped_column(BigInteger)
