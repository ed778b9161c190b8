"""Who may listen to which room: each kind allowed and refused; refusals are 403 problems before any
stream starts."""

from __future__ import annotations

import uuid

import pytest

from agyn.kit.errors import InvalidArgument, PermissionDenied
from agyn.kit.principal import IdentityType, Principal
from agyn.notifications.rooms import ModelRoomAuthorizer
from agyn.notifications.service import NotificationsService
from tests.conftest import Api, User, assert_problem
from tests.notifications.support import make_thread
from tests.resources.agents_support import make_org


def principal(user: User) -> Principal:
    return Principal(uuid.UUID(user.id), IdentityType.user)


def service(api: Api) -> NotificationsService:
    return api.app.state.platform.get(NotificationsService)


async def granted(api: Api, user: User, *rooms: str) -> list[str] | None:
    """The rooms granted, or None when refused."""
    try:
        return await service(api).grant(principal(user), list(rooms))
    except PermissionDenied:
        return None


async def test_thread_participant_rooms_are_the_callers_own(api: Api) -> None:
    user, other = await api.user(), await api.user()
    own = f"thread_participant:{user.id}"
    assert await granted(api, user, "thread_participant:me") == [own]
    assert await granted(api, user, own, "thread_participant:me") == [own]
    assert await granted(api, user, own.upper().replace("THREAD_PARTICIPANT", "thread_participant")) == [own]
    assert await granted(api, user, f"thread_participant:{other.id}") is None


async def test_conversation_rooms_are_for_its_readers(api: Api) -> None:
    owner, alice, bob = await api.user(), await api.user(), await api.user()
    org = await api.organization(owner)
    for user in (alice, bob):
        await api.add_member(org["id"], user)
    thread_id = await make_thread(api.app.state.platform, org["id"], alice)
    room = f"conversation:{thread_id}"
    assert await granted(api, alice, room) == [room]
    assert await granted(api, bob, room) is None  # a member of the org, not of the conversation
    assert await granted(api, owner, room) == [room]  # the org's owner oversees its threads
    assert await granted(api, alice, f"conversation:{uuid.uuid4()}") is None


async def test_agent_rooms_are_for_members_of_its_organization(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent()
    member, outsider = await org.member("member"), await api.user("outsider")
    room = f"agent:{agent['id']}"
    assert await granted(api, member, room) == [room]
    assert await granted(api, org.owner, room) == [room]
    assert await granted(api, outsider, room) is None
    assert await granted(api, member, f"agent:{uuid.uuid4()}") is None


async def test_organization_rooms_are_for_its_members(api: Api) -> None:
    owner, member, outsider = await api.user(), await api.user(), await api.user()
    org = await api.organization(owner)
    await api.add_member(org["id"], member)
    room = f"organization:{org['id']}"
    assert await granted(api, owner, room) == [room]
    assert await granted(api, member, room) == [room]
    assert await granted(api, outsider, room) is None


async def test_workload_rooms_are_for_members_of_the_workloads_organization(api: Api) -> None:
    owner, outsider = await api.user(), await api.user()
    org = await api.organization(owner)
    workload_id = uuid.uuid4()
    room = f"workload:{workload_id}"
    assert await granted(api, owner, room) is None  # no module knows workloads yet
    authorizer = service(api).rooms
    assert isinstance(authorizer, ModelRoomAuthorizer)

    async def organization_of(workload: uuid.UUID) -> uuid.UUID | None:
        return uuid.UUID(org["id"]) if workload == workload_id else None

    authorizer.workload_organization = organization_of
    assert await granted(api, owner, room) == [room]
    assert await granted(api, outsider, room) is None
    assert await granted(api, owner, f"workload:{uuid.uuid4()}") is None


@pytest.mark.parametrize("room", ["thread:x", "nonsense", "agents", "organization:not-a-uuid", "thread_participant:",
                                  "agent_instances", "conversation:me"])
async def test_anything_else_is_refused(api: Api, room: str) -> None:
    user = await api.user()
    assert await granted(api, user, room) is None


async def test_no_rooms_or_too_many_is_a_bad_request(api: Api) -> None:
    user = await api.user()
    with pytest.raises(InvalidArgument):
        await service(api).grant(principal(user), [])
    with pytest.raises(InvalidArgument):
        await service(api).grant(principal(user), [f"organization:{uuid.uuid4()}" for _ in range(101)])


async def test_sse_refusals_are_problems_before_the_stream(api: Api) -> None:
    owner, outsider = await api.user(), await api.user()
    org = await api.organization(owner)
    response = await api.client.get("/api/v1/events", headers=outsider.headers,
                                    params={"rooms": f"thread_participant:me,organization:{org['id']},bogus"})
    body = assert_problem(response, 403, "permission_denied")
    assert [e["message"].split(": ")[0] for e in body["errors"]] == [f"organization:{org['id']}", "bogus"]
    assert_problem(await api.client.get("/api/v1/events", headers=outsider.headers,
                                        params={"rooms": f"thread_participant:{owner.id}"}), 403, "permission_denied")
    assert_problem(await api.client.get("/api/v1/events", headers=outsider.headers, params={"rooms": " , "}),
                   400, "invalid_argument")
    assert_problem(await api.client.get("/api/v1/events", headers=outsider.headers), 400, "invalid_argument")
    assert_problem(await api.client.get("/api/v1/events", params={"rooms": "thread_participant:me"}),
                   401, "unauthenticated")
    assert service(api).hub.subscriptions == 0
