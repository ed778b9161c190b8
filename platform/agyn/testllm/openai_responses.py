"""The OpenAI Responses API side: request parsing, the JSON response, its SSE events, errors.

Only `model`, `input` and `stream` are read; `instructions`, `tools`, `temperature` and any other
field are accepted and ignored, as the reference test LLM does.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agyn.testllm.errors import TestLLMError, invalid_request
from agyn.testllm.matching import FunctionCall, FunctionCallOutput, Message, RequestItem
from agyn.testllm.suites import FunctionCallItem, MessageItem, ScriptItem
from agyn.testllm.usage import count_openai_tokens

INPUT_ROLES = ("user", "system", "developer", "assistant")
TEXT_PARTS = ("input_text", "output_text", "text")


@dataclass(frozen=True)
class ResponsesRequest:
    model: str
    items: list[RequestItem]
    raw_input: list[dict[str, Any]]
    stream: bool


def parse_request(body: object) -> ResponsesRequest:
    if not isinstance(body, dict):
        raise invalid_request("invalid_request", "The request body must be a JSON object")
    model = body.get("model")
    if model is None or model == "":
        raise invalid_request("missing_model", "`model` is required: the name of the test to replay")
    if not isinstance(model, str):
        raise invalid_request("invalid_request", "`model` must be a string")
    if "input" not in body or body["input"] is None:
        raise invalid_request("missing_input", "`input` is required: a string or an array of items")
    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise invalid_request("invalid_request", "`stream` must be a boolean")
    raw_input = body["input"]
    if isinstance(raw_input, str):
        raw_input = [{"type": "message", "role": "user", "content": raw_input}]
    if not isinstance(raw_input, list):
        raise invalid_request("invalid_request", "`input` must be a string or an array of items")
    items = [normalise_item(item, index) for index, item in enumerate(raw_input)]
    return ResponsesRequest(model, items, raw_input, bool(stream))


def normalise_item(item: object, index: int) -> RequestItem:
    where = f"input[{index}]"
    if not isinstance(item, dict):
        raise invalid_request("invalid_request", f"{where} must be an object")
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if role not in INPUT_ROLES:
            raise invalid_request("invalid_request", f"{where}.role must be one of {', '.join(INPUT_ROLES)}")
        return Message(str(role), _text(item.get("content"), f"{where}.content"))
    if kind == "function_call":
        return FunctionCall(_string(item, "call_id", where), _string(item, "name", where),
                            _string(item, "arguments", where))
    if kind == "function_call_output":
        return FunctionCallOutput(_string(item, "call_id", where), _text(item.get("output"), f"{where}.output"))
    raise invalid_request("invalid_request", f"{where}: items of type {kind!r} are not supported "
                                             "(use message, function_call and function_call_output)")


def _text(content: object, where: str) -> str:
    """A string, or the concatenated text of content parts (non-text parts add nothing)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid_request("invalid_request", f"{where} must be a string or an array of content parts")
    texts: list[str] = []
    for position, part in enumerate(content):
        if not isinstance(part, dict):
            raise invalid_request("invalid_request", f"{where}[{position}] must be an object")
        if part.get("type") in TEXT_PARTS:
            text = part.get("text")
            if not isinstance(text, str):
                raise invalid_request("invalid_request", f"{where}[{position}].text must be a string")
            texts.append(text)
    return "".join(texts)


def _string(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise invalid_request("invalid_request", f"{where}.{key} must be a string")
    return value


# --- responses -----------------------------------------------------------------------------------

def output_item(item: ScriptItem) -> dict[str, Any]:
    """A scripted answer as a Responses output item."""
    if isinstance(item, MessageItem):
        return {"id": f"msg_{uuid.uuid4().hex}", "type": "message", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": item.content or "", "annotations": []}]}
    if isinstance(item, FunctionCallItem):
        return {"id": f"fc_{uuid.uuid4().hex}", "type": "function_call", "call_id": item.call_id,
                "name": item.name, "arguments": item.arguments, "status": "completed"}
    raise ValueError(f"{item.type} items are not OpenAI output")


def build_response(request: ResponsesRequest, outputs: Sequence[ScriptItem]) -> dict[str, Any]:
    output = [output_item(item) for item in outputs]
    input_tokens, output_tokens = count_openai_tokens(request.raw_input, output, request.model)
    return {
        "id": f"resp_{uuid.uuid4().hex}", "object": "response", "created_at": int(time.time()),
        "model": request.model, "status": "completed", "error": None, "incomplete_details": None,
        "output": output,
        "usage": {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                  "total_tokens": input_tokens + output_tokens},
    }


def stream_events(response: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The SSE events of a finished response: created, in progress, each item's events, completed.

    A message's text and a call's arguments each arrive in a single delta.
    """
    events: list[tuple[str, dict[str, Any]]] = []

    def emit(kind: str, **data: Any) -> None:
        events.append((kind, {"type": kind, "sequence_number": len(events), **data}))

    pending = {**response, "status": "in_progress", "output": [], "usage": None}
    emit("response.created", response=copy.deepcopy(pending))
    emit("response.in_progress", response=copy.deepcopy(pending))
    for index, item in enumerate(response["output"]):
        if item["type"] == "message":
            text = item["content"][0]["text"]
            emit("response.output_item.added", output_index=index,
                 item={**item, "status": "in_progress", "content": []})
            place = {"item_id": item["id"], "output_index": index, "content_index": 0}
            emit("response.content_part.added", **place, part={"type": "output_text", "text": "", "annotations": []})
            emit("response.output_text.delta", **place, delta=text, logprobs=[])
            emit("response.output_text.done", **place, text=text, logprobs=[])
            emit("response.content_part.done", **place, part={"type": "output_text", "text": text, "annotations": []})
        else:
            emit("response.output_item.added", output_index=index,
                 item={**item, "status": "in_progress", "arguments": ""})
            place = {"item_id": item["id"], "output_index": index}
            emit("response.function_call_arguments.delta", **place, delta=item["arguments"])
            emit("response.function_call_arguments.done", **place, name=item["name"], arguments=item["arguments"])
        emit("response.output_item.done", output_index=index, item=item)
    emit("response.completed", response=response)
    return events


def error_body(error: TestLLMError) -> dict[str, Any]:
    return {"error": {"message": error.message, "type": error.error_type, "param": None, "code": error.code}}
