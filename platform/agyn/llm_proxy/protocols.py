"""The two wire protocols the proxy speaks: their error shapes and where their token usage is.

Errors are rendered in the caller's protocol so that the official SDKs raise their usual exceptions
(`BadRequestError`, `PermissionDeniedError`, `NotFoundError`, ...). Usage is normalised to three
disjoint counts: `input` (uncached input, cache writes included), `cached` (input read from the
provider's cache) and `output`, so that their sum is every token of the call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agyn.kit import jsonlimits


class Protocol(StrEnum):
    """The provider protocols (`llm_provider.protocol`), each behind one proxy endpoint."""

    responses = "responses"
    anthropic_messages = "anthropic_messages"

    @property
    def path(self) -> str:
        return "/responses" if self is Protocol.responses else "/messages"

    @property
    def endpoint(self) -> str:
        return "/v1" + self.path


_OPENAI_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 413: "invalid_request_error", 502: "api_error", 504: "timeout_error"}
_ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                    404: "not_found_error", 413: "request_too_large", 502: "api_error", 504: "timeout_error"}


def _error_type(status: int, protocol: Protocol) -> str:
    types = _ANTHROPIC_TYPES if protocol is Protocol.anthropic_messages else _OPENAI_TYPES
    return types.get(status, "api_error")


class ProxyError(Exception):
    """A call the proxy answers itself; `code` is stable, for clients that look."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self, protocol: Protocol) -> bytes:
        error_type = _error_type(self.status, protocol)
        if protocol is Protocol.anthropic_messages:
            document: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": self.message,
                                                                    "code": self.code}}
        else:
            document = {"error": {"message": self.message, "type": error_type, "param": None, "code": self.code}}
        return json.dumps(document).encode()

    def event(self, protocol: Protocol) -> bytes:
        """The failure as a server-sent `error` event, for a stream that already began (its status is
        sent); the blank lines first end any event the provider left half-written."""
        if protocol is Protocol.anthropic_messages:
            document: dict[str, Any] = {"type": "error", "error": {"type": _error_type(self.status, protocol),
                                                                    "message": self.message}}
        else:
            document = {"type": "error", "code": self.code, "message": self.message, "param": None}
        return b"\n\nevent: error\ndata: " + json.dumps(document).encode() + b"\n\n"


@dataclass(frozen=True, slots=True)
class Usage:
    input: int = 0
    cached: int = 0
    output: int = 0


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def openai_usage(usage: Any) -> Usage | None:
    """From a Responses `usage` (`input_tokens` counts the cached ones too)."""
    if not isinstance(usage, dict):
        return None
    details = usage.get("input_tokens_details")
    cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else 0
    total_input = _int(usage.get("input_tokens"))
    return Usage(input=max(0, total_input - cached), cached=cached, output=_int(usage.get("output_tokens")))


def anthropic_usage(usage: Any) -> Usage | None:
    """From a Messages `usage` (`input_tokens` excludes cache reads and cache writes)."""
    if not isinstance(usage, dict):
        return None
    return Usage(input=_int(usage.get("input_tokens")) + _int(usage.get("cache_creation_input_tokens")),
                 cached=_int(usage.get("cache_read_input_tokens")), output=_int(usage.get("output_tokens")))


def body_usage(protocol: Protocol, body: bytes) -> Usage | None:
    """The usage of a complete (non-streamed) answer, if it says."""
    try:
        document = jsonlimits.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    usage = document.get("usage")
    return anthropic_usage(usage) if protocol is Protocol.anthropic_messages else openai_usage(usage)


class StreamMeter:
    """Reads the usage off an SSE stream as it passes, without holding it: only complete events that
    mention `usage` or an error are parsed (OpenAI: `response.completed`/`incomplete`/`failed`;
    Anthropic: `message_start` for input, `message_delta` for output)."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self._tail = b""
        self.usage: Usage | None = None
        self.finished = False
        self.failed = False

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk if self._tail else chunk
        if b"\r" in data:  # CRLF line ends (a lone CR at the end waits for its LF in the tail)
            data = data.replace(b"\r\n", b"\n")
        start = 0
        while True:
            end = data.find(b"\n\n", start)
            if end < 0:
                break
            event = data[start:end]
            start = end + 2
            if b"usage" in event or b"error" in event or b"failed" in event:
                self._event(event)
        self._tail = data[start:]

    def _event(self, event: bytes) -> None:
        payload = b"\n".join(line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:"))
        try:
            document = jsonlimits.loads(payload)
        except (ValueError, UnicodeDecodeError):
            return
        if not isinstance(document, dict):
            return
        kind = document.get("type")
        if self.protocol is Protocol.responses:
            if kind in ("response.completed", "response.incomplete", "response.failed"):
                response = document.get("response")
                self.usage = openai_usage(response.get("usage") if isinstance(response, dict) else None) or self.usage
                self.finished = True
                self.failed = kind == "response.failed"
            elif kind == "error":
                self.failed = True
            return
        if kind == "message_start":
            message = document.get("message")
            self.usage = anthropic_usage(message.get("usage") if isinstance(message, dict) else None)
        elif kind == "message_delta":
            delta = anthropic_usage(document.get("usage")) or Usage()
            started = self.usage or Usage()
            # message_delta's counts are cumulative; input counts appear there only in newer API versions
            self.usage = Usage(input=delta.input or started.input, cached=delta.cached or started.cached,
                               output=delta.output or started.output)
            self.finished = True
        elif kind == "error":
            self.failed = True
