"""Rotating the encryption key: every stored sensitive value re-encrypted under a new key.

Three steps, each safe to interrupt. (1) The new key is written where the platform looks for keys
(`encryption-key.next` in the data dir). (2) Every ciphertext of every table-backed resource
(sensitive fields and sensitive parts of objects) and of the stored first responses of idempotent
requests is re-encrypted in one database transaction. (3) The old key is kept as
`encryption-key.previous-<key id>` and the new one becomes current.
The platform opens values with every key file, so after a crash everything stays readable, and
running the rotation again finishes it. With the key in the settings (`AGYN_ENCRYPTION_KEY`) the
operator brings the new key and configures it afterwards; a rerun with the same key finishes too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Table, func, select, update

import agyn.models  # noqa: F401 — every module's tables, so the registry and MODELS are complete
from agyn.kit.collections import MODELS, encrypted_paths, value_aad
from agyn.kit.crypto import (
    Cipher,
    CryptoError,
    KeyFiles,
    decode_key,
    encode_key,
    generate_key,
    key_id,
)
from agyn.kit.db import Database
from agyn.kit.http import IdempotencyRecord
from agyn.kit.resources import REGISTRY
from agyn.migrations import check_schema
from agyn.settings import Settings, decryption_keys

BATCH_SIZE = 500
Progress = Callable[[int, int], None]  # (objects done, objects in all)


class RotationError(Exception):
    """The rotation cannot start or cannot complete; nothing was changed by the failed step."""


@dataclass(frozen=True)
class Reencrypted:
    objects: int  # objects whose stored values changed
    values: int


@dataclass(frozen=True)
class KeyRotation:
    current: bytes
    new: bytes
    previous: tuple[bytes, ...]
    files: KeyFiles | None  # None when the key comes from the settings, not the data dir
    configured_previous: tuple[str, ...]

    @classmethod
    def plan(cls, settings: Settings, new_key: str | None) -> KeyRotation:
        """Which key to move from and to, from the settings, the data dir and `--new-key`."""
        try:
            new = decode_key(new_key) if new_key is not None else None
            previous = decryption_keys(settings)
            configured = settings.encryption_key.get_secret_value() if settings.encryption_key else ""
            if configured:
                if new is None:
                    raise RotationError("the encryption key comes from AGYN_ENCRYPTION_KEY (or the config file), so "
                                        "the platform cannot store a new one: pass it with --new-key (e.g. the "
                                        "output of `openssl rand -base64 32`)")
                current, files = decode_key(configured), None
            else:
                files = KeyFiles(settings.encryption_key_path)
                stored = files.current()
                if stored is None:
                    raise RotationError(f"there is no encryption key in {settings.data_dir}: point --data-dir (or "
                                        "AGYN_DATA_DIR) at the platform's data dir")
                current = stored
                pending = files.pending()
                if pending is not None and new is not None and new != pending:
                    raise RotationError(f"a rotation to key {key_id(pending)} did not finish ({files.next_path} "
                                        "exists); run the command again without --new-key to finish it first")
                new = new or pending or decode_key(generate_key())
        except CryptoError as error:
            raise RotationError(str(error)) from None
        if new == current:
            raise RotationError("the new key is the current key")
        return cls(current, new, previous, files, tuple(settings.previous_encryption_keys))

    @property
    def cipher(self) -> Cipher:
        return Cipher(self.new, (*self.previous, self.current))

    async def run(self, database: Database, progress: Progress) -> Reencrypted:
        await check_schema(database)
        if self.files is not None:
            self.files.stage(self.new)
        result = await reencrypt(database, self.cipher, progress)
        if self.files is not None:
            self.files.promote()
        return result

    def settings_to_configure(self) -> dict[str, str]:
        """With the key in the settings: what to set before starting the platform again."""
        previous = dict.fromkeys((encode_key(self.current), *self.configured_previous))
        previous.pop(encode_key(self.new), None)
        return {"AGYN_ENCRYPTION_KEY": encode_key(self.new), "AGYN_ENCRYPTION_PREVIOUS_KEYS": ",".join(previous)}


@dataclass(frozen=True)
class SealedTable:
    """A table whose rows hold ciphertexts: the column naming a row, where the ciphertexts are
    ((column, None), or (column, key) inside an object), and the associated data each was sealed with."""

    label: str
    table: Table
    key: str
    paths: tuple[tuple[str, str | None], ...]
    associated_data: Callable[[Any, str], bytes]  # (row key, path) -> associated data


def sealed_tables() -> list[SealedTable]:
    """Every registry resource with table storage that has sensitive values, and the replayable
    first responses of idempotent requests (they may show a token once)."""
    tables = [SealedTable(resource.name, MODELS[resource.collection].__table__, "id", tuple(encrypted_paths(resource)),
                          partial(value_aad, resource))
              for resource in REGISTRY if resource.storage == "table" and encrypted_paths(resource)]
    idempotency: Table = IdempotencyRecord.__table__  # type: ignore[assignment]  # declarative: always a Table
    tables.append(SealedTable("idempotency record", idempotency, "scope", (("body", None),),
                              lambda scope, _path: str(scope).encode()))
    return tables


async def reencrypt(database: Database, cipher: Cipher, progress: Progress) -> Reencrypted:
    """Every ciphertext not under the cipher's current key, re-encrypted with it, in one transaction."""
    tables = sealed_tables()
    scanned = objects = values = 0
    async with database.transaction() as session:
        total = 0
        for sealed in tables:
            total += await session.scalar(select(func.count()).select_from(sealed.table)) or 0
        progress(0, total)
        for sealed in tables:
            key = sealed.table.c[sealed.key]
            columns = sorted({name for name, _ in sealed.paths})
            last = None
            while True:
                statement = select(key, *(sealed.table.c[name] for name in columns)).order_by(key)
                if last is not None:
                    statement = statement.where(key > last)
                rows = (await session.execute(statement.limit(BATCH_SIZE))).all()
                for row in rows:
                    changed, count = _reencrypt_row(sealed, cipher, row[0], dict(zip(columns, row[1:], strict=True)))
                    if changed:
                        # the table, not the model: the version (ETag) and updated_at stay, nothing changed for users
                        await session.execute(update(sealed.table).where(key == row[0]).values(**changed))
                        objects, values = objects + 1, values + count
                    scanned += 1
                    progress(scanned, total)
                if len(rows) < BATCH_SIZE:
                    break
                last = rows[-1][0]
    return Reencrypted(objects, values)


def _reencrypt_row(sealed: SealedTable, cipher: Cipher, row_key: Any, stored: dict[str, Any]
                   ) -> tuple[dict[str, Any], int]:
    """The columns of one row whose ciphertexts change, with their new values, and how many values changed."""
    changed: dict[str, Any] = {}
    count = 0
    for name, sub in sealed.paths:
        value = changed.get(name, stored[name])
        ciphertext = value if sub is None else (value or {}).get(sub)
        if ciphertext is None or not cipher.needs_rotation(ciphertext):
            continue
        path = f"{name}.{sub}" if sub else name
        associated_data = sealed.associated_data(row_key, path)
        try:
            fresh = cipher.encrypt(cipher.decrypt(ciphertext, associated_data), associated_data)
        except CryptoError as error:
            raise RotationError(f"{sealed.label} {row_key}, field {path}: {error}; nothing was re-encrypted") \
                from None
        changed[name] = fresh if sub is None else {**value, sub: fresh}
        count += 1
    return changed, count
