"""A message starts a workload that answers it; an idle workload stops after its agent's idle_timeout;
a new message restarts it with the same volume and state directories. Time is a fake clock the tests
move; processes are real (the scripted runtime, an MCP server)."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from agyn.kit.db import discard_after_commit
from agyn.kit.principal import IdentityType, Principal
from agyn.runners.models import VolumeInstance
from agyn.threads.models import Thread
from agyn.threads.schemas import MessageCreate
from agyn.threads.service import ThreadsService
from agyn.users.models import WorkloadToken
from tests.orchestrator.support import Live, alive, eventually, live_platform
from tests.support.clock import FakeClock
from tests.threads.support import Events, Team, make_team

CONVERSATIONS = "/api/v1/conversations"


async def helper_agent(team: Team, volume_ttl: str | None = None, **fields: Any) -> dict[str, Any]:
    """An agent with a volume, an ENV, an init script and an MCP server (a plain HTTP server on MCP_PORT)."""
    api, owner = team.api, team.owner
    agent = await team.org.agent(nickname="helper", **{"idle_timeout": "1m", **fields})
    volume = await api.client.post("/api/v1/volumes", headers=owner.headers, json={
        "organization_id": team.org.id, "name": f"work-{uuid.uuid4().hex[:6]}", "mount_path": "/workspace",
        **({"ttl": volume_ttl} if volume_ttl else {})})
    assert volume.status_code == 201, volume.text
    for path, body in (("/api/v1/volume-attachments", {"volume_id": volume.json()["id"], "agent_id": agent["id"]}),
                       ("/api/v1/envs", {"agent_id": agent["id"], "name": "GREETING", "value": "hi"}),
                       ("/api/v1/init-scripts", {"agent_id": agent["id"], "script": "echo prepared > prepared.txt"}),
                       ("/api/v1/mcps", {"agent_id": agent["id"], "name": "files",
                                         "command": f"exec {sys.executable} -m http.server $MCP_PORT "
                                                    "--bind 127.0.0.1"})):
        created = await api.client.post(path, headers=owner.headers, json=body)
        assert created.status_code == 201, created.text
    return agent


async def replies(team: Team, thread_id: str, agent_id: str) -> list[str]:
    return [m["body"] for m in await team.messages(team.bob, thread_id) if m["sender_id"] == agent_id]


async def only_workload(live: Live, **params: Any) -> dict[str, Any]:
    [workload] = await live.workloads(**params)
    return workload


CONTRACT = {"AGYN_PLATFORM_URL", "AGYN_WORKLOAD_TOKEN", "AGYN_WORKLOAD_ID", "AGYN_THREAD_ID", "AGYN_AGENT_ID",
            "AGYN_ORGANIZATION_ID", "AGYN_LLM_BASE_URL", "AGYN_STATE_DIR", "AGYN_MCP_SERVERS", "AGYN_VOLUMES",
            "AGYN_HOOKS", "AGYN_INIT_SCRIPTS_DONE"}


def environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def pids(data_dir: Path, agent_id: str, thread_id: str) -> list[int]:
    path = data_dir / "state" / agent_id / thread_id / "pids"
    return [int(line) for line in path.read_text().split()] if path.exists() else []


async def test_a_message_starts_a_workload_that_idles_out_and_restarts_with_its_volume(
        database_url: str, tmp_path: Path) -> None:
    clock = FakeClock()
    async with live_platform(database_url, tmp_path / "data", clock=clock) as live:
        team = await make_team(live.api)
        agent = await helper_agent(team)
        events = Events(live.api, "workload.updated")
        conversation = await live.api.client.post(CONVERSATIONS, headers=team.bob.headers, json={
            "organization_id": team.org.id, "participants": ["@helper"], "message": "hello"})
        assert conversation.status_code == 201, conversation.text
        thread_id = conversation.json()["id"]

        [reply] = await eventually(lambda: replies(team, thread_id, agent["id"]), what="the agent's reply")
        assert reply == "reply to 'hello' (run 1, volume runs [1])"
        workload = await eventually(lambda: _running_idle(live, thread_id), what="a running, idle workload")
        assert workload["agent_id"] == agent["id"] and workload["runner_id"]
        expected = {"init-0": ("init", "exited"), "mcp-files": ("sidecar", "running"), "runtime": ("main", "running")}
        # the runtime may answer before a pass records what the runner reports of the containers
        assert await eventually(lambda: _roles(live, thread_id, expected), what="the containers") == expected
        directory = tmp_path / "data" / "workloads" / workload["id"]
        assert (directory / "prepared.txt").read_text() == "prepared\n"  # the init script ran first, in its cwd
        log = (await live.api.client.get(f"/api/v1/workloads/{workload['id']}/logs", headers=team.bob.headers)).text
        assert "started: run 1" in log and "streamable_http" in log
        mcp_url = log.split('"url": "')[1].split('"')[0]
        async with httpx.AsyncClient() as client:  # the MCP server listens on its MCP_PORT, on localhost
            assert (await client.get(mcp_url)).status_code == 404
        assert "GREETING" not in log and "hi" not in (directory / "workload.json").read_text()
        marker = json.loads((directory / "workload.json").read_text())
        environ = {p["name"]: environment(p["pid"]) for p in marker["processes"]}
        runtime, mcp = environ["runtime"], environ["mcp-files"]
        assert runtime["GREETING"] == "hi" and runtime["AGYN_WORKLOAD_TOKEN"].startswith("agyn_wl_")
        assert runtime["AGYN_INIT_SCRIPTS_DONE"] == "1"  # the runner ran them: the runtime must not again
        assert runtime["AGYN_LLM_BASE_URL"] == live.url + "/v1" and runtime["AGYN_THREAD_ID"] == thread_id
        assert json.loads(runtime["AGYN_VOLUMES"]) == {"/workspace": str(next(
            (tmp_path / "data" / "volumes").glob(f"*/{thread_id}")))}
        assert "MCP_PORT" in mcp and "AGYN_WORKLOAD_TOKEN" not in mcp and "GREETING" not in mcp
        assert not {k for k in runtime if k.startswith("AGYN_")} - CONTRACT  # nothing of the platform's own
        assert {e.payload["workload_id"] for e in events.take()} == {workload["id"]}
        first_pids = pids(tmp_path / "data", agent["id"], thread_id)
        assert first_pids and all(alive(pid) for pid in first_pids)
        listed = await live.api.client.get(CONVERSATIONS, headers=team.bob.headers)
        assert listed.json()["items"][0]["activity_status"] == "finished"  # running but idle

        clock.advance(59)  # not yet idle for a minute
        await live.loop.orchestrator.reconcile_once()
        assert (await only_workload(live, thread_id=thread_id))["status"] == "running"
        clock.advance(2)
        stopped = await eventually(lambda: _status(live, thread_id, "stopped"), what="the idle stop")
        assert stopped["removed_at"] is not None
        assert not any(alive(pid) for pid in first_pids)  # its processes are gone
        async with live.platform.database.transaction() as session:
            left = (await session.scalars(select(WorkloadToken).where(
                WorkloadToken.workload_id == uuid.UUID(workload["id"])))).all()
            assert left == []  # its token was revoked

        again = await team.send(team.bob, thread_id, "again")
        assert again.status_code == 201, again.text
        answers = await eventually(lambda: _at_least(replies(team, thread_id, agent["id"]), 2), what="a second reply")
        assert answers[1] == "reply to 'again' (run 2, volume runs [2])"  # the same volume and state dirs
        workloads = await live.workloads(thread_id=thread_id)
        assert [w["status"] for w in workloads][0] == "stopped" and len(workloads) == 2


async def test_a_volume_outliving_its_ttl_is_removed_and_the_next_workload_starts_afresh(
        database_url: str, tmp_path: Path) -> None:
    clock = FakeClock()
    async with live_platform(database_url, tmp_path / "data", clock=clock) as live:
        team = await make_team(live.api)
        agent = await helper_agent(team, volume_ttl="1h")
        thread = await team.thread(team.bob, "@helper")
        assert (await team.send(team.bob, thread["id"], "hello")).status_code == 201
        await eventually(lambda: replies(team, thread["id"], agent["id"]), what="the agent's reply")
        await eventually(lambda: _running_idle(live, thread["id"]), what="a running, idle workload")
        [data] = (tmp_path / "data" / "volumes").glob(f"*/{thread['id']}")
        assert (data / "runs").exists()  # the scripted runtime counts its runs in the volume

        clock.advance(61)
        await eventually(lambda: _status(live, thread["id"], "stopped"), what="the idle stop")
        clock.advance(59 * 60)  # unused for less than the volume's hour
        await live.loop.orchestrator.reconcile_once()
        assert data.exists() and await volume_instances(live) == 1
        clock.advance(2 * 60)
        await live.loop.orchestrator.reconcile_once()
        assert not data.exists() and not data.parent.exists()  # its only thread's data: the volume's directory too
        assert await volume_instances(live) == 0

        assert (await team.send(team.bob, thread["id"], "again")).status_code == 201
        answers = await eventually(lambda: _at_least(replies(team, thread["id"], agent["id"]), 2), what="a reply")
        assert answers[1] == "reply to 'again' (run 2, volume runs [1])"  # a new volume; the state dir stayed
        assert await volume_instances(live) == 1


async def volume_instances(live: Live) -> int:
    async with live.platform.database.transaction() as session:
        return len((await session.scalars(select(VolumeInstance))).all())


async def _roles(live: Live, thread_id: str, expected: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]] | None:
    [workload] = await live.workloads(thread_id=thread_id)
    roles = {c["name"]: (c["role"], c["status"]) for c in workload["containers"]}
    return roles if roles == expected else None


async def _running_idle(live: Live, thread_id: str) -> dict[str, Any] | None:
    found = await live.workloads(thread_id=thread_id)
    return found[0] if found and found[0]["status"] == "running" and found[0]["agent_state"] == "idle" else None


async def _status(live: Live, thread_id: str, status: str) -> dict[str, Any] | None:
    found = await live.workloads(thread_id=thread_id)
    return found[-1] if found and found[-1]["status"] == status else None


async def _at_least(found: Any, count: int) -> list[str] | None:
    items: list[str] = await found
    return items if len(items) >= count else None


async def test_the_tick_alone_converges(database_url: str, tmp_path: Path) -> None:
    """A message whose `message.created` never went out (events are hints) is still answered."""
    async with live_platform(database_url, tmp_path / "data") as live:
        team = await make_team(live.api)
        agent = await team.org.agent(nickname="helper")
        thread = await team.thread(team.bob, "@helper")
        threads = live.platform.get(ThreadsService)
        async with live.platform.database.transaction() as session:
            found = await session.get(Thread, uuid.UUID(thread["id"]))
            assert found is not None
            await threads.send(session, Principal(uuid.UUID(team.bob.id), IdentityType.user), found,
                               MessageCreate(body="silent"))
            discard_after_commit(session)  # no event: only the periodic pass can find it
        [reply] = await eventually(lambda: replies(team, thread["id"], agent["id"]), what="the reply")
        assert "silent" in reply
