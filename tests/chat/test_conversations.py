"""Conversations over HTTP: creation with a first message, status and summary, unread counts that
rise with messages and fall with `read`, activity status, deletion, and a listing whose cost in
queries does not grow with the number of conversations."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from agyn.chat.activity import LatestWorkload, contribution, strongest
from tests.conftest import Api, User, assert_problem
from tests.threads.support import Events, Team, make_team

CONVERSATIONS = "/api/v1/conversations"


async def open_conversation(team: Team, creator: User, *participants: str, **extra: Any) -> dict[str, Any]:
    response = await team.api.client.post(CONVERSATIONS, headers=creator.headers, json={
        "organization_id": team.org.id, "participants": list(participants), **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def listed(team: Team, user: User, **params: Any) -> list[dict[str, Any]]:
    response = await team.api.client.get(CONVERSATIONS, headers=user.headers, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_conversation_between_two_users_counts_unread_until_read(api: Api) -> None:
    team = await make_team(api)
    created = await open_conversation(team, team.bob, f"@{team.carol.username}", message="Lunch?\nAt noon")
    assert (created["status"], created["summary"], created["unread_count"], created["activity_status"]) == \
        ("open", "Lunch?", 0, None)
    assert created["participants"] == [team.bob.id, team.carol.id]
    assert created["last_message"]["preview"] == "Lunch?\nAt noon"
    url = f"{CONVERSATIONS}/{created['id']}"
    thread = await api.client.get(f"/api/v1/threads/{created['id']}", headers=team.carol.headers)
    assert thread.status_code == 200  # the conversation is its thread

    [item] = await listed(team, team.carol)
    assert (item["id"], item["unread_count"], item["summary"]) == (created["id"], 1, "Lunch?")
    reply = await api.client.post(f"{url}/messages", headers=team.carol.headers, json={"body": "Sure"})
    assert reply.status_code == 201
    await api.client.post(f"{url}/messages", headers=team.bob.headers, json={"body": "Great"})
    page = await api.client.get(f"{url}/messages", headers=team.carol.headers)
    assert [m["body"] for m in page.json()["items"]] == ["Lunch?\nAt noon", "Sure", "Great"]
    assert page.json()["unread_count"] == 2  # reading marks nothing read
    got = await api.client.get(url, headers=team.carol.headers)
    assert got.json()["unread_count"] == 2 and got.json()["last_message"]["preview"] == "Great"
    assert got.headers["ETag"] == got.json()["etag"]

    assert (await api.client.post(f"{url}/read", headers=team.carol.headers)).json() == {"acked": 2}
    assert (await api.client.post(f"{url}/read", headers=team.carol.headers)).json() == {"acked": 0}
    assert (await listed(team, team.carol))[0]["unread_count"] == 0
    assert (await listed(team, team.bob))[0]["unread_count"] == 1  # carol's reply, still unread by bob


async def test_status_summary_and_listing_filters(api: Api) -> None:
    team = await make_team(api)
    first = await open_conversation(team, team.bob, team.carol.id, message="one")
    second = await open_conversation(team, team.bob, team.carol.id)
    assert second["summary"] is None and second["last_message"] is None
    events = Events(api, "conversation.updated")
    url = f"{CONVERSATIONS}/{first['id']}"

    resolved = await api.client.patch(url, headers=team.carol.headers, json={"status": "resolved"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    [updated] = events.take()
    assert updated.payload == {"conversation_id": first["id"], "status": "resolved"}
    assert sorted(updated.rooms) == sorted([f"conversation:{first['id']}", f"thread_participant:{team.bob.id}",
                                            f"thread_participant:{team.carol.id}"])
    assert [c["id"] for c in await listed(team, team.bob)] == [second["id"]]  # open by default
    assert [c["id"] for c in await listed(team, team.bob, status="resolved")] == [first["id"]]
    assert [c["id"] for c in await listed(team, team.bob, status="all")] == [second["id"], first["id"]]  # newest first
    assert await listed(team, team.bob, status="all", organization_id=str(uuid.uuid4())) == []
    assert_problem(await api.client.get(CONVERSATIONS, headers=team.bob.headers, params={"status": "closed"}),
                   400, "invalid_argument")

    padded = await api.client.patch(url, headers=team.bob.headers, json={"summary": "  Numbers  "})
    assert "whitespace" in assert_problem(padded, 400, "invalid_argument")["detail"]  # refused, not stripped
    renamed = await api.client.patch(url, headers=team.bob.headers, json={"summary": "Numbers"})
    assert renamed.json()["summary"] == "Numbers"
    stale = await api.client.patch(url, headers={**team.bob.headers, "If-Match": resolved.json()["etag"]},
                                   json={"status": "open"})
    assert_problem(stale, 412, "failed_precondition")
    fresh = await api.client.patch(url, headers={**team.bob.headers, "If-Match": renamed.headers["ETag"]},
                                   json={"summary": None, "status": "open"})
    assert (fresh.json()["summary"], fresh.json()["status"]) == ("one", "open")
    assert len(events.take()) == 2
    unchanged = await api.client.patch(url, headers=team.bob.headers, json={"status": "open"})
    assert unchanged.status_code == 200 and events.take() == []

    for bad in ({"status": "closed"}, {"summary": "x" * 201}, {"title": "x"}):
        assert_problem(await api.client.patch(url, headers=team.bob.headers, json=bad), 400, "invalid_argument")
    assert_problem(await api.client.patch(url, headers=team.owner.headers, json={"status": "resolved"}),
                   403, "permission_denied")  # the owner reads, only participants change it
    assert_problem(await api.client.patch(url, headers=team.outsider.headers, json={"status": "resolved"}),
                   404, "not_found")


async def test_delete_archives_the_thread_and_hides_the_conversation(api: Api) -> None:
    team = await make_team(api)
    created = await open_conversation(team, team.bob, team.carol.id, message="bye")
    url = f"{CONVERSATIONS}/{created['id']}"
    assert_problem(await api.client.delete(url, headers=team.outsider.headers), 404, "not_found")
    assert (await api.client.delete(url, headers=team.carol.headers)).status_code == 204
    assert (await api.client.delete(url, headers=team.carol.headers)).status_code == 204  # idempotent
    for method, path in (("GET", url), ("PATCH", url), ("GET", f"{url}/messages"), ("POST", f"{url}/messages"),
                         ("POST", f"{url}/read")):
        body = {"body": "x"} if path.endswith("messages") and method == "POST" else {} if method == "PATCH" else None
        response = await api.client.request(method, path, headers=team.bob.headers, json=body)
        assert_problem(response, 404, "not_found")
    assert await listed(team, team.bob, status="all") == []
    thread = await api.client.get(f"/api/v1/threads/{created['id']}", headers=team.bob.headers)
    assert thread.json()["status"] == "archived"  # the messages stay
    assert len((await api.client.get(f"/api/v1/threads/{created['id']}/messages", headers=team.bob.headers))
               .json()["items"]) == 1


async def test_bad_input_creates_nothing(api: Api) -> None:
    team = await make_team(api)
    for body, status, named in [
        ({"participants": ["@ghost"], "message": "hi"}, 400, "@ghost"),
        ({"participants": [team.carol.id], "message": ""}, 400, "body"),
        ({"participants": [team.carol.id], "message": "x" * 100_001}, 413, "100000"),
        ({"participants": [team.carol.id], "message": 5}, 400, "message"),
    ]:
        response = await api.client.post(CONVERSATIONS, headers=team.bob.headers,
                                         json={"organization_id": team.org.id, **body})
        assert named in assert_problem(response, status, "invalid_argument" if status == 400 else "resource_exhausted")[
            "detail"]
    assert await listed(team, team.bob, status="all") == []
    assert (await api.client.get("/api/v1/threads", headers=team.bob.headers)).json()["items"] == []
    assert_problem(await api.client.get(CONVERSATIONS, headers=team.bob.headers, params={"page_token": "%%%"}),
                   400, "invalid_argument")


async def test_activity_status_follows_agent_participants(api: Api) -> None:
    team = await make_team(api)
    await team.org.agent(nickname="helper")
    with_agent = await open_conversation(team, team.bob, "@helper", message="do it")
    assert with_agent["activity_status"] == "finished"  # no workloads yet: none running
    assert (await open_conversation(team, team.bob, team.carol.id))["activity_status"] is None


def test_activity_contributions_follow_the_reference_table() -> None:
    assert contribution(None) == "finished"
    assert contribution(LatestWorkload("running", "processing")) == "running"
    assert contribution(LatestWorkload("running", "idle")) == "finished"
    assert contribution(LatestWorkload("starting")) == "pending"
    assert contribution(LatestWorkload("stopping")) == "pending"
    assert contribution(LatestWorkload("failed", retries_remain=True)) == "pending"
    assert contribution(LatestWorkload("failed", retries_remain=False)) == "finished"
    assert contribution(LatestWorkload("stopped")) == "finished"
    assert strongest(["finished", "running", "pending"]) == "running"
    assert strongest(["finished", "pending"]) == "pending"
    assert strongest([]) is None


@contextmanager
def counting_statements(api: Api) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = api.app.state.platform.database.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "usage_records" not in statement:  # the metering writer's batches run beside the request
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_listing_costs_a_fixed_number_of_queries(api: Api) -> None:
    team = await make_team(api)
    await team.org.agent(nickname="helper")

    async def queries_for_listing(count: int) -> int:
        existing = len(await listed(team, team.carol, page_size=100))
        for i in range(existing, count):
            created = await open_conversation(team, team.bob, team.carol.id, *(["@helper"] if i % 2 else []),
                                              message=f"hello {i}")
            await api.client.post(f"{CONVERSATIONS}/{created['id']}/messages", headers=team.carol.headers,
                                  json={"body": "reply"})
        await listed(team, team.carol)  # warm the token cache
        with counting_statements(api) as statements:
            items = await listed(team, team.carol, page_size=count)
        assert len(items) == count
        assert all(item["unread_count"] == 1 and item["last_message"]["preview"] == "reply" for item in items)
        assert {item["activity_status"] for item in items} == {None, "finished"}
        return len(statements)

    few, many = await queries_for_listing(5), await queries_for_listing(50)
    assert few == many, (few, many)
    assert many <= 8
