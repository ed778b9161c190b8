"""API token format: `agyn_` + 44 base62 characters (about 262 bits), stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import datetime

from agyn.kit.clock import SYSTEM_CLOCK, Clock
from agyn.kit.principal import Principal

TOKEN_MARKER = "agyn_"
TOKEN_BODY_LENGTH = 44
PREFIX_LENGTH = 8
_ALPHABET = string.digits + string.ascii_letters


def generate_token() -> str:
    return TOKEN_MARKER + "".join(secrets.choice(_ALPHABET) for _ in range(TOKEN_BODY_LENGTH))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    """The first characters after the marker, enough for a person to tell tokens apart."""
    return token[len(TOKEN_MARKER) : len(TOKEN_MARKER) + PREFIX_LENGTH]


def looks_like_token(value: str) -> bool:
    body = value[len(TOKEN_MARKER) :]
    return value.startswith(TOKEN_MARKER) and len(body) == TOKEN_BODY_LENGTH and all(c in _ALPHABET for c in body)


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    expires_at: datetime | None
    fresh_until: float


class PrincipalCache:
    """Recently authenticated API tokens, so a busy client is not looked up on every request.

    Keyed by the token's hash. An entry lives `ttl` seconds: revocations in this process drop it
    as soon as they commit; another replica's revocation takes effect here within `ttl`.
    """

    def __init__(self, ttl: float, max_entries: int = 10_000, clock: Clock = SYSTEM_CLOCK) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def get(self, token_hash: str) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        expired = entry.expires_at is not None and entry.expires_at <= self.clock.now()
        if entry.fresh_until < self.clock.monotonic() or expired:
            del self._entries[token_hash]
            return None
        return entry.principal

    def put(self, token_hash: str, principal: Principal, expires_at: datetime | None) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))  # the oldest insertion
        self._entries[token_hash] = _Entry(principal, expires_at, self.clock.monotonic() + self.ttl)

    def forget(self, *, token_id: uuid.UUID | None = None, identity_id: uuid.UUID | None = None) -> None:
        for key, entry in list(self._entries.items()):
            if entry.principal.api_token_id == token_id or entry.principal.identity_id == identity_id:
                del self._entries[key]
