"""A remote runner process on this machine (`agyn runner serve`) connects out to the platform with an
organization runner's service token and runs that organization's workload; the runners API shows it
enrolled, online, then offline once it stops (its workload is then lost)."""

from __future__ import annotations

import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx

from agyn.runners.local import LocalRuntime
from agyn.runners.remote import RemoteRunners, RunnerAgent
from tests.cli.test_cli import AGYN, cli_env
from tests.orchestrator.support import Live, alive, eventually, live_platform
from tests.threads.support import make_team

LABELS = {"site": "branch-office"}


async def status(live: Live, runner_id: str, headers: dict[str, str]) -> str:
    response = await live.api.client.get(f"/api/v1/runners/{runner_id}/status", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def test_a_remote_runner_runs_its_organizations_workload(database_url: str, tmp_path: Path) -> None:
    async with live_platform(database_url, tmp_path / "data", orchestrator={
            "enabled": True, "tick_seconds": 0.2, "runner_offline_seconds": 3}) as live:
        team = await make_team(live.api)
        agent = await team.org.agent(nickname="remote-helper", runner_labels=LABELS)
        registered = await live.api.client.post("/api/v1/runners", headers=team.owner.headers, json={
            "organization_id": team.org.id, "name": "branch", "labels": LABELS})
        assert registered.status_code == 201, registered.text
        runner = registered.json()
        assert await status(live, runner["id"], team.owner.headers) == "enrolled"

        thread = await team.thread(team.bob, "@remote-helper")
        await team.sent(team.bob, thread["id"], "before the runner connects")
        [waiting] = [d for d in (await live.loop.orchestrator.reconcile_once(),) if d]
        assert waiting.decisions["wait"] == 1 and not waiting.started  # the local runner lacks the labels

        remote_dir = tmp_path / "remote"
        process = subprocess.Popen(
            [str(AGYN), "runner", "serve", "--platform-url", live.url, "--token", runner["service_token"],
             "--data-dir", str(remote_dir)], env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            await eventually(lambda: _is(status(live, runner["id"], team.owner.headers), "online"),
                             what="the runner online")
            answered = await eventually(lambda: _replies(team, thread["id"], agent["id"]), timeout=30,
                                        what="the remote workload's reply")
            assert answered == ["reply to 'before the runner connects' (run 1, volume runs [])"]
            [workload] = await live.workloads(thread_id=thread["id"])
            assert workload["runner_id"] == runner["id"] and workload["status"] == "running"
            pids = (remote_dir / "state" / agent["id"] / thread["id"] / "pids").read_text().split()
            assert len(pids) == 1 and alive(int(pids[0]))  # on the runner's side, not the platform's
            assert not (tmp_path / "data" / "workloads").exists()
        finally:
            process.send_signal(signal.SIGTERM)
            output = process.communicate(timeout=30)[0].decode()
        assert process.returncode == 0, output
        assert not alive(int(pids[0]))  # a stopped runner ends its workloads
        await eventually(lambda: _is(status(live, runner["id"], team.owner.headers), "offline"),
                         what="the runner offline")
        lost = await eventually(lambda: _failed(live, thread["id"]), what="the workload lost")
        assert lost["failure_reason"] == "runtime_lost"
        assert runner["service_token"] not in output


async def _is(found: Any, expected: str) -> bool:
    return bool(await found == expected)


async def _replies(team: Any, thread_id: str, agent_id: str) -> list[str] | None:
    found = [m["body"] for m in await team.messages(team.bob, thread_id) if m["sender_id"] == agent_id]
    return found or None


async def _failed(live: Live, thread_id: str) -> dict[str, Any] | None:
    found = [w for w in await live.workloads(thread_id=thread_id) if w["status"] == "failed"]
    return found[0] if found else None


async def test_a_volume_removal_reaches_a_remote_runner_and_is_done_once_it_confirms(
        database_url: str, tmp_path: Path) -> None:
    """The orchestrator's `remove_volume` on a remote runner's channel: a command in the runner's next answer,
    repeated until the runner confirms it in a report; the runner forgets a confirmation once answered."""
    async with live_platform(database_url, tmp_path / "data") as live:
        team = await make_team(live.api)
        registered = await live.api.client.post("/api/v1/runners", headers=team.owner.headers, json={
            "organization_id": team.org.id, "name": "branch", "labels": LABELS})
        assert registered.status_code == 201, registered.text
        runner_id = uuid.UUID(registered.json()["id"])
        local = LocalRuntime(tmp_path / "remote")
        agent = RunnerAgent(live.url, registered.json()["service_token"], local, wait=0)
        volume_id, thread_id = uuid.uuid4(), uuid.uuid4()
        data = local.volume_dir(volume_id, thread_id)
        data.mkdir(parents=True)
        (data / "notes.txt").write_text("kept until the TTL")
        channel = live.platform.get(RemoteRunners).channel(runner_id)

        assert not await channel.remove_volume(volume_id, thread_id)  # asked for, not done
        command = {"op": "remove_volume", "volume_id": str(volume_id), "thread_id": str(thread_id)}
        async with httpx.AsyncClient(base_url=live.url, headers={
                "Authorization": f"Bearer {registered.json()['service_token']}"}) as client:
            for _ in range(2):  # a lost answer: the next one carries the command again
                assert await agent._poll(client) == [command]
            await agent.execute(command)
            assert not data.exists() and not data.parent.exists()
            assert not await channel.remove_volume(volume_id, thread_id)  # not confirmed yet
            assert await agent._poll(client) == []  # the report confirms it; nothing more to do
        assert agent.removed_volumes == {}
        assert await channel.remove_volume(volume_id, thread_id)
