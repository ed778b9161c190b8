"""Text fields that must not start or end with whitespace: refused (400), never silently stripped,
so that the length a client checks against `maxLength` is the length stored.

The pattern lists Python's whitespace characters (those `str.strip()` removes) literally, so JSON
Schema validators, pydantic's engine and Python's `re` all read it alike.
"""

from __future__ import annotations

WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
_EDGE = f"[^{WHITESPACE}]"
TRIMMED_PATTERN = rf"^{_EDGE}([\s\S]*{_EDGE})?$"
"""Non-empty, without leading or trailing whitespace."""
TRIMMED_OR_EMPTY_PATTERN = rf"^({_EDGE}([\s\S]*{_EDGE})?)?$"
TRIMMED_MESSAGE = "must not start or end with whitespace"
PATTERN_MESSAGES = {TRIMMED_PATTERN: TRIMMED_MESSAGE, TRIMMED_OR_EMPTY_PATTERN: TRIMMED_MESSAGE}
"""Readable messages for patterns whose text says nothing to a person (see `kit.errors`). Use as
`Annotated[str, StringConstraints(max_length=..., pattern=TRIMMED_PATTERN)]`."""
