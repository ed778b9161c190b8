"""A page of a registry collection: written byte for byte as FastAPI writes its response model, each body
as the caller may see it whichever caller's view of a cached row came first, and filtered by what the
caller may see now, however often the same question was asked before."""

from __future__ import annotations

import uuid
from typing import Any

from agyn.agents.schemas import AgentSchemas
from agyn.authorization import objects
from agyn.authorization.backends import MemoryBackend
from agyn.authorization.engine import Engine, InMemoryTupleStore, TupleKey
from agyn.authorization.service import AuthorizationService
from agyn.kit.pagination import Page
from agyn.kit.principal import IdentityType, Principal
from tests.conftest import Api
from tests.platform.test_read_cache import platform_of
from tests.resources.agents_support import AGENTS, ROLES, make_org

SECRET = {"system_prompt": "secret plans"}


async def page(api: Api, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await api.client.get(AGENTS, headers=headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


async def test_a_page_is_written_as_its_response_model(api: Api) -> None:
    org = await make_org(api)
    for number in range(3):
        await org.agent(name=f"agent-{number}", configuration=SECRET)
    member = await org.member("member")
    for caller in (org.owner, member):
        for _ in range(2):  # with the rows read from the database, then from the read cache
            response = await api.client.get(AGENTS, headers=caller.headers, params={"page_size": 2})
            assert response.status_code == 200, response.text
            listed = response.json()
            ones = [(await api.client.get(f"{AGENTS}/{item['id']}", headers=caller.headers)).json()
                    for item in listed["items"]]
            assert listed["items"] == ones and listed["next_page_token"]
            expected = Page[AgentSchemas.read](  # type: ignore[name-defined]
                items=[AgentSchemas.read.model_validate(one) for one in ones],
                next_page_token=listed["next_page_token"])
            assert response.content == expected.model_dump_json(by_alias=True).encode()


async def test_each_caller_sees_their_own_view_of_a_cached_row(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent(configuration=SECRET)
    member = await org.member("member")  # its metadata, not its configuration
    platform_of(api).read_cache.clear()
    for first, second in ((member, org.owner), (org.owner, member)):
        for caller in (first, second):
            [item] = (await page(api, caller.headers))["items"]
            assert item["configuration"] == (SECRET if caller is org.owner else None), caller.username
    assert platform_of(api).read_cache.get("agents", uuid.UUID(agent["id"])) is not None

    changed = {"system_prompt": "new plans"}
    patched = await api.client.patch(f"{AGENTS}/{agent['id']}", headers=org.owner.headers,
                                     json={"configuration": changed})
    assert patched.status_code == 200, patched.text
    [item] = (await page(api, org.owner.headers))["items"]
    assert item["configuration"] == changed and item["etag"] == patched.json()["etag"]
    [item] = (await page(api, member.headers))["items"]
    assert item["configuration"] is None and item["etag"] == patched.json()["etag"]


async def test_a_page_follows_a_grant_and_a_revocation_at_once(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent()
    outsider = await api.user("outsider")
    assert (await page(api, outsider.headers))["items"] == []
    membership = await api.add_member(org.id, outsider)
    assert [item["id"] for item in (await page(api, outsider.headers))["items"]] == [agent["id"]]
    removed = await api.client.delete(f"/api/v1/memberships/{membership['id']}", headers=api.admin)
    assert removed.status_code == 204, removed.text
    assert (await page(api, outsider.headers))["items"] == []


async def test_a_page_shows_a_configuration_as_soon_as_a_role_allows_it_and_not_after(api: Api) -> None:
    """Whether the caller may read each configuration is remembered between pages only until the
    tuples change."""
    org = await make_org(api)
    agent = await org.agent(configuration=SECRET)
    member = await org.member("member")
    for _ in range(2):
        assert (await page(api, member.headers))["items"][0]["configuration"] is None
    role = await api.client.post(ROLES, headers=org.owner.headers, json={
        "agent_id": agent["id"], "identity_id": member.id, "role": "maintainer"})
    assert role.status_code == 201, role.text
    for _ in range(2):
        assert (await page(api, member.headers))["items"][0]["configuration"] == SECRET
    revoked = await api.client.delete(f"{ROLES}/{role.json()['id']}", headers=org.owner.headers)
    assert revoked.status_code == 204, revoked.text
    assert (await page(api, member.headers))["items"][0]["configuration"] is None


async def test_listed_ids_are_remembered_only_until_the_tuples_change() -> None:
    engine = Engine.from_file()
    store = InMemoryTupleStore()
    service = AuthorizationService(MemoryBackend(engine, store), engine, store)
    caller = Principal(uuid.uuid4(), IdentityType.user)
    organization, agent = uuid.uuid4(), uuid.uuid4()
    member = TupleKey(caller.subject, "member", objects.organization(organization))
    await service.backend.write([TupleKey(objects.organization(organization), "org", objects.agent(agent))])

    assert list(await service.list_object_uuids(caller, "can_view", "agent")) == []
    await service.backend.write([member])
    first = await service.list_object_uuids(caller, "can_view", "agent")
    assert list(first) == [agent]
    assert await service.list_object_uuids(caller, "can_view", "agent") is first  # nothing changed
    await service.backend.write(deletes=[member])
    assert list(await service.list_object_uuids(caller, "can_view", "agent")) == []


async def test_checked_answers_are_remembered_only_until_the_tuples_change() -> None:
    engine = Engine.from_file()
    store = InMemoryTupleStore()
    service = AuthorizationService(MemoryBackend(engine, store), engine, store)
    caller = Principal(uuid.uuid4(), IdentityType.user)
    agents = [objects.agent(uuid.uuid4()) for _ in range(3)]
    maintainer = TupleKey(caller.subject, "maintainer", agents[1])
    assert await service.check_many(caller, "can_read_config", agents) == [False, False, False]
    await service.backend.write([maintainer])
    assert await service.check_many(caller, "can_read_config", agents) == [False, True, False]
    assert await service.check_many(caller, "can_read_config", agents[1:]) == [True, False]
    await service.backend.write(deletes=[maintainer])
    assert await service.check_many(caller, "can_read_config", agents) == [False, False, False]
