"""Time-ordered UUIDs (version 7), so that ordering by id is ordering by creation."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0
MAX_PARSED_IDS = 100_000
"""Ids `parsed_id` keeps (past it, it starts over)."""
_parsed: dict[str, uuid.UUID] = {}


def uuid7() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit Unix ms timestamp, then a 12-bit counter and 62 random bits.

    The counter keeps ids generated within the same millisecond strictly increasing in one process.
    """
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:
                _last_ms += 1
                _counter = 0
            now_ms = _last_ms
        else:
            _last_ms = now_ms
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
        counter = _counter
    random_bits = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (now_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= random_bits
    return uuid.UUID(int=value)


def parsed_id(stored: str | uuid.UUID) -> uuid.UUID:
    """An id as the database returned it, as a UUID: SQLite's 32 hex digits parsed once and kept (a
    page's ids come back on every call, and parsing a hundred of them was a tenth of the page);
    PostgreSQL's driver returns UUIDs already."""
    if isinstance(stored, uuid.UUID):
        return stored
    known = _parsed.get(stored)
    if known is None:
        if len(_parsed) >= MAX_PARSED_IDS:
            _parsed.clear()
        known = _parsed[stored] = uuid.UUID(stored)
    return known
