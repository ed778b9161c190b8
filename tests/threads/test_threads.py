"""Threads over HTTP: who may create, add, send, read and ack; at-least-once delivery; bad input
refused with nothing written; events after commit, to the recipients' rooms."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from agyn.kit.pagination import PageRequest
from agyn.kit.principal import IdentityType, Principal
from agyn.threads import repository
from agyn.threads.service import ThreadsService
from tests.conftest import Api, assert_problem, running_api
from tests.resources.test_apps import create_app, install
from tests.threads.support import ACK, THREADS, UNACKED, Events, make_team


async def test_a_message_reaches_every_other_participant_once_and_stays_unacked_until_acked(api: Api) -> None:
    team = await make_team(api)
    thread = await team.thread(team.owner, f"@{team.bob.username}", team.carol.id)
    assert thread["status"] == "active" and thread["organization_id"] == team.org.id
    assert thread["participants"] == [team.owner.id, team.bob.id, team.carol.id]

    first = await team.sent(team.owner, thread["id"], "first")
    second = await team.sent(team.bob, thread["id"], "second")
    assert set(first) == {"id", "thread_id", "sender_id", "body", "file_ids", "created_at"}
    assert (first["thread_id"], first["sender_id"], first["body"], first["file_ids"]) == \
        (thread["id"], team.owner.id, "first", [])

    assert [m["id"] for m in await team.unacked(team.carol)] == [first["id"], second["id"]]  # oldest first
    assert [m["id"] for m in await team.unacked(team.bob)] == [first["id"]]  # never your own
    assert [m["id"] for m in await team.unacked(team.owner)] == [second["id"]]
    assert await team.counts(team.carol) == {thread["id"]: 2}

    # reading never acks
    assert [m["body"] for m in await team.messages(team.carol, thread["id"])] == ["first", "second"]
    assert await team.counts(team.carol) == {thread["id"]: 2}

    assert await team.ack(team.carol, first["id"]) == 1
    assert await team.ack(team.carol, first["id"]) == 0  # idempotent
    assert [m["id"] for m in await team.unacked(team.carol)] == [second["id"]]
    assert await team.counts(team.carol) == {thread["id"]: 1}
    assert [m["id"] for m in await team.unacked(team.bob)] == [first["id"]]  # others' deliveries untouched


async def test_unacked_filters_by_thread_and_pages_oldest_first(api: Api) -> None:
    team = await make_team(api)
    one = await team.thread(team.owner, team.bob.id)
    two = await team.thread(team.owner, team.bob.id)
    sent = [await team.sent(team.owner, t["id"], f"m{i}") for i, t in enumerate([one, two, one, two, one])]
    assert [m["id"] for m in await team.unacked(team.bob, thread_id=one["id"])] == [sent[0]["id"], sent[2]["id"],
                                                                                   sent[4]["id"]]
    seen, token = [], None
    while True:
        response = await api.client.get(UNACKED, headers=team.bob.headers,
                                        params={"page_size": 2, **({"page_token": token} if token else {})})
        seen += [m["id"] for m in response.json()["items"]]
        token = response.json()["next_page_token"]
        if not token:
            break
    assert seen == [m["id"] for m in sent]
    assert await team.counts(team.bob) == {one["id"]: 3, two["id"]: 2}


async def test_acking_someone_elses_message_changes_nothing(api: Api) -> None:
    team = await make_team(api)
    thread = await team.thread(team.owner, team.bob.id, team.carol.id)
    message = await team.sent(team.owner, thread["id"], "for both")
    mine = await team.sent(team.carol, thread["id"], "from carol")
    assert await team.ack(team.outsider, message["id"]) == 0
    assert await team.ack(team.carol, mine["id"]) == 0  # her own: not a delivery to her
    assert await team.ack(team.bob, message["id"], str(uuid.uuid4())) == 1  # unknown ids are ignored
    assert [m["id"] for m in await team.unacked(team.carol)] == [message["id"]]
    assert [m["id"] for m in await team.unacked(team.owner)] == [mine["id"]]


async def test_creating_needs_membership_and_participants_of_the_organization(api: Api) -> None:
    team = await make_team(api)
    refused = await api.client.post(THREADS, headers=team.outsider.headers, json={
        "organization_id": team.org.id, "participants": [team.bob.id]})
    assert "organization_id" in assert_problem(refused, 400, "invalid_argument")["detail"]
    admin = await api.client.post(THREADS, headers=api.admin, json={"organization_id": team.org.id})
    assert_problem(admin, 403, "permission_denied")  # sees the organization, is not a member

    for participant, named in [("@nobody", "@nobody"), (team.outsider.id, team.outsider.id),
                               (str(uuid.uuid4()), None), ("not-an-id", "not-an-id")]:
        response = await api.client.post(THREADS, headers=team.bob.headers, json={
            "organization_id": team.org.id, "participants": [team.carol.id, participant]})
        body = assert_problem(response, 400, "invalid_argument")
        assert (named or participant) in body["detail"] and body["errors"][0]["field"] == "participants"
    for bad in [{"organization_id": "nope"}, {"organization_id": team.org.id, "participants": "x"},
                {"organization_id": team.org.id, "participants": [""]}, {"organization_id": team.org.id, "x": 1}]:
        assert_problem(await api.client.post(THREADS, headers=team.bob.headers, json=bad), 400, "invalid_argument")
    # nothing half-written: no thread, no tuple
    listed = await api.client.get(THREADS, headers=team.bob.headers)
    assert listed.json()["items"] == []
    assert not [t for t in api.app.state.platform.authz._store if t.object.startswith("thread:")]


async def test_agents_join_by_can_initiate(api: Api) -> None:
    team = await make_team(api)
    internal = await team.org.agent(nickname="helper")
    private = await team.org.agent(nickname="secret", availability="private")
    other = await (await make_team(api)).org.agent(nickname="elsewhere")

    thread = await team.thread(team.bob, "@helper")
    assert internal["id"] in thread["participants"]
    refused = await api.client.post(THREADS, headers=team.bob.headers, json={
        "organization_id": team.org.id, "participants": ["@secret"]})
    assert "@secret" in assert_problem(refused, 403, "permission_denied")["detail"]
    owned = await team.thread(team.owner, "@secret")  # the owner created it: its owner role
    assert private["id"] in owned["participants"]
    foreign = await api.client.post(THREADS, headers=team.bob.headers, json={
        "organization_id": team.org.id, "participants": [other["id"]]})
    assert other["id"] in assert_problem(foreign, 400, "invalid_argument")["detail"]

    added = await api.client.post(f"{THREADS}/{thread['id']}/participants", headers=team.bob.headers,
                                  json={"participant": "@secret"})
    assert_problem(added, 403, "permission_denied")

    # the agent's unacked messages make a (thread, agent) pair for the orchestrator
    message = await team.sent(team.bob, thread["id"], "help me")
    platform = api.app.state.platform
    async with platform.database.transaction() as session:
        pairs = await repository.pairs_with_unacked(session)
        assert repository.Pair(uuid.UUID(thread["id"]), uuid.UUID(internal["id"])) in pairs
        agent = Principal(uuid.UUID(internal["id"]), IdentityType.agent)
        assert await platform.get(ThreadsService).ack(session, agent, [uuid.UUID(message["id"])]) == 1
    async with platform.database.transaction() as session:
        assert all(p.thread_id != uuid.UUID(thread["id"]) for p in await repository.pairs_with_unacked(session))


async def test_degraded_and_archived_threads_leave_the_orchestrators_pairs(api: Api) -> None:
    team = await make_team(api)
    agent = await team.org.agent(nickname="helper")
    degraded, archived = await team.thread(team.bob, "@helper"), await team.thread(team.bob, "@helper")
    for thread in (degraded, archived):
        await team.sent(team.bob, thread["id"], "hi")
    platform = api.app.state.platform
    async with platform.database.transaction() as session:
        await platform.get(ThreadsService).degrade(session, uuid.UUID(degraded["id"]), "agent_start_failures_exhausted")
    assert (await api.client.post(f"{THREADS}/{archived['id']}/archive", headers=team.bob.headers)).status_code == 200
    async with platform.database.transaction() as session:
        assert [p for p in await repository.pairs_with_unacked(session) if p.agent_id == uuid.UUID(agent["id"])] == []
    got = await api.client.get(f"{THREADS}/{degraded['id']}", headers=team.bob.headers)
    assert (got.json()["status"], got.json()["degraded_reason"]) == ("degraded", "agent_start_failures_exhausted")
    refused = await team.send(team.bob, degraded["id"], "again")
    assert "degraded" in assert_problem(refused, 409, "failed_precondition")["detail"]


async def test_who_may_see_send_add_and_archive(api: Api) -> None:
    team = await make_team(api)
    thread = await team.thread(team.bob, team.carol.id)
    url = f"{THREADS}/{thread['id']}"
    member = await team.org.member(f"dave-{uuid.uuid4().hex[:6]}")

    for stranger in (team.outsider, member):  # not even its existence
        assert_problem(await api.client.get(url, headers=stranger.headers), 404, "not_found")
        assert_problem(await team.send(stranger, thread["id"], "hi"), 404, "not_found")
        assert_problem(await api.client.get(f"{url}/messages", headers=stranger.headers), 404, "not_found")
        assert_problem(await api.client.post(f"{url}/archive", headers=stranger.headers), 404, "not_found")
    # the organization's owner reads every thread, but sends only where they take part
    assert (await api.client.get(url, headers=team.owner.headers)).status_code == 200
    assert_problem(await team.send(team.owner, thread["id"], "hi"), 403, "permission_denied")
    assert_problem(await api.client.post(f"{url}/participants", headers=team.owner.headers,
                                         json={"participant": member.id}), 403, "permission_denied")

    added = await api.client.post(f"{url}/participants", headers=team.carol.headers,
                                  json={"participant": f"@{member.username}"})
    assert added.status_code == 200 and added.json()["participants"][-1] == member.id
    again = await api.client.post(f"{url}/participants", headers=team.carol.headers, json={"participant": member.id})
    assert again.json()["participants"] == added.json()["participants"]
    unknown = await api.client.post(f"{url}/participants", headers=team.carol.headers, json={"participant": "@ghost"})
    assert "@ghost" in assert_problem(unknown, 400, "invalid_argument")["detail"]
    message = await team.sent(member, thread["id"], "joined")
    assert [m["id"] for m in await team.unacked(team.bob)] == [message["id"]]

    listed = await api.client.get(THREADS, headers=member.headers)
    assert [t["id"] for t in listed.json()["items"]] == [thread["id"]]

    archived = await api.client.post(f"{url}/archive", headers=team.owner.headers)  # owners may archive
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert (await api.client.post(f"{url}/archive", headers=team.bob.headers)).json()["status"] == "archived"
    refused = await team.send(team.bob, thread["id"], "too late")
    assert "archived" in assert_problem(refused, 409, "failed_precondition")["detail"]
    assert_problem(await api.client.post(f"{url}/participants", headers=team.bob.headers,
                                         json={"participant": team.owner.id}), 409, "failed_precondition")
    assert [m["body"] for m in await team.messages(team.bob, thread["id"])] == ["joined"]


async def test_an_app_with_thread_write_sends_without_taking_part(api: Api) -> None:
    team = await make_team(api)
    writer = await create_app(api, team.owner, {"id": team.org.id}, slug="reminders", permissions=["thread:write"])
    reader = await create_app(api, team.owner, {"id": team.org.id}, slug="plain")
    for app in (writer, reader):
        await install(api, team.owner, app, {"id": team.org.id})
    thread = await team.thread(team.bob, team.carol.id)
    sent = await team.sent(writer["service_token"], thread["id"], "reminder: standup")
    assert sent["sender_id"] == writer["id"]
    assert [m["id"] for m in await team.unacked(team.bob)] == [sent["id"]]
    assert [m["id"] for m in await team.unacked(team.carol)] == [sent["id"]]
    assert_problem(await team.send(reader["service_token"], thread["id"], "hi"), 404, "not_found")
    # an installed app is a participant like any other, by id or by its @slug
    with_app = await team.thread(team.bob, "@plain")
    assert reader["id"] in with_app["participants"]


async def test_bad_bodies_and_tokens_are_refused_and_nothing_is_written(database_url: str, tmp_path: Path) -> None:
    async with running_api(database_url, tmp_path / "data", threads={"max_body_chars": 20}) as api:
        team = await make_team(api)
        thread = await team.thread(team.bob, team.carol.id)
        for body in ("", "   \n\t"):
            assert "body" in assert_problem(await team.send(team.bob, thread["id"], body), 400, "invalid_argument")["detail"]
        too_long = await team.send(team.bob, thread["id"], "x" * 21)
        assert "20" in assert_problem(too_long, 413, "resource_exhausted")["detail"]
        assert (await team.send(team.bob, thread["id"], "é" * 20)).status_code == 201  # characters, not bytes
        for bad in ({"body": "a\x00b"}, {"body": 3}, {}, {"body": "hi", "file_ids": ["nope"]},
                    {"body": "hi", "sender_id": team.bob.id}):
            response = await api.client.post(f"{THREADS}/{thread['id']}/messages", headers=team.bob.headers, json=bad)
            assert_problem(response, 400, "invalid_argument")
        assert_problem(await team.send(team.bob, str(uuid.uuid4()), "hi"), 404, "not_found")
        assert_problem(await api.client.get(f"{THREADS}/not-a-uuid", headers=team.bob.headers), 400, "invalid_argument")
        assert [m["body"] for m in await team.messages(team.carol, thread["id"])] == ["é" * 20]
        assert await team.counts(team.carol) == {thread["id"]: 1}

        for path in (f"{THREADS}/{thread['id']}/messages", THREADS, UNACKED):
            for token in ("garbage!", "eyJ2IjoxfQ", "eyJ2IjoxLCJhZnRlciI6Im5vIn0"):
                response = await api.client.get(path, headers=team.bob.headers, params={"page_token": token})
                assert assert_problem(response, 400, "invalid_argument")["errors"][0]["field"] == "page_token"
        for bad_ack in ({"message_ids": []}, {"message_ids": ["x"]}, {}, {"message_ids": [str(uuid.uuid4())] * 1001}):
            assert_problem(await api.client.post(ACK, headers=team.bob.headers, json=bad_ack), 400, "invalid_argument")


async def test_idempotency_key_sends_once(api: Api) -> None:
    team = await make_team(api)
    thread = await team.thread(team.bob, team.carol.id)
    url, headers = f"{THREADS}/{thread['id']}/messages", {**team.bob.headers, "Idempotency-Key": "send-1"}
    first = await api.client.post(url, headers=headers, json={"body": "once"})
    again = await api.client.post(url, headers=headers, json={"body": "once"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert_problem(await api.client.post(url, headers=headers, json={"body": "other"}), 422, "invalid_argument")
    assert len(await team.unacked(team.carol)) == 1


async def test_idempotency_key_sends_once_per_sender_whichever_token_and_body(api: Api) -> None:
    """A workload replacing a crashed one posts its reply again with another token (and maybe another text):
    the first message stands, delivered once."""
    team = await make_team(api)
    thread = await team.thread(team.bob, team.carol.id)
    minted = await api.client.post(f"/api/v1/users/{team.bob.id}/api-tokens", headers=api.admin,
                                   json={"name": "second"})
    assert minted.status_code == 201, minted.text
    url, key = f"{THREADS}/{thread['id']}/messages", {"Idempotency-Key": "reply-to-m1"}
    first = await api.client.post(url, headers={**team.bob.headers, **key}, json={"body": "first answer"})
    again = await api.client.post(url, headers={**api.auth(minted.json()["token"]), **key},
                                  json={"body": "second answer"})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    # the key is the sender's own: another sender's message with it is sent
    carols = await api.client.post(url, headers={**team.carol.headers, **key}, json={"body": "carol's"})
    assert carols.status_code == 201 and carols.json()["id"] != first.json()["id"]
    assert [m["body"] for m in await team.unacked(team.carol)] == ["first answer"]
    assert [m["body"] for m in await team.messages(team.bob, thread["id"])] == ["first answer", "carol's"]

    # sent at once with two tokens and the same key: one message, both answered with it
    tokens = [team.bob.token, minted.json()["token"]]
    racing = await asyncio.gather(*(api.client.post(url, headers={**api.auth(token), "Idempotency-Key": "race"},
                                                    json={"body": f"racer {i}"}) for i, token in enumerate(tokens)))
    assert [r.status_code for r in racing] == [201, 201], [r.text for r in racing]
    assert racing[0].json()["id"] == racing[1].json()["id"]
    assert len(await team.unacked(team.carol)) == 2


async def test_a_reply_acknowledges_what_it_answers_in_its_own_transaction(api: Api) -> None:
    team = await make_team(api)
    thread = await team.thread(team.owner, team.bob.id, team.carol.id)
    other = await team.thread(team.owner, team.bob.id)
    question, elsewhere = await team.sent(team.owner, thread["id"], "q"), await team.sent(team.owner, other["id"], "q2")
    carols = await team.sent(team.carol, thread["id"], "c")
    mine = await team.sent(team.bob, thread["id"], "mine")
    # the reply acks bob's deliveries in its thread: not another thread's, nor a message bob sent himself
    answered = [question["id"], elsewhere["id"], carols["id"], mine["id"]]
    reply = await team.send(team.bob, thread["id"], "a", acknowledges=answered)
    assert reply.status_code == 201, reply.text
    assert [m["id"] for m in await team.unacked(team.bob)] == [elsewhere["id"]]
    assert [m["id"] for m in await team.unacked(team.carol)] == [question["id"], mine["id"], reply.json()["id"]]

    # refused with nothing written: neither the reply nor the acknowledgement
    for bad in (["not-a-uuid"], [str(uuid.uuid4())] * 1001):
        refused = await team.send(team.bob, other["id"], "b", acknowledges=bad)
        assert_problem(refused, 400, "invalid_argument")
    archived = await api.client.post(f"{THREADS}/{other['id']}/archive", headers=team.owner.headers)
    assert archived.status_code == 200, archived.text
    assert (await team.send(team.bob, other["id"], "b", acknowledges=[elsewhere["id"]])).status_code == 409
    assert [m["id"] for m in await team.unacked(team.bob)] == [elsewhere["id"]]
    assert [m["body"] for m in await team.messages(team.bob, other["id"])] == ["q2"]


async def test_concurrent_sends_are_each_delivered_once_and_concurrent_acks_count_once(api: Api) -> None:
    team = await make_team(api)
    thread = await team.thread(team.bob, team.carol.id)
    responses = await asyncio.gather(*(team.send(sender, thread["id"], f"at once {i}")
                                       for i, sender in enumerate([team.bob, team.carol, team.bob, team.carol])))
    assert [r.status_code for r in responses] == [201] * 4
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == 4
    carol_ids = [m["id"] for m in await team.unacked(team.carol)]
    assert sorted(carol_ids) == sorted([ids[0], ids[2]]) and carol_ids == sorted(carol_ids)
    assert len(await team.messages(team.bob, thread["id"])) == 4

    acks = await asyncio.gather(*(team.ack(team.carol, *carol_ids) for _ in range(3)))
    assert sum(acks) == 2
    assert await team.unacked(team.carol) == []


async def test_message_created_goes_to_each_recipients_room_after_commit(api: Api) -> None:
    team = await make_team(api)
    events = Events(api, "message.created")
    thread = await team.thread(team.bob, team.carol.id, team.owner.id)
    platform = api.app.state.platform
    seen_committed: list[bool] = []

    async def committed(event: object) -> None:  # the message is readable by the time the event is out
        async with platform.database.transaction() as session:
            found = await repository.unacked_for(session, uuid.UUID(team.carol.id), None,
                                                 PageRequest(size=10, after=None))
            seen_committed.append(bool(found[0]))

    platform.events.subscribe("message.created", committed)
    message = await team.sent(team.bob, thread["id"], "hello")
    [event] = events.take()
    assert event.source == "threads"
    assert sorted(event.rooms) == sorted([f"thread_participant:{team.carol.id}", f"thread_participant:{team.owner.id}"])
    assert event.payload == {"thread_id": thread["id"], "message_id": message["id"], "sender_id": team.bob.id}
    assert seen_committed == [True]

    await team.send(team.bob, thread["id"], "")  # refused: no event
    await team.send(team.outsider, thread["id"], "hi")
    assert events.take() == []
