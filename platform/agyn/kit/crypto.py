"""AES-256-GCM encryption of values at rest, with key ids so that keys can be rotated.

Ciphertext format: `v1:<key id>:<base64(nonce || ciphertext+tag)>`. The key id is the first 8 hex
characters of SHA-256 of the key, so a ciphertext names the key that can open it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


class CryptoError(ValueError):
    pass


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def decode_key(encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("the encryption key must be base64") from None
    if len(key) != KEY_BYTES:
        raise CryptoError(f"the encryption key must be {KEY_BYTES} bytes (base64 of 32 random bytes)")
    return key


def generate_key() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def load_or_create_key(configured: str | None, path: Path) -> bytes:
    """The configured key, else the one in the data dir, else a new one written there (0600)."""
    if configured:
        return decode_key(configured)
    if path.is_file():
        return decode_key(path.read_text())
    write_secret_file(path, generate_key())
    return decode_key(path.read_text())


def write_secret_file(path: Path, content: str) -> Path:
    """Write `content` readable by the owner only (created 0600, never briefly wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content + "\n")
    os.chmod(path, 0o600)
    return path


class Cipher:
    """Encrypts with the current key; decrypts with any key it was given (old ones during rotation)."""

    def __init__(self, current: bytes, previous: tuple[bytes, ...] = ()) -> None:
        self.current_id = key_id(current)
        self._keys = {key_id(k): AESGCM(k) for k in (*previous, current)}

    def encrypt(self, plaintext: str, associated_data: bytes | None = None) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current_id].encrypt(nonce, plaintext.encode(), associated_data)
        return f"v1:{self.current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, ciphertext: str, associated_data: bytes | None = None) -> str:
        try:
            version, kid, payload = ciphertext.split(":", 2)
            raw = base64.b64decode(payload)
        except (ValueError, binascii.Error):
            raise CryptoError("not an agyn ciphertext") from None
        if version != "v1" or kid not in self._keys:
            raise CryptoError(f"no key {kid} to decrypt this value; configure the key it was encrypted with")
        try:
            return self._keys[kid].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data).decode()
        except Exception:
            raise CryptoError("the value cannot be decrypted (wrong key or tampered data)") from None

    def needs_rotation(self, ciphertext: str) -> bool:
        return not ciphertext.startswith(f"v1:{self.current_id}:")
