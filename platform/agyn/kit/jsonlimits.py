"""One nesting limit for all JSON the platform accepts: request bodies (every field, `configuration`
included), page tokens, and anything else parsed from a caller.

Python's parser and pydantic recurse per level, so a document nested thousands deep ends in a
`RecursionError` (a 500) somewhere; the depth is therefore measured first, without recursion and
without parsing, and input deeper than `MAX_JSON_DEPTH` is refused with 400 `invalid_argument`.
Depth counts every array and object from the document's top: `{"configuration": {"a": [1]}}` is 3.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects accepted in any JSON input (docs/architecture.md)."""

_SPECIAL = re.compile(rb'["\\\[\]{}]')
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")


def depth_message(limit: int = MAX_JSON_DEPTH) -> str:
    return f"JSON nested deeper than {limit} levels (the limit for JSON input is {limit} nested arrays or objects)"


class DepthScanner:
    """Tracks the nesting depth of a JSON text fed in chunks (a body as it streams in).

    Only brackets outside strings count; it does not validate the JSON (the parser does that later,
    once the depth is known to be safe).
    """

    __slots__ = ("depth", "deepest", "limit", "_in_string", "_skip")

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self.deepest = 0
        self._in_string = False
        self._skip = 0  # characters of the next chunk to skip (an escape split across chunks)

    def feed(self, chunk: bytes) -> bool:
        """Scan one more chunk; False as soon as the nesting exceeds the limit."""
        skip, in_string, depth = self._skip, self._in_string, self.depth
        for match in _SPECIAL.finditer(chunk):
            index = match.start()
            if index < skip:
                continue
            char = chunk[index]
            if in_string:
                if char == _BACKSLASH:
                    skip = index + 2
                elif char == _QUOTE:
                    in_string = False
            elif char == _QUOTE:
                in_string = True
            elif char in _OPEN:
                depth += 1
                if depth > self.limit:
                    self.depth, self.deepest = depth, depth
                    return False
                self.deepest = max(self.deepest, depth)
            elif char in _CLOSE:
                depth = max(depth - 1, 0)
        self._skip, self._in_string, self.depth = max(skip - len(chunk), 0), in_string, depth
        return True


def within_limit(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether this JSON text nests at most `limit` deep."""
    return DepthScanner(limit).feed(text.encode() if isinstance(text, str) else text)


class TooDeep(ValueError):
    """JSON input nested deeper than the limit."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        super().__init__(depth_message(limit))


def loads(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads` for input from callers: `TooDeep` (before parsing) when nested beyond the limit."""
    if not within_limit(text, limit):
        raise TooDeep(limit)
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
