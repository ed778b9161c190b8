"""Server-Sent Events at `GET /api/v1/events`: envelopes in order, on a real HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conftest import assert_problem
from tests.notifications.support import Live, live_server, sse
from tests.resources.agents_support import make_org


@pytest_asyncio.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_server(database_url, tmp_path / "data", notifications={"heartbeat_seconds": 0.2}) as live:
        yield live


async def test_envelopes_arrive_in_order_with_their_id_and_event_name(live: Live) -> None:
    user = await live.api.user()
    async with sse(live.api.client, user.token, "thread_participant:me") as stream:
        sent = [await live.publish("message.created", (f"thread_participant:{user.id}",), thread_id="t", n=n)
                for n in range(20)]
        received = [await stream.next() for _ in sent]
    assert [m.id for m in received] == [e.id for e in sent]
    assert {m.event for m in received} == {"message.created"}
    first = received[0].envelope
    assert set(first) == {"id", "ts", "source", "event", "rooms", "payload"}
    assert first["id"] == sent[0].id and first["event"] == "message.created" and first["source"] == "tests"
    assert first["rooms"] == [f"thread_participant:{user.id}"]
    assert first["payload"] == {"thread_id": "t", "n": 0}
    assert first["ts"].endswith("Z") and first["ts"].startswith(str(sent[0].ts.year))
    assert [m.envelope["payload"]["n"] for m in received] == list(range(20))


async def test_only_the_subscribed_rooms_and_each_envelope_once(live: Live) -> None:
    user, other = await live.api.user(), await live.api.user()
    org = await live.api.organization(user)
    async with sse(live.api.client, user.token, "thread_participant:me", f"organization:{org['id']}") as stream:
        await live.publish("message.created", (f"thread_participant:{other.id}",), n=1)  # not for this user
        both = await live.publish("message.created", (f"thread_participant:{user.id}", f"organization:{org['id']}"),
                                  n=2)
        last = await live.publish("conversation.updated", (f"organization:{org['id']}",), n=3)
        assert [(await stream.next()).id, (await stream.next()).id] == [both.id, last.id]


async def test_a_quiet_stream_gets_heartbeat_comments(live: Live) -> None:
    user = await live.api.user()
    async with sse(live.api.client, user.token, "thread_participant:me") as stream:
        await asyncio.sleep(0.7)
        event = await live.publish("message.created", (f"thread_participant:{user.id}",))
        assert (await stream.next()).id == event.id
    assert stream.comments.count("heartbeat") >= 2, stream.comments


async def test_the_stream_holds_no_database_connection(live: Live) -> None:
    user = await live.api.user()
    pool = live.platform.database.engine.pool
    async with sse(live.api.client, user.token, "thread_participant:me") as stream:
        await asyncio.sleep(0.05)
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        event = await live.publish("message.created", (f"thread_participant:{user.id}",))
        assert (await stream.next()).id == event.id


async def test_a_refused_room_is_403_problem_before_any_stream(live: Live) -> None:
    user, outsider = await live.api.user(), await live.api.user()
    org = await live.api.organization(user)
    response = await live.api.client.get("/api/v1/events", headers=outsider.headers,
                                         params={"rooms": f"thread_participant:me,organization:{org['id']}"})
    body = assert_problem(response, 403, "permission_denied")
    assert [e["message"].split(":")[0] + ":" + e["message"].split(":")[1] for e in body["errors"]] == [
        f"organization:{org['id']}"]
    assert live.notifications.hub.subscriptions == 0
    assert_problem(await live.api.client.get("/api/v1/events", params={"rooms": "thread_participant:me"}),
                   401, "unauthenticated")


async def test_agent_updates_reach_the_agent_and_organization_rooms(live: Live) -> None:
    org = await make_org(live.api)
    agent = await org.agent()
    member = await org.member("watcher")
    async with sse(live.api.client, member.token, f"agent:{agent['id']}") as by_agent, \
            sse(live.api.client, org.owner.token, f"organization:{org.id}") as by_org:
        response = await live.api.client.patch(f"/api/v1/agents/{agent['id']}", headers=org.owner.headers,
                                               json={"role": "reviewer"})
        assert response.status_code == 200, response.text
        for stream in (by_agent, by_org):
            message = await stream.next()
            assert message.event == "agent.updated"
            assert message.envelope["payload"] == {"agent_id": agent["id"]}
            assert message.envelope["rooms"] == [f"agent:{agent['id']}", f"organization:{org.id}"]


async def test_a_closed_subscription_ends_the_stream_with_its_reason(live: Live) -> None:
    user = await live.api.user()
    async with sse(live.api.client, user.token, "thread_participant:me") as stream:
        live.notifications.close_streams()  # as when the server is asked to exit
        message = await stream.next()
        assert message.event == "notifications.closed" and message.id is None
        assert message.envelope["reason"] == "server_shutdown" and message.envelope["detail"]
        with pytest.raises(EOFError):
            await stream.next()
    assert live.notifications.hub.subscriptions == 0
