"""AES-256-GCM encryption of values at rest, with key ids so that keys can be rotated.

Ciphertext format: `v1:<key id>:<base64(nonce || ciphertext+tag)>`. The key id is the first 8 hex
characters of SHA-256 of the key, so a ciphertext names the key that can open it.

Key files in the data dir: `encryption-key` (the current key), `encryption-key.next` (the key a
rotation is moving to) and `encryption-key.previous-<key id>` (keys rotated out). Every one of them
opens values at start, so a rotation interrupted at any step leaves every value readable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
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


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


def generate_key() -> str:
    return encode_key(os.urandom(KEY_BYTES))


def load_or_create_key(configured: str | None, path: Path) -> bytes:
    """The configured key, else the one in the data dir, else a new one written there (0600)."""
    if configured:
        return decode_key(configured)
    if path.is_file():
        return decode_key(path.read_text())
    write_secret_file(path, generate_key())
    return decode_key(path.read_text())


def write_secret_file(path: Path, content: str) -> Path:
    """Write `content` readable by the owner only (created 0600, never briefly wider), on disk
    before returning (a key must survive a crash that follows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)
    return path


class KeyFiles:
    """The key files of a data dir, and the two steps of a rotation that touch them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def next_path(self) -> Path:
        return self.path.with_name(f"{self.path.name}.next")

    def previous_path(self, kid: str) -> Path:
        return self.path.with_name(f"{self.path.name}.previous-{kid}")

    def current(self) -> bytes | None:
        return _read_key(self.path)

    def pending(self) -> bytes | None:
        """The key of a rotation that has not finished (its values may already use it)."""
        return _read_key(self.next_path)

    def decryption_keys(self) -> tuple[bytes, ...]:
        """Keys besides the current one that may have encrypted stored values."""
        previous = sorted(self.path.parent.glob(f"{self.path.name}.previous-*"))
        return tuple(key for path in (*previous, self.next_path) if (key := _read_key(path)) is not None)

    def stage(self, key: bytes) -> None:
        """Before re-encrypting: the new key is on disk, so values written with it stay readable."""
        write_secret_file(self.next_path, encode_key(key))

    def promote(self) -> None:
        """After the re-encryption committed: keep the old key as a previous one, make the new one current."""
        current = self.current()
        if current is not None:
            write_secret_file(self.previous_path(key_id(current)), encode_key(current))
        os.replace(self.next_path, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _read_key(path: Path) -> bytes | None:
    if not path.is_file():
        return None
    try:
        return decode_key(path.read_text())
    except CryptoError as error:
        raise CryptoError(f"{path}: {error}") from None


class Cipher:
    """Encrypts with the current key; decrypts with any key it was given (old ones during rotation)."""

    def __init__(self, current: bytes, previous: tuple[bytes, ...] = ()) -> None:
        self.current_id = key_id(current)
        self._current = current
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

    def derive_key(self, purpose: str) -> bytes:
        """A key for one other use (signing download URLs ...), from the current key: rotating it
        invalidates what the derived key signed."""
        return hmac.new(self._current, purpose.encode(), hashlib.sha256).digest()

    def needs_rotation(self, ciphertext: str) -> bool:
        return not ciphertext.startswith(f"v1:{self.current_id}:")
