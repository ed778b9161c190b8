"""Two `agyn serve` on one PostgreSQL database: exactly one orchestrates (it holds the advisory lock);
killing it hands the orchestration to the other, which answers the next message."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.cli.test_cli import Serve, admin_token, cli_env
from tests.conftest import POSTGRES_URL, scratch_postgres
from tests.orchestrator.support import RUNTIME_COMMAND, alive
from tests.orchestrator.test_serve_restart import client, ok, replies, until, workload_pids, world

LEADS = "this process leads the orchestration"


def logs(server: Serve) -> str:
    return server.stdout + server.stderr


@pytest.mark.skipif(not POSTGRES_URL, reason="AGYN_TEST_POSTGRES_URL is not set")
async def test_exactly_one_orchestrates_and_a_kill_hands_over(tmp_path: Path) -> None:
    env = cli_env(AGYN_RUNNER__RUNTIME_COMMAND=RUNTIME_COMMAND, AGYN_ORCHESTRATOR__TICK_SECONDS="0.2",
                  AGYN_ORCHESTRATOR__LEASE_RETRY_SECONDS="0.5")
    async with scratch_postgres(env, tmp_path / ".agyn") as url:
        await _one_leader_then_a_handover(tmp_path, {**env, "AGYN_DATABASE_URL": url})


async def _one_leader_then_a_handover(tmp_path: Path, env: dict[str, str]) -> None:
    servers = [Serve(tmp_path / "a", cwd=tmp_path, env=env)]
    leftovers: list[int] = []
    try:
        servers[0].wait_healthy()  # the first start bootstraps the database; the second finds it done
        # the embedded authorization engine loads its tuples at start: the world exists before the second
        setup = world(servers[0].url, admin_token(servers[0]))
        servers.append(Serve(tmp_path / "b", cwd=tmp_path, env=env))
        servers[1].wait_healthy()
        until(lambda: any(LEADS in logs(s) for s in servers), what="a leader")
        time.sleep(2)  # several lease retries of the other
        leaders = [s for s in servers if LEADS in logs(s)]
        assert len(leaders) == 1, [logs(s) for s in servers]
        [leader] = leaders
        [follower] = [s for s in servers if s is not leader]
        with client(follower.url, setup["token"]) as ann:
            ok(ann.post(f"/api/v1/threads/{setup['thread']['id']}/messages", json={"body": "one"}), 201)
        until(lambda: replies(follower.url, setup), what="the first reply")
        assert workload_pids(leader.data_dir, setup) and not workload_pids(follower.data_dir, setup)
        leftovers += workload_pids(leader.data_dir, setup)

        os.kill(leader.process.pid, signal.SIGKILL)
        leader.process.wait(timeout=20)
        until(lambda: LEADS in logs(follower), what="the handover")
        with client(follower.url, setup["token"]) as ann:
            ok(ann.post(f"/api/v1/threads/{setup['thread']['id']}/messages", json={"body": "two"}), 201)
        # the dead leader's workload is lost to the new one (runtime_lost), which backs off 10 s, then
        # starts a workload of its own that answers
        answered = until(lambda: [r for r in replies(follower.url, setup) if "'two'" in r], timeout=60,
                         what="the reply after the handover")
        assert answered and workload_pids(follower.data_dir, setup)
        with client(follower.url, setup["token"]) as ann:
            workloads = ok(ann.get("/api/v1/workloads", params={"thread_id": setup["thread"]["id"]}))["items"]
        assert [(w["status"], w["failure_reason"]) for w in workloads] == [("failed", "runtime_lost"),
                                                                           ("running", None)]
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.stop()
        for pid in leftovers:  # the killed leader's workload process (no platform of its data dir restarts)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
