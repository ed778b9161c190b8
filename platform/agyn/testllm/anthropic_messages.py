"""The Anthropic Messages API side: request parsing, the JSON message, its SSE events, errors.

`model`, `max_tokens` (a positive integer), `system`, `messages` and `stream` are read; `tools`,
`temperature` and the rest are accepted and ignored. The request's `system` takes part in matching
only when the test starts with an `anthropic_system` item, as OpenAI's `instructions` never do.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agyn.testllm.errors import TestLLMError, invalid_request
from agyn.testllm.matching import BlockMessage, script_block
from agyn.testllm.suites import AnthropicMessageItem, AnthropicSystemItem, ScriptItem
from agyn.testllm.usage import count_anthropic_tokens

IGNORED_BLOCK_KEYS = frozenset({"cache_control", "citations"})


@dataclass(frozen=True)
class MessagesRequest:
    model: str
    system: BlockMessage | None
    messages: list[BlockMessage]
    raw_system: object
    raw_messages: list[Any]
    stream: bool

    def items_for(self, script: Sequence[ScriptItem]) -> list[BlockMessage]:
        """The request as items to match against a script: the system prompt only if the script has one."""
        if script and isinstance(script[0], AnthropicSystemItem):
            return [self.system or BlockMessage("system", ()), *self.messages]
        return list(self.messages)


def parse_request(body: object) -> MessagesRequest:
    if not isinstance(body, dict):
        raise invalid_request("invalid_request", "The request body must be a JSON object")
    model = body.get("model")
    if model is None or model == "":
        raise invalid_request("missing_model", "`model` is required: the name of the test to replay")
    if not isinstance(model, str):
        raise invalid_request("invalid_request", "`model` must be a string")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0:
        raise invalid_request("invalid_request", "`max_tokens` is required and must be a positive integer")
    messages = body.get("messages")
    if messages is None:
        raise invalid_request("missing_input", "`messages` is required")
    if not isinstance(messages, list):
        raise invalid_request("invalid_request", "`messages` must be an array")
    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise invalid_request("invalid_request", "`stream` must be a boolean")
    system = body.get("system")
    system_item = None
    if system is not None and system != "" and system != []:
        system_item = BlockMessage("system", normalise_content(system, "system"))
    items = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise invalid_request("invalid_request", f"{where} must be an object")
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise invalid_request("invalid_request", f"{where}.role must be user or assistant")
        items.append(BlockMessage(str(role), normalise_content(message.get("content"), f"{where}.content")))
    return MessagesRequest(model, system_item, items, system, messages, bool(stream))


def normalise_content(content: object, where: str) -> tuple[dict[str, Any], ...]:
    """A string or a list of blocks, as blocks with only the fields that take part in matching."""
    if isinstance(content, str):
        return ({"type": "text", "text": content},)
    if not isinstance(content, list):
        raise invalid_request("invalid_request", f"{where} must be a string or an array of content blocks")
    return tuple(normalise_block(block, f"{where}[{i}]") for i, block in enumerate(content))


def normalise_block(block: object, where: str) -> dict[str, Any]:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        raise invalid_request("invalid_request", f"{where} must be a content block with a `type`")
    kind = block["type"]
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str):
            raise invalid_request("invalid_request", f"{where}.text must be a string")
        return {"type": "text", "text": text}
    if kind == "tool_use":
        if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
            raise invalid_request("invalid_request", f"{where}: a tool_use block needs a string `id` and `name`")
        return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": block.get("input", {})}
    if kind == "tool_result":
        if not isinstance(block.get("tool_use_id"), str):
            raise invalid_request("invalid_request", f"{where}: a tool_result block needs a string `tool_use_id`")
        content = block.get("content", "")
        parts = () if content in ("", None) else normalise_content(content, f"{where}.content")
        return {"type": "tool_result", "tool_use_id": block["tool_use_id"], "content": list(parts)}
    return {key: value for key, value in block.items() if key not in IGNORED_BLOCK_KEYS}


# --- responses -----------------------------------------------------------------------------------

def content_blocks(item: ScriptItem) -> list[dict[str, Any]]:
    """A scripted assistant message as response content blocks."""
    if not isinstance(item, AnthropicMessageItem) or item.role != "assistant":
        raise ValueError(f"{item.type} items are not Anthropic output")
    if item.content_blocks is None:
        return [{"type": "text", "text": item.content or ""}]
    return [script_block(block) for block in item.content_blocks]


def build_message(request: MessagesRequest, output: ScriptItem) -> dict[str, Any]:
    blocks = content_blocks(output)
    input_tokens, output_tokens = count_anthropic_tokens(request.raw_system, request.raw_messages, blocks)
    return {
        "id": f"msg_{uuid.uuid4().hex}", "type": "message", "role": "assistant", "model": request.model,
        "content": blocks,
        "stop_reason": "tool_use" if any(block["type"] == "tool_use" for block in blocks) else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }


def stream_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """message_start, each block's start/delta/stop (the whole text or input JSON in one delta),
    message_delta with the stop reason and usage, message_stop."""
    events: list[tuple[str, dict[str, Any]]] = []

    def emit(kind: str, **data: Any) -> None:
        events.append((kind, {"type": kind, **data}))

    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {**usage, "output_tokens": 0}}
    emit("message_start", message=copy.deepcopy(start))
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            emit("content_block_start", index=index, content_block={**block, "input": {}})
            emit("content_block_delta", index=index,
                 delta={"type": "input_json_delta", "partial_json": _json(block["input"])})
        else:
            emit("content_block_start", index=index, content_block={"type": "text", "text": ""})
            emit("content_block_delta", index=index, delta={"type": "text_delta", "text": block["text"]})
        emit("content_block_stop", index=index)
    emit("message_delta", delta={"stop_reason": message["stop_reason"], "stop_sequence": None},
         usage={"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"]})
    emit("message_stop")
    return events


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def error_body(error: TestLLMError) -> dict[str, Any]:
    # `code` is not part of Anthropic's shape; it carries the reference's code for callers that look.
    return {"type": "error", "error": {"type": error.error_type, "message": error.message, "code": error.code}}
