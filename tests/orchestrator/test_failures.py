"""A runtime that fails: the workload is failed with a reason, retries follow the backoff (10 s, 30 s,
1 min, 5 min, 15 min) measured on the platform's clock, a fixed agent is retried at once, and ten
failures in a row degrade the thread with a notice to its participants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agyn.orchestrator.reconciler import BACKOFF
from agyn.orchestrator.service import PLATFORM_IDENTITY
from tests.orchestrator.support import Live, eventually, live_platform
from tests.support.clock import FakeClock
from tests.threads.support import Events, Team, make_team


async def failing_agent(team: Team) -> tuple[dict[str, Any], str]:
    agent = await team.org.agent(nickname="broken")
    env = await team.api.client.post("/api/v1/envs", headers=team.owner.headers, json={
        "agent_id": agent["id"], "name": "SCRIPTED_EXIT", "value": "3"})
    assert env.status_code == 201, env.text
    return agent, env.json()["id"]


async def failed_count(live: Live, thread_id: str, count: int) -> list[dict[str, Any]] | None:
    found = await live.workloads(thread_id=thread_id)
    failed = [w for w in found if w["status"] == "failed"]
    return found if len(failed) == count and len(found) == count else None


async def settle(live: Live) -> None:
    """Let the orchestrator run a few passes on the current (fake) time."""
    for _ in range(3):
        await live.loop.orchestrator.reconcile_once()


async def test_failures_back_off_and_degrade_the_thread_after_ten(database_url: str, tmp_path: Path) -> None:
    clock = FakeClock()
    async with live_platform(database_url, tmp_path / "data", clock=clock) as live:
        team = await make_team(live.api)
        agent, _ = await failing_agent(team)
        events = Events(live.api, "conversation.updated")
        conversation = await live.api.client.post("/api/v1/conversations", headers=team.bob.headers, json={
            "organization_id": team.org.id, "participants": ["@broken"], "message": "hello"})
        thread_id = conversation.json()["id"]

        [first] = await eventually(lambda: failed_count(live, thread_id, 1), what="the first failure")
        assert first["failure_reason"] == "start_failed"
        assert "exited with code 3" in first["failure_message"]
        assert [c["exit_code"] for c in first["containers"] if c["role"] == "main"] == [3]
        listed = await live.api.client.get("/api/v1/conversations", headers=team.bob.headers)
        assert listed.json()["items"][0]["activity_status"] == "pending"  # it will be retried

        for failures in range(1, 10):
            delay = BACKOFF[min(failures, len(BACKOFF)) - 1].total_seconds()
            clock.advance(delay - 1)
            await settle(live)
            assert await failed_count(live, thread_id, failures), f"retried before {delay}s after failure {failures}"
            clock.advance(1)
            await eventually(lambda n=failures + 1: failed_count(live, thread_id, n),  # type: ignore[misc]
                             what=f"the retry after {delay}s (failure {failures + 1})")

        thread = await eventually(lambda: _degraded(live, team, thread_id), what="the degraded thread")
        assert "10 times in a row" in thread["degraded_reason"]
        notices = [m for m in await team.messages(team.bob, thread_id) if m["sender_id"] == str(PLATFORM_IDENTITY)]
        assert len(notices) == 1 and agent["id"] in notices[0]["body"]
        assert any(e.payload == {"conversation_id": thread_id, "status": "degraded"} for e in events.take())
        clock.advance(3600)
        await settle(live)
        assert len(await live.workloads(thread_id=thread_id)) == 10  # a degraded thread is left alone
        listed = await live.api.client.get("/api/v1/conversations", headers=team.bob.headers,
                                           params={"status": "all"})
        assert [c["activity_status"] for c in listed.json()["items"] if c["id"] == thread_id] == [None]


async def test_a_fixed_agent_is_retried_at_once(database_url: str, tmp_path: Path) -> None:
    clock = FakeClock()
    async with live_platform(database_url, tmp_path / "data", clock=clock) as live:
        team = await make_team(live.api)
        agent, env_id = await failing_agent(team)
        thread = await team.thread(team.bob, "@broken")
        await team.sent(team.bob, thread["id"], "hello")
        await eventually(lambda: failed_count(live, thread["id"], 1), what="the first failure")
        await settle(live)
        assert await failed_count(live, thread["id"], 1)  # backing off: no new start on the same clock

        removed = await live.api.client.delete(f"/api/v1/envs/{env_id}", headers=team.owner.headers)
        assert removed.status_code == 204, removed.text  # the agent changed: no need to wait out the backoff
        running = await eventually(lambda: _running(live, thread["id"]), what="the retry of the fixed agent")
        assert running["agent_id"] == agent["id"]


async def _degraded(live: Live, team: Team, thread_id: str) -> dict[str, Any] | None:
    response = await live.api.client.get(f"/api/v1/threads/{thread_id}", headers=team.bob.headers)
    body: dict[str, Any] = response.json()
    return body if body["status"] == "degraded" else None


async def _running(live: Live, thread_id: str) -> dict[str, Any] | None:
    found = [w for w in await live.workloads(thread_id=thread_id) if w["status"] == "running"]
    return found[0] if found else None
