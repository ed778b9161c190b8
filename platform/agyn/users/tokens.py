"""API token format: `agyn_` + 44 base62 characters (about 262 bits), stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import string

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
