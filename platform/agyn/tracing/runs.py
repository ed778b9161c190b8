"""The run timeline: a conversation's runs (one `invocation.message` span per handled batch of messages)
with their steps in order, read from the spans the agent runtime exports (attribute names in
docs/tracing.md). Pure: spans in, runs out."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Literal

from agyn.tracing.models import Span
from agyn.tracing.schemas import (
    ContextItem,
    Run,
    RunEvent,
    ToolCall,
    Usage,
    duration_ms,
    moment,
    status_of,
)

MESSAGE_RECEIVED = "agyn.message.received"
CONTEXT_ITEM = "agyn.llm.context_item"
MODEL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "responses"})


def build_runs(roots: Sequence[Span], steps: Sequence[Span]) -> list[Run]:
    """Each root with the steps below it (however deep), in start order."""
    parents = {(span.trace_id, span.span_id): span.parent_span_id for span in (*roots, *steps)}
    root_ids = {(root.trace_id, root.span_id) for root in roots}
    roots_of_trace: dict[str, list[str]] = defaultdict(list)
    for root in roots:
        roots_of_trace[root.trace_id].append(root.span_id)
    below: dict[tuple[str, str], list[Span]] = defaultdict(list)
    for step in steps:
        owner = _owner(step, parents, root_ids) or (
            (step.trace_id, roots_of_trace[step.trace_id][0]) if len(roots_of_trace[step.trace_id]) == 1 else None)
        if owner is not None:
            below[owner].append(step)
    return [_run(root, below[(root.trace_id, root.span_id)]) for root in roots]


def _owner(step: Span, parents: dict[tuple[str, str], str | None],
           roots: set[tuple[str, str]]) -> tuple[str, str] | None:
    seen: set[str] = set()
    parent = step.parent_span_id
    while parent is not None and parent not in seen:
        key = (step.trace_id, parent)
        if key in roots:
            return key
        seen.add(parent)
        parent = parents.get(key)
    return None


def _run(root: Span, steps: list[Span]) -> Run:
    events = [_message(root, event) for event in root.events if event.get("name") == MESSAGE_RECEIVED]
    events += [event for step in steps if (event := _step(step)) is not None]
    events.sort(key=lambda event: event.start_time.timestamp() if event.start_time else 0.0)
    ids = root.attributes.get("agyn.thread.message.ids")
    message_ids = [str(i) for i in ids] if isinstance(ids, list) else [e.message_id for e in events
                                                                       if e.type == "message" and e.message_id]
    ended = root.end_time_unix_nano != 0
    status: Literal["in_progress", "ok", "error"] = "in_progress" if not ended else \
        "error" if root.status_code == 2 else "ok"
    response = root.attributes.get("agyn.response.text")
    return Run(trace_id=root.trace_id, span_id=root.span_id, start_time=moment(root.start_time_unix_nano),
               end_time=moment(root.end_time_unix_nano),
               duration_ms=duration_ms(root.start_time_unix_nano, root.end_time_unix_nano), status=status,
               error=root.status_message if root.status_code == 2 else None, message_ids=message_ids,
               agent_id=root.agent_id, workload_id=root.workload_id,
               response=str(response) if response else None, events=events)


def _message(root: Span, event: dict[str, Any]) -> RunEvent:
    attributes = event.get("attributes") or {}
    message_id = attributes.get("agyn.thread.message.id")
    return RunEvent(type="message", span_id=root.span_id, start_time=moment(int(event.get("time_unix_nano") or 0)),
                    message_id=str(message_id) if message_id else None,
                    text=str(attributes.get("agyn.message.text", "")))


def _common(span: Span) -> dict[str, Any]:
    return {"span_id": span.span_id, "start_time": moment(span.start_time_unix_nano),
            "end_time": moment(span.end_time_unix_nano),
            "duration_ms": duration_ms(span.start_time_unix_nano, span.end_time_unix_nano),
            "status": status_of(span.status_code), "error": span.status_message if span.status_code == 2 else None}


def _step(span: Span) -> RunEvent | None:
    attributes = span.attributes
    operation = attributes.get("gen_ai.operation.name")
    if span.name == "summarization":
        return RunEvent(type="summarization", model=_text(attributes.get("gen_ai.request.model")),
                        output=_text(attributes.get("agyn.summarization.text")), **_common(span))
    if operation == "execute_tool" or span.name.startswith("execute_tool"):
        return RunEvent(type="tool_execution", tool=_text(attributes.get("gen_ai.tool.name")),
                        call_id=_text(attributes.get("gen_ai.tool.call.id")),
                        input=_text(attributes.get("gen_ai.tool.call.arguments")),
                        output=_text(attributes.get("gen_ai.tool.call.result")), **_common(span))
    if span.name == "llm.call" or operation in MODEL_OPERATIONS:
        return RunEvent(type="llm_call", model=_text(attributes.get("gen_ai.request.model")),
                        input=[_context_item(event) for event in span.events if event.get("name") == CONTEXT_ITEM],
                        output=_text(attributes.get("agyn.llm.response_text")),
                        tool_calls=_tool_calls(attributes.get("agyn.llm.tool_calls")),
                        usage=Usage(input_tokens=_int(attributes.get("gen_ai.usage.input_tokens")),
                                    output_tokens=_int(attributes.get("gen_ai.usage.output_tokens"))),
                        **_common(span))
    return None


def _context_item(event: dict[str, Any]) -> ContextItem:
    attributes = event.get("attributes") or {}
    return ContextItem(role=str(attributes.get("agyn.context.role", "")),
                       text=str(attributes.get("agyn.context.text", "")),
                       is_new=bool(attributes.get("agyn.context.is_new", False)))


def _tool_calls(raw: Any) -> list[ToolCall] | None:
    if not isinstance(raw, str):
        return None
    try:
        calls = json.loads(raw)
        return [ToolCall(name=str(call["name"]), arguments=str(call.get("arguments", ""))) for call in calls]
    except (ValueError, TypeError, KeyError):
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
