"""Signed download URLs: `?expires=<unix seconds>&signature=<hmac>` over the file id and the expiry, with
a key derived from the platform's encryption key (so every replica verifies what another signed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

PURPOSE = "agyn files: signed download URLs"


def signature(key: bytes, file_id: uuid.UUID, expires: int) -> str:
    digest = hmac.new(key, f"{file_id}:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def is_valid(key: bytes, file_id: uuid.UUID, expires: int, given: str, now: float) -> bool:
    return now < expires and hmac.compare_digest(signature(key, file_id, expires), given)
