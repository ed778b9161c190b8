"""The matching algorithm: which scripted answer a request's input earns.

Requests of both protocols are first normalised into `RequestItem`s (see `openai_responses` and
`anthropic_messages`). `match_input` then walks the test's script:

1. Input items (user/system/developer messages, tool outputs) are collected as segments that the
   request must match, in order.
2. At an output item (an assistant message, a function call), the whole request is matched against
   the segments. An exact match (same length) makes it the boundary: it is returned together with
   every output item that immediately follows it (one assistant message only for Anthropic).
   If the request is longer than the segments and its next unmatched item is itself an output
   (history echoed back by the client), the output item becomes a segment and the walk goes on.
   Any other failure is the answer.
3. A script that ends without a boundary reports the failure or `sequence_exhausted`.

Item comparison: equal type; messages by role (unless `any_role`) and content (exact, substring with
`content_contains`, anything with `any_content`); function calls by call id, name and arguments as
strings; function outputs by call id and output, equal as strings or as JSON. A message with
`any_role`, `any_content` and `repeat` stands for one or more consecutive input messages, greedy with
backtracking. Anthropic blocks compare text by string, `tool_use` by id, name and JSON input, and
`tool_result` by tool use id and content.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from agyn.testllm.suites import (
    AnthropicMessageItem,
    AnthropicSystemItem,
    Block,
    FunctionCallItem,
    FunctionCallOutputItem,
    MessageItem,
    ScriptItem,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)

MAX_SHOWN_CHARS = 200

# --- normalised request items --------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """An OpenAI message, its content parts' text concatenated."""

    role: str
    text: str


@dataclass(frozen=True)
class FunctionCall:
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class FunctionCallOutput:
    call_id: str
    output: str


@dataclass(frozen=True)
class BlockMessage:
    """An Anthropic message (or the `system` prompt, role `system`) as normalised content blocks."""

    role: str
    blocks: tuple[dict[str, Any], ...]


RequestItem = Message | FunctionCall | FunctionCallOutput | BlockMessage


def is_output(item: RequestItem) -> bool:
    """Whether a request item is something the model said (echoed back as history)."""
    if isinstance(item, FunctionCall):
        return True
    if isinstance(item, Message | BlockMessage):
        return item.role == "assistant"
    return False


# --- results -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    outputs: list[ScriptItem]


@dataclass(frozen=True)
class Mismatch:
    code: Literal["input_mismatch", "sequence_exhausted"]
    position: int
    expected: str | None = None
    actual_item: RequestItem | None = None
    input_length: int = 0
    note: str | None = field(default=None, compare=False)

    @cached_property
    def actual(self) -> str | None:
        """The request's item at `position`, described (only when asked: a walk meets many mismatches
        it steps over)."""
        return describe_request_item(self.actual_item) if self.actual_item is not None else None

    @property
    def message(self) -> str:
        if self.code == "sequence_exhausted":
            text = "Input extends beyond the defined test sequence"
            if self.note:
                return f"{text}: {self.note}"
            return f"{text}: unexpected item at position {self.position}: {self.actual}"
        got = self.actual if self.actual is not None else f"nothing (the input ends after {self.input_length} items)"
        return f"Input mismatch at position {self.position}: expected {self.expected}, got {got}"


MatchResult = Match | Mismatch


# --- the walk ------------------------------------------------------------------------------------

def match_input(script: Sequence[ScriptItem], request: Sequence[RequestItem], *, single_output: bool = False
                ) -> MatchResult:
    """The scripted output items the request's input earns, or why it earns none."""
    segments: list[ScriptItem] = []
    prefix = None if any(isinstance(item, MessageItem) and item.repeat for item in script) else \
        _PrefixMatcher(segments, request)
    for index, item in enumerate(script):
        if not item.is_output:
            segments.append(item)
            continue
        failure = prefix.run() if prefix is not None else _SegmentMatcher(segments, request).run()
        if failure is None:
            outputs = [item]
            if not single_output:
                for following in script[index + 1:]:
                    if not following.is_output:
                        break
                    outputs.append(following)
            return Match(outputs)
        if failure.code == "sequence_exhausted" and is_output(request[failure.position]):
            segments.append(item)  # the client echoed this answer back: it is history now
            continue
        return failure
    failure = prefix.run() if prefix is not None else _SegmentMatcher(segments, request).run()
    if failure is None:
        return Mismatch("sequence_exhausted", len(request), input_length=len(request),
                        note="the input ends with the script's last answer; nothing is left to answer")
    return failure


class _SegmentMatcher:
    """Matches the whole request against the segments; `repeat` segments backtrack."""

    def __init__(self, segments: Sequence[ScriptItem], request: Sequence[RequestItem]) -> None:
        self.segments = segments
        self.request = request
        self.memo: dict[tuple[int, int], Mismatch | None] = {}

    def run(self) -> Mismatch | None:
        return self.match(0, 0)

    def match(self, si: int, ri: int) -> Mismatch | None:
        key = (si, ri)
        if key not in self.memo:
            self.memo[key] = self._match(si, ri)
        return self.memo[key]

    def _match(self, si: int, ri: int) -> Mismatch | None:
        request = self.request
        if si == len(self.segments):
            if ri == len(request):
                return None
            return Mismatch("sequence_exhausted", ri, actual_item=request[ri],
                            input_length=len(request))
        segment = self.segments[si]
        if isinstance(segment, MessageItem) and segment.repeat:
            end = ri
            while end < len(request) and isinstance(request[end], Message) and not is_output(request[end]):
                end += 1
            if end == ri:
                return self._mismatch(segment, ri)
            best: Mismatch | None = None
            for stop in range(end, ri, -1):  # greedy: the longest run first
                failure = self.match(si + 1, stop)
                if failure is None:
                    return None
                if best is None or failure.position > best.position:
                    best = failure
            return best
        if ri == len(request) or not item_matches(segment, request[ri]):
            return self._mismatch(segment, ri)
        return self.match(si + 1, ri + 1)

    def _mismatch(self, segment: ScriptItem, ri: int) -> Mismatch:
        return _mismatch(segment, self.request, ri)


class _PrefixMatcher:
    """`_SegmentMatcher`'s answer for a script without `repeat`, where segment i can only be request item i:
    the segments only grow between runs, so each run goes on from the prefix matched so far. A request
    that echoes a long conversation back costs one pass over it, not one per answer in the script."""

    def __init__(self, segments: Sequence[ScriptItem], request: Sequence[RequestItem]) -> None:
        self.segments = segments
        self.request = request
        self.matched = 0

    def run(self) -> Mismatch | None:
        segments, request = self.segments, self.request
        while (self.matched < len(segments) and self.matched < len(request)
               and item_matches(segments[self.matched], request[self.matched])):
            self.matched += 1
        ri = self.matched
        if ri < len(segments):
            return _mismatch(segments[ri], request, ri)
        if ri == len(request):
            return None
        return Mismatch("sequence_exhausted", ri, actual_item=request[ri], input_length=len(request))


def _mismatch(segment: ScriptItem, request: Sequence[RequestItem], ri: int) -> Mismatch:
    actual = request[ri] if ri < len(request) else None
    return Mismatch("input_mismatch", ri, describe_script_item(segment), actual, len(request))


# --- item comparison -----------------------------------------------------------------------------

def item_matches(expected: ScriptItem, actual: RequestItem) -> bool:
    if isinstance(expected, MessageItem):
        if not isinstance(actual, Message):
            return False
        if not expected.any_role and expected.role != actual.role:
            return False
        return _content_matches(expected.content, expected.content_contains, expected.any_content, actual.text)
    if isinstance(expected, FunctionCallItem):
        return (isinstance(actual, FunctionCall) and expected.call_id == actual.call_id
                and expected.name == actual.name and expected.arguments == actual.arguments)
    if isinstance(expected, FunctionCallOutputItem):
        return (isinstance(actual, FunctionCallOutput) and expected.call_id == actual.call_id
                and outputs_equal(expected.output, actual.output))
    if isinstance(expected, AnthropicSystemItem | AnthropicMessageItem):
        role = "system" if isinstance(expected, AnthropicSystemItem) else expected.role
        if not isinstance(actual, BlockMessage) or actual.role != role:
            return False
        if expected.content_blocks is not None:
            wanted = [script_block(block) for block in expected.content_blocks]
            return len(wanted) == len(actual.blocks) and all(
                blocks_equal(w, a) for w, a in zip(wanted, actual.blocks, strict=True))
        text = text_of_blocks(actual.blocks)
        if expected.any_content:
            return True
        if text is None:
            return False
        return _content_matches(expected.content, expected.content_contains, False, text)
    return False


def _content_matches(content: str | None, contains: str | None, any_content: bool, text: str) -> bool:
    if any_content:
        return True
    if contains is not None:
        return contains in text
    return content == text


def outputs_equal(expected: str, actual: str) -> bool:
    """Equal as strings, or as JSON documents (key order and spacing ignored)."""
    if expected == actual:
        return True
    try:
        return json_equal(json.loads(expected), json.loads(actual))
    except ValueError:
        return False


def json_equal(a: object, b: object) -> bool:
    """Deep JSON equality: objects ignore key order; numbers compare by value, never equal to booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def blocks_equal(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    """Normalised blocks equal as JSON; a tool result's text also equal as a JSON document."""
    if expected.get("type") == actual.get("type") == "tool_result":
        if expected.get("tool_use_id") != actual.get("tool_use_id"):
            return False
        wanted, got = text_of_blocks(expected["content"]), text_of_blocks(actual.get("content", []))
        if wanted is not None and got is not None:
            return outputs_equal(wanted, got)
    return json_equal(expected, actual)


def text_of_blocks(blocks: Sequence[dict[str, Any]]) -> str | None:
    """The concatenated text of text-only content; None when other blocks are present."""
    if any(block.get("type") != "text" for block in blocks):
        return None
    return "".join(str(block.get("text", "")) for block in blocks)


def script_block(block: Block) -> dict[str, Any]:
    """A scripted Anthropic block in the normalised form request blocks take."""
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    assert isinstance(block, ToolResultBlock)
    content = block.content
    parts = ([{"type": "text", "text": content}] if content else []) if isinstance(content, str) else [
        {"type": "text", "text": part.text} for part in content]
    return {"type": "tool_result", "tool_use_id": block.tool_use_id, "content": parts}


# --- descriptions for error messages -------------------------------------------------------------

def describe_script_item(item: ScriptItem) -> str:
    dumped = item.model_dump(exclude_defaults=True, exclude={"type"})
    data = {key: dumped.pop(key) for key in ("role",) if key in dumped} | dumped
    if isinstance(item, MessageItem | AnthropicMessageItem | AnthropicSystemItem):
        for flag in ("any_role", "any_content", "repeat"):
            if data.pop(flag, False):
                data[flag] = True
    return f"{item.type} {_compact(data)}"


def describe_request_item(item: RequestItem) -> str:
    if isinstance(item, Message):
        return f"message {_compact({'role': item.role, 'content': item.text})}"
    if isinstance(item, FunctionCall):
        return f"function_call {_compact({'call_id': item.call_id, 'name': item.name, 'arguments': item.arguments})}"
    if isinstance(item, FunctionCallOutput):
        return f"function_call_output {_compact({'call_id': item.call_id, 'output': item.output})}"
    kind = "anthropic_system" if item.role == "system" else "anthropic_message"
    text = text_of_blocks(item.blocks)
    body: dict[str, Any] = {} if item.role == "system" else {"role": item.role}
    body.update({"content": text} if text is not None else {"content_blocks": list(item.blocks)})
    return f"{kind} {_compact(body)}"


def _compact(data: dict[str, Any]) -> str:
    return json.dumps(_shorten(data), ensure_ascii=False)


def _shorten(value: object) -> object:
    if isinstance(value, str) and len(value) > MAX_SHOWN_CHARS:
        return value[:MAX_SHOWN_CHARS] + f"… ({len(value)} characters)"
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    return value
