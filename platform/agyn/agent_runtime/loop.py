"""The native agent loop: one turn = load the conversation, summarize it when it is over budget, then call
the model (OpenAI Responses API, streaming) and run the tools it asks for, until it answers with text and
no tool calls. The finished turn is saved; a failed one leaves the history as it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
from opentelemetry.trace import Span, Status, StatusCode

from agyn.agent_runtime.history import Conversation, Entry, HistoryStore
from agyn.agent_runtime.tools import ToolBox
from agyn.agent_runtime.tracing import Tracing

log = logging.getLogger("agyn.agent_runtime")

TOOLS_INSTRUCTIONS = "If tool calls are needed, include all required tool calls in a single response."
SUMMARY_INSTRUCTIONS = "Summarize the thread history. Keep decisions, tool usage, and requirements. Be concise."
MAX_ATTRIBUTE_CHARS = 16_384
PROVIDER = "openai"
"""`gen_ai.provider.name`: the runtime speaks the OpenAI Responses API (through the platform's proxy)."""
UNAVAILABLE = "I could not get an answer from the model; please try again later."


@dataclass(frozen=True)
class Summarization:
    """Past `max_tokens`, the oldest part of the history becomes one summary, keeping at least the
    newest `keep_tokens`; `model` (default: the agent's) writes it."""

    max_tokens: int = 4096
    keep_tokens: int = 2048
    model: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.keep_tokens <= self.max_tokens:
            raise ValueError("summarization needs 0 < keep_tokens <= max_tokens")

    @classmethod
    def from_configuration(cls, configuration: Mapping[str, Any]) -> Summarization:
        """The agent's `configuration.summarization` (`max_tokens`, `keep_tokens`, `model`), defaults else."""
        raw = configuration.get("summarization")
        if not isinstance(raw, Mapping):
            return cls()
        defaults = cls()
        return cls(max_tokens=int(raw.get("max_tokens", defaults.max_tokens)),
                   keep_tokens=int(raw.get("keep_tokens", defaults.keep_tokens)),
                   model=str(raw["model"]) if raw.get("model") else None)


@dataclass(frozen=True)
class AgentConfig:
    """What a turn needs to know about the agent."""

    model: str
    system_prompt: str | None = None
    summarization: Summarization = field(default_factory=Summarization)
    max_steps: int = 100
    """Model calls per turn at most (a model that keeps calling tools is stopped)."""


@dataclass(frozen=True)
class TurnResult:
    """A turn's final text, or why there is none (`error`, a short sentence for the thread)."""

    text: str | None
    error: str | None = None
    tool_calls: int = 0


class TurnFailed(Exception):
    def __init__(self, public: str, reason: str) -> None:
        super().__init__(reason)
        self.public = public


Delta = Callable[[str], Awaitable[None]]


class AgentLoop:
    def __init__(self, llm: openai.AsyncOpenAI, tools: ToolBox, history: HistoryStore,
                 tracing: Tracing | None = None, extra_headers: Mapping[str, str] | None = None) -> None:
        self.llm = llm
        self.tools = tools
        self.history = history
        self.tracing = tracing or Tracing.disabled()
        self.extra_headers = dict(extra_headers or {})

    @classmethod
    def connect(cls, base_url: str, api_key: str, tools: ToolBox, state_dir: Path, *,
                tracing: Tracing | None = None, max_retries: int = 2, timeout: float = 300.0,
                extra_headers: Mapping[str, str] | None = None) -> AgentLoop:
        llm = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=max_retries, timeout=timeout)
        return cls(llm, tools, HistoryStore(state_dir), tracing, extra_headers)

    async def run_turn(self, conversation_id: str, prompts: Sequence[str], agent: AgentConfig,
                       on_delta: Delta | None = None, received: Sequence[tuple[str, str]] = (),
                       turn_key: str = "") -> TurnResult:
        """One turn over the new user messages `prompts` (the thread's messages `received`, as (id, body) pairs,
        when they come from one); never raises for the model's or a tool's faults. Its span is a run of the
        conversation's timeline. A `turn_key` (what the prompts are) equal to the last finished turn's returns
        that turn's reply again, without asking the model or writing the history twice."""
        tracer = self.tracing.tracer
        with tracer.start_as_current_span("invocation.message") as span:
            span.set_attribute("gen_ai.operation.name", "invoke_agent")
            span.set_attribute("gen_ai.request.model", agent.model)
            span.set_attribute("agyn.message.text", _clip("\n\n".join(prompts)))
            span.set_attribute("agyn.message.role", "user")
            span.set_attribute("agyn.message.kind", "human")
            span.set_attribute("agyn.conversation.id", conversation_id)
            if received:
                span.set_attribute("agyn.thread.message.id", received[0][0])
                span.set_attribute("agyn.thread.message.ids", [message_id for message_id, _ in received])
            for message_id, body in received:
                span.add_event("agyn.message.received", {"agyn.thread.message.id": message_id,
                                                         "agyn.message.text": _clip(body)})
            conversation = self.history.load(conversation_id)
            if turn_key and conversation.last_turn == turn_key:
                span.set_attribute("agyn.turn.replayed", True)
                return TurnResult(conversation.last_reply)
            known = len(conversation.entries)
            conversation.entries += [Entry("user", text=prompt) for prompt in prompts]
            try:
                await self._summarize(conversation, agent)
                result = await self._loop(conversation, agent, known, on_delta)
            except TurnFailed as failure:
                log.warning("turn failed in conversation %s: %s", conversation_id, failure)
                span.set_status(Status(StatusCode.ERROR, str(failure)))
                return TurnResult(None, failure.public)
            conversation.last_turn, conversation.last_reply = turn_key, result.text or ""
            self.history.save(conversation)
            span.set_attribute("agyn.response.text", _clip(result.text or ""))
            return result

    # --- the model and the tools -----------------------------------------------------------------

    async def _loop(self, conversation: Conversation, agent: AgentConfig, known: int,
                    on_delta: Delta | None) -> TurnResult:
        calls = 0
        for _ in range(agent.max_steps):
            response = await self._call_model(conversation, agent, known, on_delta)
            text, pending = self._record_output(conversation, response)
            if not pending:
                if not text:
                    raise TurnFailed("The model returned no answer.", "model returned no content")
                return TurnResult(text, tool_calls=calls)
            for entry in pending:
                calls += 1
                conversation.entries.append(await self._run_tool(entry))
        raise TurnFailed("I stopped: the model kept calling tools without answering.",
                         f"loop exceeded {agent.max_steps} model calls")

    def _input(self, conversation: Conversation, agent: AgentConfig) -> list[dict[str, Any]]:
        items = [{"type": "message", "role": "system", "content": agent.system_prompt}] if agent.system_prompt else []
        return items + [entry.input_item() for entry in conversation.entries]

    async def _call_model(self, conversation: Conversation, agent: AgentConfig, known: int,
                          on_delta: Delta | None) -> dict[str, Any]:
        items = self._input(conversation, agent)
        tools = self.tools.specs
        with self.tracing.tracer.start_as_current_span("llm.call") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.provider.name", PROVIDER)
            span.set_attribute("gen_ai.request.model", agent.model)
            span.set_attribute("agyn.llm.context.items", len(items))
            offset = 1 if agent.system_prompt else 0
            # an event per input item the span keeps: the SDK would drop older ones (at 12 µs each to make)
            for index in range(max(0, len(items) - self.tracing.max_events), len(items)):
                item = items[index]
                text = item.get("content") if item.get("type") == "message" else json.dumps(item, ensure_ascii=False)
                span.add_event("agyn.llm.context_item", {
                    "agyn.context.role": str(item.get("role", item["type"])), "agyn.context.text": _clip(str(text)),
                    "agyn.context.is_new": index - offset >= known, "agyn.context.size_bytes": len(str(text))})
            options: dict[str, Any] = {"tools": tools, "parallel_tool_calls": True,
                                       "instructions": TOOLS_INSTRUCTIONS} if tools else {}
            response = await self._stream(span, {"model": agent.model, "input": items, "store": False, **options},
                                          on_delta=on_delta)
            usage = response.get("usage") or {}
            if usage:
                span.set_attribute("gen_ai.usage.input_tokens", int(usage.get("input_tokens", 0)))
                span.set_attribute("gen_ai.usage.output_tokens", int(usage.get("output_tokens", 0)))
            span.set_attribute("gen_ai.response.finish_reasons", [str(response.get("status", ""))])
            if model := response.get("model"):
                span.set_attribute("gen_ai.response.model", str(model))
            output = response.get("output") or []
            span.set_attribute("agyn.llm.response_text", _clip("\n\n".join(
                _message_text(item) for item in output if item.get("type") == "message")))
            calls = [{"name": item.get("name"), "arguments": item.get("arguments")} for item in output
                     if item.get("type") == "function_call"]
            if calls:
                span.set_attribute("agyn.llm.tool_calls", _clip(json.dumps(calls, ensure_ascii=False)))
            return response

    async def _stream(self, span: Span, request: dict[str, Any], *, on_delta: Delta | None) -> dict[str, Any]:
        """The request goes as the JSON it already is (`extra_body`) and the streamed response's events are
        read as JSON: the SDK would walk the request's every item against its typed parameters (the model's
        literal union alone costs milliseconds) and build typed events, together most of a warm turn's CPU."""
        completed: dict[str, Any] | None = None
        try:
            async with self.llm.responses.with_streaming_response.create(
                    stream=True, extra_headers=self.extra_headers, extra_body=request) as streamed:
                async for event in _server_events(streamed.iter_lines()):
                    kind = event.get("type")
                    if kind == "response.output_text.delta" and on_delta is not None:
                        await on_delta(str(event.get("delta", "")))
                    elif kind == "response.completed":
                        completed = event.get("response")
                    elif kind in ("response.failed", "response.incomplete", "error"):
                        detail = (event.get("response") or {}).get("error") or event.get("message", "")
                        raise TurnFailed("The model failed to answer; please try again.", f"{kind}: {detail}")
        except openai.APIError as error:
            span.set_status(Status(StatusCode.ERROR, str(error)))
            raise TurnFailed(UNAVAILABLE,
                             f"LLM call failed after retries: {error}") from error
        except (httpx.HTTPError, ValueError) as error:  # the stream broke off, or carried something not JSON
            span.set_status(Status(StatusCode.ERROR, str(error)))
            raise TurnFailed("The model failed to answer; please try again.", f"the stream failed: {error}") from error
        if not isinstance(completed, dict):
            raise TurnFailed("The model failed to answer; please try again.", "the stream ended without a response")
        return completed

    @staticmethod
    def _record_output(conversation: Conversation, response: dict[str, Any]) -> tuple[str, list[Entry]]:
        """Append what the model said (text and tool calls, in order); returns the text and the calls."""
        texts: list[str] = []
        calls: list[Entry] = []
        for item in response.get("output") or []:
            if item.get("type") == "message":
                if text := _message_text(item):
                    texts.append(text)
                    conversation.entries.append(Entry("assistant", text=text))
            elif item.get("type") == "function_call":
                entry = Entry("tool_call", call_id=str(item.get("call_id", "")), name=str(item.get("name", "")),
                              arguments=str(item.get("arguments", "")))
                conversation.entries.append(entry)
                calls.append(entry)
        return "\n\n".join(texts), calls

    async def _run_tool(self, call: Entry) -> Entry:
        with self.tracing.tracer.start_as_current_span(f"execute_tool {call.name}") as span:
            span.set_attribute("gen_ai.operation.name", "execute_tool")
            span.set_attribute("gen_ai.tool.name", call.name)
            span.set_attribute("gen_ai.tool.call.id", call.call_id)
            span.set_attribute("gen_ai.tool.call.arguments", _clip(call.arguments))
            output, failed = await self.tools.call(call.name, call.arguments)
            span.set_attribute("gen_ai.tool.call.result",
                               _clip(output if isinstance(output, str) else json.dumps(output)))
            if failed:
                span.set_status(Status(StatusCode.ERROR, "the tool reported a failure"))
            return Entry("tool_output", call_id=call.call_id, output=output)

    # --- summarization ---------------------------------------------------------------------------

    async def _summarize(self, conversation: Conversation, agent: AgentConfig) -> None:
        budget = agent.summarization
        if conversation.most_tokens() <= budget.max_tokens:
            return
        total = await asyncio.to_thread(conversation.count)  # the tokenizer's first load takes a while
        if total <= budget.max_tokens:
            return
        entries = conversation.entries
        kept, boundary = 0, len(entries)
        while boundary > 0 and kept < budget.keep_tokens:
            boundary -= 1
            kept += entries[boundary].tokens  # counted above
        while 0 < boundary < len(entries) and entries[boundary].kind == "tool_output":
            boundary -= 1  # a kept tool output keeps the call it answers
        if boundary == 0:
            return
        older = entries[:boundary]
        model = budget.model or agent.model
        with self.tracing.tracer.start_as_current_span("summarization") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.provider.name", PROVIDER)
            span.set_attribute("gen_ai.request.model", model)
            span.set_attribute("agyn.summarization.old_context_tokens", total)
            text = "\n".join(entry.rendered() for entry in older)
            try:
                response = await self.llm.responses.create(
                    model=model, input=[{"type": "message", "role": "user", "content": text}],
                    instructions=SUMMARY_INSTRUCTIONS, store=False, extra_headers=self.extra_headers)
            except openai.APIError as error:
                span.set_status(Status(StatusCode.ERROR, str(error)))
                raise TurnFailed(UNAVAILABLE,
                                 f"summarization failed after retries: {error}") from error
            usage = getattr(response, "usage", None)
            if usage is not None:
                span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
                span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
            summary = response.output_text
            if not summary:
                raise TurnFailed("The model failed to answer; please try again.", "the summary came back empty")
            conversation.entries = [Entry("summary", text=summary).counted(), *entries[boundary:]]
            span.set_attribute("agyn.summarization.text", _clip(summary))
            span.set_attribute("agyn.summarization.new_context_count", len(conversation.entries))
            log.info("summarized %d entries (%d tokens) of conversation %s", len(older), total - kept,
                     conversation.id)


async def _server_events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """The JSON documents of a Server-Sent Events stream (each event's `data:` lines joined)."""
    data: list[str] = []
    async for line in lines:
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            payload, data = "\n".join(data), []
            if payload != "[DONE]":
                yield json.loads(payload)
    if data and (payload := "\n".join(data)) != "[DONE]":
        yield json.loads(payload)


def _message_text(item: dict[str, Any]) -> str:
    """The text of an output message item (its `output_text` parts)."""
    return "".join(str(part.get("text", "")) for part in item.get("content") or [] if part.get("type") == "output_text")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ATTRIBUTE_CHARS else text[:MAX_ATTRIBUTE_CHARS] + "…"
