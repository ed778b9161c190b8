"""Reading traces: spans by filter, a trace as a tree, a trace's summary, and a conversation's runs.
Ingestion (`POST /v1/traces`) is `ingest.py`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Query

from agyn.api.dependencies import PrincipalDep, SessionDep, authenticate, service
from agyn.kit.errors import InvalidArgument
from agyn.kit.http import TransactionalRoute
from agyn.kit.pagination import (
    MAX_PAGE_SIZE,
    KeyPageRequest,
    Page,
    PageToken,
    encode_page_token,
    key_page_request,
)
from agyn.kit.routing import ModuleRouter
from agyn.tracing import repository
from agyn.tracing.models import Span
from agyn.tracing.repository import RunCursor, SpanCursor, SpanFilter
from agyn.tracing.runs import build_runs
from agyn.tracing.schemas import (
    NameSummary,
    RunPage,
    SpanNode,
    SpanRead,
    TraceRead,
    TraceSummary,
    duration_ms,
    moment,
)
from agyn.tracing.service import TracingService, normalized_trace_id

router = ModuleRouter(prefix="/api/v1", tags=["tracing"], dependencies=[Depends(authenticate)],
                   route_class=TransactionalRoute)
Tracing = Annotated[TracingService, Depends(service(TracingService))]
KeyPageDep = Annotated[KeyPageRequest, Depends(key_page_request)]
RUNS_PAGE_SIZE = 20


async def runs_page(page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Runs per page.")] =
                    RUNS_PAGE_SIZE, page_token: PageToken = None) -> KeyPageRequest:
    return await key_page_request(page_size, page_token)

C = TypeVar("C")


def _unix_nano(value: datetime | None) -> int | None:
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return int(value.timestamp() * 1_000_000) * 1000


def _cursor(page: KeyPageRequest, decode: Callable[[str], C]) -> C | None:
    if page.after is None:
        return None
    try:
        return decode(page.after)
    except ValueError:
        raise InvalidArgument.field("page_token", "not a token returned by a previous page") from None


@router.get("/spans", response_model=Page[SpanRead], summary="List an organization's spans, newest first")
async def list_spans(
    principal: PrincipalDep, session: SessionDep, tracing: Tracing, page: KeyPageDep,
    organization_id: Annotated[uuid.UUID, Query(description="The organization (you must be a member).")],
    trace_id: Annotated[str | None, Query(description="Only this trace (32 hex digits).")] = None,
    thread_id: Annotated[uuid.UUID | None, Query(description="Only spans of this thread (conversation).")] = None,
    message_id: Annotated[uuid.UUID | None, Query(description="Only spans claiming this message.")] = None,
    name: Annotated[str | None, Query(description="Only spans with this name, e.g. llm.call.")] = None,
    start: Annotated[datetime | None, Query(description="Started at or after (RFC 3339).")] = None,
    end: Annotated[datetime | None, Query(description="Started before (RFC 3339).")] = None,
    in_progress: Annotated[bool | None, Query(description="true: only spans not ended yet; false: only ended "
                                                          "ones.")] = None,
) -> Page[SpanRead]:
    """Spans in the organization matching every filter given, newest start first, a page at a time."""
    await tracing.require_member(principal, organization_id)
    where = SpanFilter(organization_id, normalized_trace_id(trace_id) if trace_id else None, thread_id, message_id,
                       name, _unix_nano(start), _unix_nano(end), in_progress)
    spans, cursor = await repository.list_spans(session, where, page.size, _cursor(page, SpanCursor.decode))
    return Page(items=[SpanRead.of(span) for span in spans],
                next_page_token=encode_page_token(cursor.encode()) if cursor else None)


@router.get("/traces/{trace_id}", response_model=TraceRead, summary="Get a trace as a tree of spans")
async def get_trace(trace_id: str, principal: PrincipalDep, session: SessionDep, tracing: Tracing) -> TraceRead:
    """Every span of the trace (in organizations you are a member of), each under its parent, children by
    start time. A span whose parent is not stored (yet) is a root."""
    spans = await tracing.trace(session, principal, trace_id)
    return TraceRead(trace_id=spans[0].trace_id, span_count=len(spans), roots=span_tree(spans))


def span_tree(spans: list[Span]) -> list[SpanNode]:
    """Each span under its parent, children in the order given (by start time). A span whose parent is not
    stored is a root; so is the first of a cycle a producer made of parent ids: each span appears once."""
    nodes = {span.span_id: SpanNode(**SpanRead.of(span).model_dump()) for span in spans}
    children: dict[str, list[str]] = defaultdict(list)
    for span in spans:
        if span.parent_span_id in nodes and span.parent_span_id != span.span_id:
            children[span.parent_span_id].append(span.span_id)
    placed: set[str] = set()

    def place(span_id: str) -> SpanNode:
        placed.add(span_id)
        pending = [span_id]
        while pending:  # iterative: a deep trace must not exhaust the stack
            current = pending.pop()
            for child in children[current]:
                if child not in placed:
                    placed.add(child)
                    nodes[current].children.append(nodes[child])
                    pending.append(child)
        return nodes[span_id]

    roots = [place(s.span_id) for s in spans if s.parent_span_id not in nodes or s.parent_span_id == s.span_id]
    roots += [place(s.span_id) for s in spans if s.span_id not in placed]  # cycles
    return roots


@router.get("/traces/{trace_id}/summary", response_model=TraceSummary,
            summary="Counts and durations of a trace's spans, by name")
async def trace_summary(trace_id: str, principal: PrincipalDep, session: SessionDep,
                        tracing: Tracing) -> TraceSummary:
    spans = await tracing.trace(session, principal, trace_id)
    by_name: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_name[span.name].append(span)
    start = min(span.start_time_unix_nano for span in spans)
    open_spans = sum(1 for span in spans if span.end_time_unix_nano == 0)
    end = 0 if open_spans else max(span.end_time_unix_nano for span in spans)
    return TraceSummary(
        trace_id=spans[0].trace_id, span_count=len(spans), in_progress=open_spans,
        errors=sum(1 for span in spans if span.status_code == 2), start_time=moment(start), end_time=moment(end),
        duration_ms=duration_ms(start, end), by_name=[_name_summary(name, group) for name, group in by_name.items()])


def _name_summary(name: str, spans: list[Span]) -> NameSummary:
    durations = [(s.end_time_unix_nano - s.start_time_unix_nano) / 1e6 for s in spans if s.end_time_unix_nano]
    return NameSummary(name=name, count=len(spans), in_progress=len(spans) - len(durations),
                       errors=sum(1 for s in spans if s.status_code == 2),
                       total_duration_ms=round(sum(durations), 3),
                       max_duration_ms=round(max(durations), 3) if durations else None)


@router.get("/conversations/{conversation_id}/runs", response_model=RunPage,
            summary="The run timeline of a conversation: each run of its agents with its steps, oldest first")
async def conversation_runs(conversation_id: uuid.UUID, principal: PrincipalDep, session: SessionDep,
                            tracing: Tracing, page: Annotated[KeyPageRequest, Depends(runs_page)]) -> RunPage:
    """One run per batch of messages an agent handled: the messages received, each LLM call (model, input
    items, output, usage), each tool execution (tool, input, output, error) and summarization, in order,
    with durations. For those who may read the conversation."""
    thread = await tracing.conversation_thread(session, principal, conversation_id)
    roots, steps, cursor = await repository.runs_of(session, thread.id, page.size, _cursor(page, RunCursor.decode))
    return RunPage(conversation_id=conversation_id, items=build_runs(roots, steps),
                   next_page_token=encode_page_token(cursor.encode()) if cursor else None)
