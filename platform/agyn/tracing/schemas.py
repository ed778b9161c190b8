"""The JSON of the tracing API (documented with examples in docs/tracing.md; the web app relies on it).

Times are given twice: RFC 3339 (`start_time`) for people and pages, and nanoseconds since the epoch as a
string (`start_time_unix_nano`), exact where JSON numbers are not. `end_time` is null while in progress.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from agyn.tracing.models import Span

KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUSES = ("unset", "ok", "error")
Status = Literal["unset", "ok", "error"]


def moment(unix_nano: int) -> datetime | None:
    return datetime.fromtimestamp(unix_nano / 1e9, UTC) if unix_nano else None


def duration_ms(start: int, end: int) -> float | None:
    return round((end - start) / 1e6, 3) if end else None


class SpanStatus(BaseModel):
    code: Status
    message: str | None = None


class SpanRead(BaseModel):
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str = Field(description="unspecified, internal, server, client, producer or consumer.")
    start_time: datetime | None
    end_time: datetime | None = Field(description="Null while the span is in progress.")
    start_time_unix_nano: str
    end_time_unix_nano: str = Field(description="\"0\" while the span is in progress.")
    duration_ms: float | None
    in_progress: bool
    status: SpanStatus
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    links: list[dict[str, Any]]
    resource: dict[str, Any]
    scope: dict[str, Any]
    trace_state: str | None = None
    flags: int = 0
    dropped_counts: dict[str, int] = Field(default_factory=dict)
    organization_id: uuid.UUID
    agent_id: uuid.UUID | None
    thread_id: uuid.UUID | None
    workload_id: uuid.UUID | None
    message_id: uuid.UUID | None

    @classmethod
    def of(cls, span: Span) -> SpanRead:
        return cls(trace_id=span.trace_id, span_id=span.span_id, parent_span_id=span.parent_span_id, name=span.name,
                   kind=KINDS[span.kind] if 0 <= span.kind < len(KINDS) else str(span.kind),
                   start_time=moment(span.start_time_unix_nano), end_time=moment(span.end_time_unix_nano),
                   start_time_unix_nano=str(span.start_time_unix_nano),
                   end_time_unix_nano=str(span.end_time_unix_nano),
                   duration_ms=duration_ms(span.start_time_unix_nano, span.end_time_unix_nano),
                   in_progress=span.end_time_unix_nano == 0,
                   status=SpanStatus(code=status_of(span.status_code), message=span.status_message),
                   attributes=span.attributes, events=span.events, links=span.links, resource=span.resource,
                   scope=span.scope, trace_state=span.trace_state, flags=span.flags,
                   dropped_counts=span.dropped_counts, organization_id=span.organization_id,
                   agent_id=span.agent_id, thread_id=span.thread_id, workload_id=span.workload_id,
                   message_id=span.message_id)


def status_of(code: int) -> Status:
    return "error" if code == 2 else "ok" if code == 1 else "unset"


class SpanNode(SpanRead):
    children: list[SpanNode] = Field(default_factory=list)


class TraceRead(BaseModel):
    trace_id: str
    span_count: int
    roots: list[SpanNode] = Field(description="Spans without a parent in the trace, each with its children "
                                              "(by start time), recursively.")


class NameSummary(BaseModel):
    name: str
    count: int
    in_progress: int
    errors: int
    total_duration_ms: float = Field(description="Of the ended spans.")
    max_duration_ms: float | None


class TraceSummary(BaseModel):
    trace_id: str
    span_count: int
    in_progress: int
    errors: int
    start_time: datetime | None
    end_time: datetime | None = Field(description="The latest end; null while any span is in progress.")
    duration_ms: float | None
    by_name: list[NameSummary]


class Usage(BaseModel):
    input_tokens: int | None = None
    output_tokens: int | None = None


class ContextItem(BaseModel):
    role: str
    text: str
    is_new: bool = Field(description="Added in this run (false: the conversation's earlier history).")


class ToolCall(BaseModel):
    name: str
    arguments: str


class RunEvent(BaseModel):
    """One step of a run. `type` says which fields are set: `message` (message_id, text), `llm_call` (model,
    input, output, tool_calls, usage), `tool_execution` (tool, call_id, input, output, error),
    `summarization` (model, output: the summary)."""

    type: Literal["message", "llm_call", "tool_execution", "summarization"]
    span_id: str
    start_time: datetime | None
    end_time: datetime | None = None
    duration_ms: float | None = None
    status: Status = "unset"
    error: str | None = None
    message_id: str | None = None
    text: str | None = None
    model: str | None = None
    input: list[ContextItem] | str | None = None
    output: str | None = None
    tool_calls: list[ToolCall] | None = None
    usage: Usage | None = None
    tool: str | None = None
    call_id: str | None = None


class Run(BaseModel):
    """One handled batch of messages: the agent's turn, from the messages to its answer."""

    trace_id: str
    span_id: str
    start_time: datetime | None
    end_time: datetime | None
    duration_ms: float | None
    status: Literal["in_progress", "ok", "error"]
    error: str | None = None
    message_ids: list[str]
    agent_id: uuid.UUID | None
    workload_id: uuid.UUID | None
    response: str | None = Field(description="The answer the run posted, when it ended with one.")
    events: list[RunEvent]


class RunPage(BaseModel):
    conversation_id: uuid.UUID
    items: list[Run]
    next_page_token: str | None = None
