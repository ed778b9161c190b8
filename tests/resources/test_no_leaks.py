"""Write-only values never leave the platform: not in a response, a log line or a database column.

Every resource with a sensitive field (LLM provider token and headers, secret provider Vault token,
secret and ENV values) is created and updated with unique marker values, and sent refused updates
carrying more of them; every resource with a value shown once (runner and app service tokens, API
tokens) is created and its value used. Meanwhile the platform logs everything at DEBUG, SQL
statements with their parameters and result rows included, formatted as the server writes them.
Then: no marker in any response (a value shown once: only in its create response), in any log
line, or in any column of any table read with raw SQL.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, select, text

from agyn.kit.logging import JSONFormatter
from agyn.users.models import ApiToken
from agyn.users.tokens import hash_token
from tests.conftest import Api
from tests.resources.fixtures_all import REGISTRY, SPECS, World, build_world, object_path

Mark = Callable[[], str]
Fields = Callable[[Mark], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One resource's write-only values: how to create and update them, and updates that are refused."""

    kind: str
    create: Fields
    update: Fields
    refused: tuple[Fields, ...]
    stored: tuple[tuple[str, str | None], ...] = ()
    """(field, sub-field) of the values kept encrypted, to check they hold the last value sent."""


CASES = (
    Case("llm-providers", lambda m: {"auth_method": "bearer", "token": m()}, lambda m: {"token": m()},
         (lambda m: {"token": m() + "x" * 4096},  # too long
          lambda m: {"auth_method": "custom_headers", "token": m()}),  # no headers, and a token it does not use
         stored=(("token", None),)),
    Case("llm-providers", lambda m: {"auth_method": "custom_headers", "token": None, "headers": {"X-Api-Key": m()}},
         lambda m: {"headers": {"X-Api-Key": m(), "X-Team": m()}},
         (lambda m: {"headers": {"X-Api-Key": m() + "\r\nX-Injected: 1"}},  # not on one line
          lambda m: {"headers": {"Host": m()}},  # set by the proxy
          lambda m: {"auth_method": "bearer"}),  # a token is then required
         stored=(("headers", None),)),
    Case("secret-providers", lambda m: {"vault": {"address": "http://127.0.0.1:8200", "token": m()}},
         lambda m: {"vault": {"address": "http://127.0.0.1:8201", "token": m()}},
         (lambda m: {"vault": {"address": "ftp://vault.example", "token": m()}},  # not http(s)
          lambda m: {"vault": {"token": m()}},  # no address
          lambda m: {"vault": {"address": "http://127.0.0.1:8200", "token": m() * 200}}),  # too long
         stored=(("vault", "token"),)),
    Case("secrets", lambda m: {"value": m()}, lambda m: {"value": m()},
         (lambda m: {"value": m(), "reference": "kv/app/key"},  # a reference needs a provider
          lambda m: {"value": m() * 3000}),  # too long
         stored=(("value", None),)),
    Case("envs", lambda m: {"value": m()}, lambda m: {"value": m()},
         (lambda m: {"value": m(), "name": "1-not-a-name"},
          lambda m: {"value": m() * 3000}),
         stored=(("value", None),)),
    Case("runners", lambda m: {}, lambda m: {"labels": {"zone": "eu"}}, (lambda m: {"service_token": m()},)),
    Case("apps", lambda m: {}, lambda m: {"name": "Renamed"}, (lambda m: {"service_token": m()},)),
)


def _has_secret(resource: Any) -> bool:
    return any(f.sensitive or f.once or any(sub.sensitive for sub in f.fields) for f in resource.fields)


def test_every_resource_with_a_write_only_value_has_a_case() -> None:
    assert {SPECS[case.kind].collection for case in CASES} == {r.collection for r in REGISTRY if _has_secret(r)}


class Exchanges:
    """Every response the test got, and the markers it sent (write-only) or was shown (once)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.responses: list[tuple[str, httpx.Response]] = []
        self.write_only: list[str] = []
        self.once: dict[str, httpx.Response] = {}
        self._counter = itertools.count()

    def mark(self) -> str:
        marker = f"Leak-Marker-{next(self._counter)}-{uuid.uuid4().hex[:12]}"
        self.write_only.append(marker)
        return marker

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.request(method, url, **kwargs)
        self.responses.append((f"{method} {url}", response))
        return response

    def shown_once(self, value: str, response: httpx.Response) -> None:
        assert value.startswith("agyn_")
        self.once[value] = response


async def _exercise(world: World, exchanges: Exchanges, case: Case) -> None:
    spec = SPECS[case.kind]
    headers = world.headers(spec.creator)
    body = await world.body(case.kind, **case.create(exchanges.mark))
    created = await exchanges.send("POST", spec.path, json=body,
                                   headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201, created.text
    if "service_token" in created.json():
        token = created.json()["service_token"]
        exchanges.shown_once(token, created)
        me = await exchanges.send("GET", "/me", headers=world.api.auth(token))
        assert me.json()["identity_id"] == created.json()["id"]
    url = object_path(spec.collection, created.json()["id"])
    update = case.update(exchanges.mark)
    updated = await exchanges.send("PATCH", url, headers=headers, json=update)
    assert updated.status_code == 200, updated.text
    for refused_update in case.refused:
        refused = await exchanges.send("PATCH", url, headers=headers, json=refused_update(exchanges.mark))
        assert refused.status_code == 400, refused.text
    for role in ("admin", "owner", "member"):
        await exchanges.send("GET", url, headers=world.headers(role))
        await exchanges.send("GET", spec.path, headers=world.headers(role))

    platform = world.api.app.state.platform
    service = platform.collections[spec.collection]
    async with platform.database.transaction() as session:
        record = await session.get(service.model, uuid.UUID(created.json()["id"]))
        for name, sub in case.stored:  # kept, encrypted: the last value of the update
            assert service.decrypt(record, name, sub) == (update[name] if sub is None else update[name][sub])


async def _exercise_api_tokens(world: World, exchanges: Exchanges) -> None:
    own = await exchanges.send("POST", "/api/v1/api-tokens", headers=world.owner.headers, json={"name": "ci"})
    minted = await exchanges.send("POST", f"/api/v1/users/{world.member.id}/api-tokens", headers=world.api.admin,
                                  json={"name": "automation"})
    for response in (own, minted):
        assert response.status_code == 201, response.text
        token = response.json()["token"]
        exchanges.shown_once(token, response)
        assert (await exchanges.send("GET", "/me", headers=world.api.auth(token))).status_code == 200
        assert (await exchanges.send("GET", "/api/v1/api-tokens", headers=world.api.auth(token))).status_code == 200
    refused = await exchanges.send("POST", "/api/v1/api-tokens", headers=world.owner.headers,
                                   json={"name": "ci", "token": exchanges.mark()})
    assert refused.status_code == 400, refused.text


async def _database_cells(api: Api) -> list[tuple[str, str]]:
    """(table, text of the value) of every column of every row of every table."""
    cells: list[tuple[str, str]] = []
    async with api.app.state.platform.database.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        for table in tables:
            for row in (await connection.execute(text(f'SELECT * FROM "{table}"'))).all():
                for value in row:
                    shown = value.decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                    cells.append((table, shown))
    return cells


async def test_write_only_values_never_leave(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    world = await build_world(api)
    exchanges = Exchanges(api.client)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")  # statements, parameters and result rows
    for case in CASES:
        await _exercise(world, exchanges, case)
    await _exercise_api_tokens(world, exchanges)
    assert len(exchanges.once) == 4 and len(exchanges.write_only) > 20  # two service tokens, two API tokens

    for label, response in exchanges.responses:
        for marker in exchanges.write_only:
            assert marker not in response.text, f"{label} answered a write-only value: {response.text}"
        for value, shown_in in exchanges.once.items():
            assert response is shown_in or value not in response.text, f"{label} showed a token again"

    formatter = JSONFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any("INSERT INTO secrets" in line for line in lines)  # the capture saw the writes,
    assert any("'v1:" in line for line in lines)  # with their parameters: ciphertexts
    for line in lines:
        for value in [*exchanges.write_only, *exchanges.once]:
            assert value not in line, f"a log line carries a write-only value: {line}"

    cells = await _database_cells(api)
    assert {"secrets", "llm_providers", "idempotency_records", "api_tokens"} <= {table for table, _ in cells}
    for table, cell in cells:
        for value in [*exchanges.write_only, *exchanges.once]:
            assert value not in cell, f"{table} keeps a write-only value in plain text: {cell}"
    async with api.app.state.platform.database.transaction() as session:
        hashes = set((await session.scalars(select(ApiToken.token_hash))).all())
    assert {hash_token(token) for token in exchanges.once} <= hashes  # kept, as hashes only
