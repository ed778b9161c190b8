"""`agyn agent-runtime` as a workload runs it: a real process with the runner's environment and a workload
token, against a real `agyn serve` whose LLM proxy reaches the platform's own test LLM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from agyn.kit.clock import SYSTEM_CLOCK
from agyn.kit.db import Database
from agyn.users import workload_tokens
from tests.agent_runtime.conftest import AGYN, ProxyWorld, Server, make_proxy_world
from tests.agent_runtime.holding_proxy import ReplyHoldingProxy
from tests.cli.test_cli import cli_env, stop_process

TESTS = ["simple-state", "shell-threads-send", "simple-hello"]
REPLY_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def world(server: Server) -> ProxyWorld:
    return make_proxy_world(server, TESTS)


def owner(world: ProxyWorld) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token}"}


def make_agent(world: ProxyWorld, test: str, **fields: Any) -> dict[str, Any]:
    nickname = f"a{uuid.uuid4().hex[:8]}"
    created = world.server.api.post("/api/v1/agents", headers=owner(world), json={
        "organization_id": world.organization_id, "name": nickname, "nickname": nickname, "role": "assistant",
        "model": world.models[test], "availability": "internal", **fields})
    assert created.status_code == 201, created.text
    agent: dict[str, Any] = created.json()
    return agent


def thread_with(world: ProxyWorld, agent: dict[str, Any]) -> str:
    created = world.server.api.post("/api/v1/threads", headers=owner(world), json={
        "organization_id": world.organization_id, "participants": [f"@{agent['nickname']}"]})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def send(world: ProxyWorld, thread_id: str, body: str) -> dict[str, Any]:
    sent = world.server.api.post(f"/api/v1/threads/{thread_id}/messages", headers=owner(world), json={"body": body})
    assert sent.status_code == 201, sent.text
    message: dict[str, Any] = sent.json()
    return message


def messages(world: ProxyWorld, thread_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = world.server.api.get(f"/api/v1/threads/{thread_id}/messages",
                                                       headers=owner(world)).json()["items"]
    return found


def wait_for(world: ProxyWorld, thread_id: str, count: int, runtime: Runtime | None = None) -> list[dict[str, Any]]:
    deadline = time.monotonic() + REPLY_TIMEOUT
    while time.monotonic() < deadline:
        found = messages(world, thread_id)
        if len(found) >= count:
            return found
        if runtime is not None and runtime.process.poll() is not None:
            raise AssertionError(f"the runtime exited with {runtime.process.returncode}:\n{runtime.output}")
        time.sleep(0.05)
    raise AssertionError(f"{count} messages expected, found {messages(world, thread_id)}"
                         + (f"\n{runtime.output}" if runtime else ""))


async def mint(server: Server, agent_id: str, thread_id: str, organization_id: str) -> tuple[str, str]:
    """A workload token, as the orchestrator mints one when it starts a workload."""
    workload_id = uuid.uuid4()
    database = Database(server.database_url)
    try:
        async with database.transaction() as session:
            token = await workload_tokens.issue(
                session, SimpleNamespace(clock=SYSTEM_CLOCK),  # type: ignore[arg-type]
                agent_id=uuid.UUID(agent_id), thread_id=uuid.UUID(thread_id), workload_id=workload_id,
                organization_id=uuid.UUID(organization_id))
    finally:
        await database.dispose()
    return token, str(workload_id)


@dataclass
class Runtime:
    process: subprocess.Popen[bytes]
    log: Path
    token: str

    @property
    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> int:
        return stop_process(self.process, signal.SIGTERM)


async def start_runtime(world: ProxyWorld, agent: dict[str, Any], thread_id: str, workdir: Path,
                        mcp_servers: list[dict[str, str]] | None = None, platform_url: str | None = None,
                        **environ: str) -> Runtime:
    token, workload_id = await mint(world.server, agent["id"], thread_id, world.organization_id)
    env = cli_env(AGYN_PLATFORM_URL=platform_url or world.server.url, AGYN_WORKLOAD_TOKEN=token, AGYN_WORKLOAD_ID=workload_id,
                  AGYN_THREAD_ID=thread_id, AGYN_AGENT_ID=agent["id"], AGYN_ORGANIZATION_ID=world.organization_id,
                  AGYN_LLM_BASE_URL=f"{world.server.url}/v1", AGYN_STATE_DIR=str(workdir / "state"),
                  AGYN_MCP_SERVERS=json.dumps(mcp_servers or []), **environ)
    workdir.mkdir(exist_ok=True)
    log = workdir / f"runtime-{workload_id}.log"
    with log.open("w") as out:
        process = subprocess.Popen([str(AGYN), "agent-runtime"], env=env, cwd=workdir, stdout=out,
                                   stderr=subprocess.STDOUT)
    return Runtime(process, log, token)


def unacked(world: ProxyWorld, token: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{world.server.url}/api/v1/me/unacked-messages",
                         headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def test_answers_acks_and_continues_the_conversation_after_a_restart(world: ProxyWorld, tmp_path: Path) -> None:
    agent = make_agent(world, "simple-state")
    api = world.server.api
    for path, body in (("/api/v1/init-scripts", {"script": "echo ready >> init-ran.txt"}),
                       ("/api/v1/skills", {"name": "greet", "body": "Say hello first.", "description": "Greeting"})):
        created = api.post(path, headers=owner(world), json={"agent_id": agent["id"], **body})
        assert created.status_code == 201, created.text
    thread_id = thread_with(world, agent)
    send(world, thread_id, "hi")  # before the runtime starts: it is pulled at start
    runtime = await start_runtime(world, agent, thread_id, tmp_path)
    try:
        first = wait_for(world, thread_id, 2, runtime)
        assert first[1]["sender_id"] == agent["id"] and first[1]["body"] == "Hi! How are you?"
        assert unacked(world, runtime.token) == []  # acked once the reply was posted
        assert (tmp_path / "init-ran.txt").read_text() == "ready\n"
        assert (tmp_path / "state" / "skills" / "greet.md").read_text() == "Say hello first."
    finally:
        assert runtime.stop() == 0, runtime.output
    # a new workload, the same state dir; its runner ran the init scripts (so the runtime does not)
    restarted = await start_runtime(world, agent, thread_id, tmp_path, AGYN_INIT_SCRIPTS_DONE="1")
    try:
        send(world, thread_id, "fine, thanks")
        second = wait_for(world, thread_id, 4, restarted)
        assert second[3]["sender_id"] == agent["id"] and second[3]["body"] == "How can I help you?"
        time.sleep(0.3)
        assert len(messages(world, thread_id)) == 4  # one reply per message, nothing answered twice
        assert (tmp_path / "init-ran.txt").read_text() == "ready\n"
    finally:
        assert restarted.stop() == 0, restarted.output


async def test_shell_threads_send_posts_an_intermediate_update_then_the_reply(world: ProxyWorld,
                                                                             tmp_path: Path) -> None:
    agent = make_agent(world, "shell-threads-send")
    thread_id = thread_with(world, agent)
    runtime = await start_runtime(world, agent, thread_id, tmp_path)
    try:
        send(world, thread_id, "Send me an intermediate update then reply")
        found = wait_for(world, thread_id, 3, runtime)
    finally:
        runtime.stop()
    assert [(m["sender_id"], m["body"]) for m in found[1:]] == [
        (agent["id"], "Thinking"), (agent["id"], "Done thinking. Here is my reply.")]


async def test_a_model_failure_is_a_short_message_and_the_batch_is_acked(world: ProxyWorld, tmp_path: Path) -> None:
    agent = make_agent(world, "simple-hello")
    thread_id = thread_with(world, agent)
    runtime = await start_runtime(world, agent, thread_id, tmp_path)
    try:
        send(world, thread_id, "bonjour")  # the script wants "hi": the test LLM answers 400
        found = wait_for(world, thread_id, 2, runtime)
        assert found[1]["sender_id"] == agent["id"]
        assert found[1]["body"] == "⚠️ I could not get an answer from the model; please try again later."
        assert unacked(world, runtime.token) == []
    finally:
        runtime.stop()
    assert "turn failed" in runtime.output and "Input mismatch" in runtime.output  # the reason is logged


async def test_a_workload_hears_only_its_own_thread(world: ProxyWorld) -> None:
    agent = make_agent(world, "simple-hello")
    mine, other = thread_with(world, agent), thread_with(world, agent)
    token, _ = await mint(world.server, agent["id"], mine, world.organization_id)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=world.server.url, headers=headers, timeout=10) as client:
        refused = await client.get("/api/v1/events", params={"rooms": f"agent:{agent['id']}"})
        assert refused.status_code == 403, refused.text
        async with client.stream("GET", "/api/v1/events", params={"rooms": "thread_participant:me"}) as stream:
            assert stream.status_code == 200
            send(world, other, "for the other workload")  # the same agent, another thread: not this stream's
            sent = send(world, mine, "for this workload")
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    payload = json.loads(line[5:])["payload"]
                    assert payload["thread_id"] == mine, payload
                    assert payload["message_id"] == sent["id"]
                    break


async def test_a_reply_refused_for_good_is_logged_and_the_batch_acked(world: ProxyWorld, tmp_path: Path) -> None:
    agent = make_agent(world, "simple-hello")
    thread_id = thread_with(world, agent)
    send(world, thread_id, "hi")
    archived = world.server.api.post(f"/api/v1/threads/{thread_id}/archive", headers=owner(world))
    assert archived.status_code == 200, archived.text
    runtime = await start_runtime(world, agent, thread_id, tmp_path)
    try:
        assert len(unacked(world, runtime.token)) == 1
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline and unacked(world, runtime.token):
            time.sleep(0.1)
        assert unacked(world, runtime.token) == []  # not answered again and again
    finally:
        runtime.stop()
    assert "was refused (409)" in runtime.output, runtime.output
    assert [m["body"] for m in messages(world, thread_id)] == ["hi"]


async def test_kill_9_once_the_reply_is_posted_leaves_it_answered_once(world: ProxyWorld, tmp_path: Path) -> None:
    """The runtime's reply is posted, the answer to its POST never reaches it (held by a proxy), it is killed:
    the reply acknowledged the message in its own transaction, so the workload that replaces it (another
    token, the same state dir) has nothing to answer again."""
    agent = make_agent(world, "simple-hello")
    thread_id = thread_with(world, agent)
    with ReplyHoldingProxy(world.server.url) as proxy:
        killed = await start_runtime(world, agent, thread_id, tmp_path, platform_url=proxy.url)
        try:
            send(world, thread_id, "hi")
            assert proxy.reply_posted.wait(REPLY_TIMEOUT), killed.output
            os.kill(killed.process.pid, signal.SIGKILL)
            killed.process.wait()
        finally:
            killed.stop()
    assert unacked(world, killed.token) == []  # acknowledged with the reply, though the runtime never heard
    replacement = await start_runtime(world, agent, thread_id, tmp_path)
    try:
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline and "agent runtime serving" not in replacement.output:
            time.sleep(0.05)
    finally:
        assert replacement.stop() == 0, replacement.output
    assert "waiting=0" in replacement.output, replacement.output  # it started, and found nothing to answer
    assert [(m["sender_id"], m["body"]) for m in messages(world, thread_id)] == [
        (world.owner_id, "hi"), (agent["id"], "Hi! How are you?")]
