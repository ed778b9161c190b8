"""The proxy's hot path holds what it looked up (model, permission, caller) and lets go of it as soon
as a write changes it; a repeat call touches no database."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from sqlalchemy import update

from agyn.llm.models import Model
from agyn.llm_proxy.service import LLMProxyService
from agyn.settings import LLMProxySettings, MeteringSettings
from tests.conftest import Api, User, running_api
from tests.llm_proxy.stub_upstream import fingerprint
from tests.support.clock import FakeClock
from tests.support.statements import Statements

CACHE_SECONDS = 60.0


@dataclass
class Setup:
    api: Api
    clock: FakeClock
    owner: User
    member: User
    membership_id: str
    model_id: str
    provider_id: str

    async def call(self, caller: User | None = None, **extra: Any) -> Any:
        return await self.api.client.post("/v1/responses", headers=(caller or self.member).headers,
                                          json={"model": self.model_id, "input": "hi", **extra})

    async def seen(self, caller: User | None = None) -> dict[str, Any]:
        answer = await self.call(caller)
        assert answer.status_code == 200, answer.text
        seen: dict[str, Any] = json.loads(answer.json()["output"][0]["content"][0]["text"])
        return seen


@pytest_asyncio.fixture
async def setup(database_url: str, tmp_path: Path, stub_url: str) -> AsyncIterator[Setup]:
    clock = FakeClock()
    async with running_api(database_url, tmp_path / "data", clock=clock,
                           llm_proxy=LLMProxySettings(cache_seconds=CACHE_SECONDS),
                           metering=MeteringSettings(flush_interval=3600)) as api:
        owner, member = await api.user("owner"), await api.user("member")
        organization = await api.organization(owner)
        membership = await api.add_member(organization["id"], member)
        provider = await api.client.post("/api/v1/llm-providers", headers=owner.headers, json={
            "organization_id": organization["id"], "endpoint": f"{stub_url}/echo/v1", "auth_method": "bearer",
            "token": "sk-first-token"})
        assert provider.status_code == 201, provider.text
        model = await api.client.post("/api/v1/models", headers=owner.headers, json={
            "organization_id": organization["id"], "name": "echo", "llm_provider_id": provider.json()["id"],
            "remote_name": "first-remote"})
        assert model.status_code == 201, model.text
        yield Setup(api, clock, owner, member, membership["id"], model.json()["id"], provider.json()["id"])


async def test_a_repeat_call_makes_no_database_round_trip(setup: Setup) -> None:
    assert (await setup.seen())["model"] == "first-remote"
    statements = Statements(setup.api.app.state.platform.database)
    try:
        for _ in range(3):
            assert (await setup.seen())["model"] == "first-remote"
    finally:
        statements.close()
    assert statements.count == 0
    proxy = setup.api.app.state.platform.get(LLMProxyService)
    assert len(proxy.resolutions) == 1 and len(proxy.permissions) == 1


async def test_a_new_remote_name_is_used_by_the_next_call(setup: Setup) -> None:
    assert (await setup.seen())["model"] == "first-remote"
    changed = await setup.api.client.patch(f"/api/v1/models/{setup.model_id}", headers=setup.owner.headers,
                                           json={"remote_name": "second-remote"})
    assert changed.status_code == 200, changed.text
    assert (await setup.seen())["model"] == "second-remote"


async def test_new_provider_credentials_are_used_by_the_next_call(setup: Setup) -> None:
    assert (await setup.seen())["headers"]["authorization"] == fingerprint("Bearer sk-first-token")
    changed = await setup.api.client.patch(f"/api/v1/llm-providers/{setup.provider_id}", headers=setup.owner.headers,
                                           json={"token": "sk-rotated-token"})
    assert changed.status_code == 200, changed.text
    assert (await setup.seen())["headers"]["authorization"] == fingerprint("Bearer sk-rotated-token")


async def test_a_removed_member_is_refused_by_the_next_call(setup: Setup) -> None:
    assert (await setup.call()).status_code == 200
    removed = await setup.api.client.delete(f"/api/v1/memberships/{setup.membership_id}", headers=setup.owner.headers)
    assert removed.status_code == 204, removed.text
    refused = await setup.call()
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    added = await setup.api.add_member(
        (await setup.api.client.get(f"/api/v1/models/{setup.model_id}", headers=setup.owner.headers)
         ).json()["organization_id"], setup.member)
    assert added and (await setup.call()).status_code == 200


async def test_a_deleted_model_is_not_found_by_the_next_call(setup: Setup) -> None:
    assert (await setup.call()).status_code == 200
    deleted = await setup.api.client.delete(f"/api/v1/models/{setup.model_id}", headers=setup.owner.headers)
    assert deleted.status_code == 204, deleted.text
    gone = await setup.call()
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "model_not_found"


async def test_a_revoked_token_is_refused_by_the_next_call(setup: Setup) -> None:
    minted = await setup.api.client.post("/api/v1/api-tokens", headers=setup.member.headers, json={"name": "agent"})
    assert minted.status_code == 201, minted.text
    caller = User(setup.member.id, setup.member.username, minted.json()["token"])
    assert (await setup.call(caller)).status_code == 200
    revoked = await setup.api.client.delete(f"/api/v1/api-tokens/{minted.json()['id']}", headers=caller.headers)
    assert revoked.status_code == 204, revoked.text
    refused = await setup.call(caller)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"


async def test_a_change_this_process_did_not_see_is_picked_up_within_the_cache_time(setup: Setup) -> None:
    """Another replica's write arrives as no event here: the entry ages out."""
    assert (await setup.seen())["model"] == "first-remote"
    async with setup.api.app.state.platform.database.transaction() as session:
        await session.execute(update(Model).where(Model.id == uuid.UUID(setup.model_id))
                              .values(remote_name="elsewhere", version=Model.version + 1))
    assert (await setup.seen())["model"] == "first-remote"
    setup.clock.advance(CACHE_SECONDS + 1)
    assert (await setup.seen())["model"] == "elsewhere"


async def test_a_lookup_that_raced_with_a_write_is_not_kept(setup: Setup) -> None:
    proxy = setup.api.app.state.platform.get(LLMProxyService)
    version = proxy.resolutions.version
    proxy.resolutions.clear()  # a write committed while a lookup was under way
    proxy.resolutions.put(("echo", None), (), version)
    assert proxy.resolutions.get(("echo", None)) is None
