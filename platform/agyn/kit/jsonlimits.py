"""One nesting limit for all JSON the platform accepts: request bodies (every field, `configuration`
included), page tokens, and anything else parsed from a caller.

Python's parser and pydantic recurse per level, so a document nested thousands deep ends in a
`RecursionError` (a 500) somewhere; the depth is therefore measured first, without recursion and
without parsing, and input deeper than `MAX_JSON_DEPTH` is refused with 400 `invalid_argument`.
Depth counts every array and object from the document's top: `{"configuration": {"a": [1]}}` is 3.
"""

from __future__ import annotations

import json
from itertools import accumulate
from typing import Any

MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects accepted in any JSON input (docs/architecture.md)."""

_STRUCTURE = bytes(set(range(256)) - set(b'"[]{}'))
"""Every byte but quotes and brackets: deleted before the brackets are counted."""
_DELTA = [0] * 256
for _open, _close in (b"[]", b"{}"):
    _DELTA[_open], _DELTA[_close] = 1, -1


def depth_message(limit: int = MAX_JSON_DEPTH) -> str:
    return f"JSON nested deeper than {limit} levels (the limit for JSON input is {limit} nested arrays or objects)"


class DepthScanner:
    """Tracks the nesting depth of a JSON text fed in chunks (a body as it streams in).

    Only brackets outside strings count; it does not validate the JSON (the parser does that later,
    once the depth is known to be safe). Every step runs in C (`bytes` methods, `itertools`): escaped
    backslashes and quotes are dropped, then everything but quotes and brackets; splitting at the
    quotes leaves strings at odd positions; the brackets outside are summed as +1 / -1 and the
    running maximum is taken. See benchmarks/json_depth.py for its cost next to parsing.
    """

    __slots__ = ("depth", "deepest", "limit", "not_utf8", "_in_string", "_carry")

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self.deepest = 0
        self.not_utf8 = False
        """A NUL byte was seen: UTF-16 or UTF-32 text (which bytes cannot be scanned, and which RFC 8259
        does not allow between systems), or a raw NUL, which no JSON text holds."""
        self._in_string = False  # the text so far ends inside a string
        self._carry = b""  # a backslash whose pair is in the next chunk

    def feed(self, chunk: bytes) -> bool:
        """Scan one more chunk; False as soon as the nesting exceeds the limit (or `not_utf8`)."""
        if b"\x00" in chunk:
            self.not_utf8 = True
        if self.not_utf8:
            return False
        data = self._carry + chunk
        trailing = len(data) - len(data.rstrip(b"\\"))
        self._carry = b"\\" if trailing % 2 else b""
        if trailing % 2:
            data = data[:-1]
        parts = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _STRUCTURE).split(b'"')
        outside = b"".join(parts[1::2] if self._in_string else parts[0::2])
        if len(parts) % 2 == 0:  # an odd number of quotes: in a string now if not before, and back
            self._in_string = not self._in_string
        if outside:
            depths = list(accumulate(map(_DELTA.__getitem__, outside), initial=self.depth))
            self.deepest = max(self.deepest, max(depths))
            self.depth = max(depths[-1], 0)
        return self.deepest <= self.limit


def within_limit(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether this JSON text nests at most `limit` deep (and is UTF-8)."""
    return DepthScanner(limit).feed(text.encode() if isinstance(text, str) else text)


NOT_UTF8_MESSAGE = "JSON must be UTF-8 text (RFC 8259), without NUL bytes"


class NotUtf8(ValueError):
    def __init__(self) -> None:
        super().__init__(NOT_UTF8_MESSAGE)


class TooDeep(ValueError):
    """JSON input nested deeper than the limit."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        super().__init__(depth_message(limit))


def loads(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads` for input from callers: `TooDeep` (before parsing) when nested beyond the limit,
    `NotUtf8` for text the depth cannot be measured in."""
    scanner = DepthScanner(limit)
    if not scanner.feed(text.encode() if isinstance(text, str) else text):
        raise NotUtf8() if scanner.not_utf8 else TooDeep(limit)
    return json.loads(text)


def nesting_depth(value: Any) -> int:
    """The nesting depth of an already parsed value (iterative: safe on any depth)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest
