"""Fixtures of the resource tests: a Vault (KV v2 over HTTP) holding a known secret."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.support.vault import VaultServer

VAULT_TOKEN = "hvs.Vault-Token-That-Must-Not-Leak"
VAULT_PASSWORD = "db-Password-From-Vault-9f3k"


@pytest_asyncio.fixture(scope="module")
async def vault() -> AsyncIterator[VaultServer]:
    """Mounts `secret` and `kv`; `secret/team/db` holds `password` (VAULT_PASSWORD) and `port`."""
    async with VaultServer(VAULT_TOKEN, mounts=("secret", "kv")) as server:
        await server.write("secret", "team/db", {"password": VAULT_PASSWORD, "port": 5432})
        yield server
