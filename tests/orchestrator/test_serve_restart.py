"""`agyn serve` killed with SIGKILL while a workload works on a message: after the restart no process of
the earlier life is left, and the unacked message is still answered (by a new workload)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.test_cli import AGYN, Serve, admin_token, cli_env
from tests.conftest import POSTGRES_URL, database_env
from tests.orchestrator.support import RUNTIME_COMMAND, alive


def client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def until(check: Any, timeout: float = 30.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def world(url: str, admin_token_value: str, *, runner_labels: dict[str, str] | None = None,
          organization_runner: bool = False) -> dict[str, Any]:
    """A user, an organization with a model and an agent, and a thread between them."""
    with client(url, admin_token_value) as admin:
        user = ok(admin.post("/api/v1/users", json={"oidc_subject": "t|ann", "username": "ann"}), 201)
        token = ok(admin.post(f"/api/v1/users/{user['id']}/api-tokens", json={"name": "t"}), 201)["token"]
    with client(url, token) as ann:
        org = ok(ann.post("/api/v1/organizations", json={"name": "acme"}), 201)
        provider = ok(ann.post("/api/v1/llm-providers", json={
            "organization_id": org["id"], "endpoint": "https://llm.example", "auth_method": "bearer",
            "token": "sk-test"}), 201)
        model = ok(ann.post("/api/v1/models", json={"organization_id": org["id"], "name": "gpt",
                                                    "llm_provider_id": provider["id"], "remote_name": "gpt-4o"}), 201)
        agent = ok(ann.post("/api/v1/agents", json={
            "organization_id": org["id"], "name": "helper", "nickname": "helper", "role": "assistant",
            "model": model["id"], "availability": "internal", "idle_timeout": "1h",
            "runner_labels": runner_labels or {}}), 201)
        runner = ok(ann.post("/api/v1/runners", json={"organization_id": org["id"], "name": "remote",
                                                      "labels": runner_labels or {}}), 201) \
            if organization_runner else None
        thread = ok(ann.post("/api/v1/threads", json={"organization_id": org["id"], "participants": ["@helper"]}),
                    201)
    return {"token": token, "org": org, "agent": agent, "thread": thread, "runner": runner}


def replies(url: str, setup: dict[str, Any]) -> list[str]:
    with client(url, setup["token"]) as ann:
        items = ok(ann.get(f"/api/v1/threads/{setup['thread']['id']}/messages", params={"page_size": 100}))["items"]
    return [m["body"] for m in items if m["sender_id"] == setup["agent"]["id"]]


def workload_pids(data: Path, setup: dict[str, Any]) -> list[int]:
    path = data / "state" / setup["agent"]["id"] / setup["thread"]["id"] / "pids"
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def marked_pids(data: Path) -> list[int]:
    """The processes the local runner's markers name (what it believes it runs)."""
    return [p["pid"] for marker in (data / "workloads").glob("*/workload.json")
            for p in json.loads(marker.read_text())["processes"]]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_kill_9_leaves_no_orphan_and_the_message_is_still_answered(backend: str, tmp_path: Path) -> None:
    env = cli_env(AGYN_RUNNER__RUNTIME_COMMAND=RUNTIME_COMMAND, AGYN_ORCHESTRATOR__TICK_SECONDS="0.2")
    if backend == "postgresql" and not POSTGRES_URL:
        pytest.skip("AGYN_TEST_POSTGRES_URL is not set")
    async with database_env(backend, env, tmp_path / ".agyn") as env:
        _kill_and_restart(tmp_path, env)


def _kill_and_restart(tmp_path: Path, env: dict[str, str]) -> None:
    data = tmp_path / "data"
    first = Serve(data, cwd=tmp_path, env=env)
    try:
        first.wait_healthy()
        setup = world(first.url, admin_token(first))
        with client(first.url, setup["token"]) as ann:
            ok(ann.post(f"/api/v1/threads/{setup['thread']['id']}/messages", json={"body": "first"}), 201)
            until(lambda: replies(first.url, setup), what="the first reply")
            ok(ann.post(f"/api/v1/threads/{setup['thread']['id']}/messages", json={"body": "slow second"}), 201)
        time.sleep(1)  # the runtime is in the middle of its turn
        [old] = workload_pids(data, setup)
        assert alive(old)
    finally:
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=20)
    assert alive(old)  # the platform died; its workload's process did not

    second = Serve(data, cwd=tmp_path, env=env)
    try:
        second.wait_healthy()
        assert not alive(old)  # ended before the restarted platform served anything
        answered = until(lambda: [r for r in replies(second.url, setup) if "slow second" in r],
                         what="the unacked message's reply after the restart")
        assert "run 2" in answered[0]
        pids = workload_pids(data, setup)
        assert [alive(pid) for pid in pids] == [False, True]
        assert set(marked_pids(data)) == {pids[1]}
        with client(second.url, setup["token"]) as ann:
            workloads = ok(ann.get("/api/v1/workloads", params={"thread_id": setup["thread"]["id"]}))["items"]
        assert [w["status"] for w in workloads] == ["stopped", "running"]
        assert workloads[0]["failure_reason"] is None
    finally:
        assert second.stop() == 0
    assert not any(alive(pid) for pid in workload_pids(data, setup))  # a clean stop ends its workloads too
    assert marked_pids(data) == []


def test_agyn_orchestrator_runs_the_control_loop_apart_from_the_api(tmp_path: Path) -> None:
    """`agyn serve` with its orchestrator off answers the API; `agyn orchestrator`, another process on
    the same database, starts the workload (its local runner calls the API's URL)."""
    data = tmp_path / "data"
    api = Serve(data, cwd=tmp_path, env=cli_env(AGYN_ORCHESTRATOR__ENABLED="false"))
    orchestrator = None
    try:
        api.wait_healthy()
        setup = world(api.url, admin_token(api))
        with client(api.url, setup["token"]) as ann:
            ok(ann.post(f"/api/v1/threads/{setup['thread']['id']}/messages", json={"body": "apart"}), 201)
        time.sleep(1)
        assert replies(api.url, setup) == []  # nobody orchestrates yet
        orchestrator = subprocess.Popen(
            [str(AGYN), "orchestrator", "--data-dir", str(data)], cwd=tmp_path, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=cli_env(AGYN_RUNNER__RUNTIME_COMMAND=RUNTIME_COMMAND,
                                                  AGYN_RUNNER__PLATFORM_URL=api.url,
                                                  AGYN_ORCHESTRATOR__TICK_SECONDS="0.2"))
        [answer] = until(lambda: replies(api.url, setup), timeout=60, what="the reply")
        assert "apart" in answer
        [pid] = workload_pids(data, setup)
    finally:
        if orchestrator is not None:
            orchestrator.send_signal(signal.SIGINT)
            output = orchestrator.communicate(timeout=30)[0].decode()
        api.stop()
    assert orchestrator.returncode == 0, output
    assert not alive(pid)  # its workloads stop with it
