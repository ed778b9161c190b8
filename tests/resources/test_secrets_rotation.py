"""`agyn secrets rotate-key`: every stored sensitive value re-encrypted under a new key, crash-safely.

The platform runs in-process to store values through the API and, restarted, to read them back;
the rotation runs as the real command in a subprocess in between, with the platform stopped. On
SQLite the database is the data dir's own; on PostgreSQL it is the session's database.
"""

from __future__ import annotations

import asyncio
import stat
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import select, update

from agyn.kit.collections import MODELS, encrypted_paths
from agyn.kit.crypto import decode_key, generate_key, key_id, write_secret_file
from agyn.kit.db import Database
from agyn.kit.resources import REGISTRY
from agyn.rotation import KeyRotation, RotationError, reencrypt
from agyn.secrets.models import Secret
from agyn.secrets.service import SecretUnavailable
from agyn.settings import Settings
from tests.cli.test_cli import agyn, cli_env, one_error_line
from tests.conftest import Api, empty_database, serving
from tests.resources.conftest import VAULT_PASSWORD, VAULT_TOKEN
from tests.resources.test_secrets import create_provider, create_secret, resolve
from tests.support.vault import VaultServer


@dataclass(frozen=True)
class Setup:
    """A platform whose data dir holds its key; its database is SQLite in the data dir, or PostgreSQL."""

    data_dir: Path
    database_url: str | None

    def settings(self, **overrides: Any) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url, log_format="text", **overrides)

    def rotate(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        database = {"AGYN_DATABASE_URL": self.database_url} if self.database_url else {}
        return agyn("secrets", "rotate-key", "--data-dir", str(self.data_dir), *args, cwd=self.data_dir.parent,
                    env=cli_env(**database, **env))

    @property
    def key_file(self) -> Path:
        return self.data_dir / "encryption-key"


@pytest_asyncio.fixture
async def setup(database_url: str, tmp_path: Path) -> AsyncIterator[Setup]:
    if database_url.startswith("sqlite"):
        yield Setup(tmp_path / "data", None)
        return
    await empty_database(database_url)
    yield Setup(tmp_path / "data", database_url)


@dataclass
class Values:
    """Plain values the platform stores encrypted, by object id."""

    secrets: dict[str, str]
    vault_tokens: dict[str, str]
    llm_tokens: dict[str, str]
    llm_headers: dict[str, dict[str, str]]


async def store_values(api: Api, vault_server: VaultServer) -> Values:
    """A local secret, a Vault provider with a secret from it, and LLM providers with a token and headers."""
    owner = await api.user("owner")
    org = await api.organization(owner)
    local = await create_secret(api, owner, org["id"], value="Rotated-Local-Value")
    provider = await create_provider(api, owner, org["id"], vault_server.address)
    remote = await create_secret(api, owner, org["id"], provider_id=provider["id"], reference="secret/team/db/password")
    llm_tokens, llm_headers = {}, {}
    for body in ({"name": "bearer", "auth_method": "bearer", "token": "sk-Rotated-Token"},
                 {"name": "headers", "auth_method": "custom_headers", "headers": {"X-Api-Key": "Rotated-Header-Value"}}):
        created = await api.client.post("/api/v1/llm-providers", headers=owner.headers, json={
            "organization_id": org["id"], "endpoint": "https://llm.example", **body})
        assert created.status_code == 201, created.text
        if "token" in body:
            llm_tokens[created.json()["id"]] = body["token"]
        else:
            llm_headers[created.json()["id"]] = body["headers"]
    return Values({local["id"]: "Rotated-Local-Value", remote["id"]: VAULT_PASSWORD}, {provider["id"]: VAULT_TOKEN},
                  llm_tokens, llm_headers)


async def read_back(api: Api, values: Values) -> Values:
    """The same values as the restarted platform reads them (secrets resolved, Vault included)."""
    platform = api.app.state.platform
    providers, llm = platform.collections["secret-providers"], platform.collections["llm-providers"]
    async with platform.database.transaction() as session:
        async def record(service: Any, object_id: str) -> Any:
            return await session.get(service.model, uuid.UUID(object_id))

        return Values(
            {i: await resolve(api, i) for i in values.secrets},
            {i: providers.decrypt(await record(providers, i), "vault", "token") for i in values.vault_tokens},
            {i: llm.decrypt(await record(llm, i), "token") for i in values.llm_tokens},
            {i: llm.decrypt(await record(llm, i), "headers") for i in values.llm_headers})


async def ciphertexts(api: Api) -> dict[str, str]:
    """Every stored ciphertext, by `<collection>/<id>/<field path>`."""
    found: dict[str, str] = {}
    async with api.app.state.platform.database.transaction() as session:
        for resource in REGISTRY:
            paths = encrypted_paths(resource)
            if resource.storage != "table" or not paths:
                continue
            for record in (await session.scalars(select(MODELS[resource.collection]))).all():
                for name, sub in paths:
                    value = getattr(record, name)
                    value = value if sub is None else (value or {}).get(sub)
                    if value is not None:
                        found[f"{resource.collection}/{record.id}/{name}{'.' + sub if sub else ''}"] = value
    return found


async def restore_ciphertext(api: Api, secret_id: str, ciphertext: str) -> None:
    """Put back a value as it was before the rotation (a restored backup)."""
    async with api.app.state.platform.database.transaction() as session:
        await session.execute(update(Secret).where(Secret.id == uuid.UUID(secret_id)).values(value=ciphertext)
                              .execution_options(synchronize_session=False))


async def test_rotation_with_the_key_in_the_data_dir(setup: Setup, vault: VaultServer) -> None:
    async with serving(setup.settings()) as api:
        values = await store_values(api, vault)
        etags = {i: (await api.client.get(f"/api/v1/secrets/{i}", headers=api.admin)).headers["etag"]
                 for i in values.secrets}
        organization_id = (await api.client.get(f"/api/v1/secrets/{next(iter(values.secrets))}",
                                                headers=api.admin)).json()["organization_id"]
        idempotent = {"headers": {**api.admin, "Idempotency-Key": "before-rotation"},
                      "json": {"organization_id": organization_id, "name": "idempotent", "value": "v"}}
        first = await api.client.post("/api/v1/secrets", **idempotent)  # its response is stored encrypted
        assert first.status_code == 201, first.text
        before = await ciphertexts(api)
    old_key = setup.key_file.read_text().strip()
    old_kid = key_id(decode_key(old_key))

    result = setup.rotate()
    assert result.returncode == 0, result.stderr
    new_kid = key_id(decode_key(setup.key_file.read_text()))
    assert new_kid != old_kid
    objects = {path.rsplit("/", 1)[0] for path in before}  # and one more: the idempotent first response
    assert f"Re-encrypted {len(before) + 1} values in {len(objects) + 1} objects: key {new_kid} replaces key " \
           f"{old_kid}" in result.stdout
    previous = setup.data_dir / f"encryption-key.previous-{old_kid}"
    assert previous.read_text().strip() == old_key and stat.S_IMODE(previous.stat().st_mode) == 0o600
    assert not (setup.data_dir / "encryption-key.next").exists()

    aside = previous.rename(setup.data_dir.parent / "old-key")  # the old key is not needed for rotated values
    async with serving(setup.settings()) as api:
        after = await ciphertexts(api)
        assert after.keys() == before.keys()
        assert all(after[k] != before[k] and after[k].startswith(f"v1:{new_kid}:") for k in after)
        assert await read_back(api, values) == values
        for secret_id, etag in etags.items():  # nothing changed for API clients (no Terraform diff)
            assert (await api.client.get(f"/api/v1/secrets/{secret_id}", headers=api.admin)).headers["etag"] == etag
        replayed = await api.client.post("/api/v1/secrets", **idempotent)
        assert replayed.headers["idempotent-replayed"] == "true" and replayed.json() == first.json()
        local_id = next(iter(values.secrets))
        await restore_ciphertext(api, local_id, before[f"secrets/{local_id}/value"])
        with pytest.raises(SecretUnavailable, match=f"no key {old_kid}"):
            await resolve(api, local_id)
    aside.rename(previous)
    async with serving(setup.settings()) as api:  # values written under the previous key still open
        assert await read_back(api, values) == values


async def test_rotation_with_the_key_in_the_environment(setup: Setup, vault: VaultServer) -> None:
    old, new = generate_key(), generate_key()
    async with serving(setup.settings(encryption_key=SecretStr(old))) as api:
        values = await store_values(api, vault)
        local_id = next(iter(values.secrets))
        before = (await ciphertexts(api))[f"secrets/{local_id}/value"]

    result = setup.rotate("--new-key", new, AGYN_ENCRYPTION_KEY=old)
    assert result.returncode == 0, result.stderr
    printed = [line.strip() for line in result.stdout.splitlines()]
    assert f"AGYN_ENCRYPTION_KEY={new}" in printed and f"AGYN_ENCRYPTION_PREVIOUS_KEYS={old}" in printed
    assert list(setup.data_dir.glob("encryption-key*")) == []  # the keys stay with the operator

    async with serving(setup.settings(encryption_key=SecretStr(new))) as api:
        assert await read_back(api, values) == values
        await restore_ciphertext(api, local_id, before)
        with pytest.raises(SecretUnavailable, match=f"no key {key_id(decode_key(old))}"):
            await resolve(api, local_id)
    configured = setup.settings(encryption_key=SecretStr(new), encryption_previous_keys=SecretStr(old))
    async with serving(configured) as api:
        assert await read_back(api, values) == values

    # interrupted before the new key was configured (a value written under the old one meanwhile): run it again
    again = setup.rotate("--new-key", new, AGYN_ENCRYPTION_KEY=old)
    assert again.returncode == 0, again.stderr
    assert "Re-encrypted 1 value in 1 object" in again.stdout
    async with serving(setup.settings(encryption_key=SecretStr(new))) as api:
        assert await read_back(api, values) == values


async def test_an_interrupted_rotation_leaves_every_value_readable(setup: Setup, vault: VaultServer) -> None:
    async with serving(setup.settings()) as api:
        values = await store_values(api, vault)
        organization_id = (await api.client.get(f"/api/v1/secrets/{next(iter(values.secrets))}",
                                                headers=api.admin)).json()["organization_id"]
    rotation = KeyRotation.plan(setup.settings(), None)
    assert rotation.files is not None

    rotation.files.stage(rotation.new)  # stopped before the transaction
    async with serving(setup.settings()) as api:
        assert await read_back(api, values) == values
    database = Database(setup.settings().effective_database_url)
    try:  # stopped after the transaction committed, before the key files changed
        await reencrypt(database, rotation.cipher, lambda done, total: None)
    finally:
        await database.dispose()
    async with serving(setup.settings()) as api:
        assert await read_back(api, values) == values
        late = await api.client.post("/api/v1/secrets", headers=api.admin, json={
            "organization_id": organization_id, "name": "written-meanwhile", "value": "Late-Value"})
        assert late.status_code == 201, late.text
        values.secrets[late.json()["id"]] = "Late-Value"

    other = setup.rotate("--new-key", generate_key())
    assert "did not finish" in one_error_line(other) and "without --new-key" in other.stderr
    finished = setup.rotate()
    assert finished.returncode == 0, finished.stderr
    assert "Re-encrypted 1 value in 1 object" in finished.stdout  # the one written under the old key meanwhile
    assert decode_key(setup.key_file.read_text()) == rotation.new
    assert (setup.data_dir / f"encryption-key.previous-{key_id(rotation.current)}").is_file()
    async with serving(setup.settings()) as api:
        assert await read_back(api, values) == values


async def test_rotation_refusals_are_one_clear_line(tmp_path: Path) -> None:
    """Refused before anything is touched: the plan says why, the command in one line."""
    empty, keyed = Setup(tmp_path / "empty", None), Setup(tmp_path / "keyed", None)
    current = generate_key()
    write_secret_file(keyed.key_file, current)
    configured = Setup(tmp_path / "env", None).settings(encryption_key=SecretStr(current))
    for settings, new_key, reason in ((keyed.settings(), "not a key", "must be base64"),
                                      (keyed.settings(), current, "the new key is the current key"),
                                      (configured, None, "pass it with --new-key")):
        with pytest.raises(RotationError, match=reason):
            KeyRotation.plan(settings, new_key)
    no_key, help_screen = await asyncio.gather(
        asyncio.to_thread(empty.rotate),
        asyncio.to_thread(agyn, "secrets", "rotate-key", "--help", cwd=tmp_path, env=cli_env(COLUMNS="200")))
    assert "there is no encryption key in" in one_error_line(no_key)
    for phrase in ("Stop the platform first", "--new-key", "AGYN_ENCRYPTION_KEY", "all or nothing"):
        assert phrase in help_screen.stdout
    assert [p.name for p in tmp_path.glob("*/encryption-key*")] == ["encryption-key"]  # nothing was written
