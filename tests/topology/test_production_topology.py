"""The production topology on one machine, as `stacks/bootstrap` lays it out on Kubernetes: two `agyn serve`
API processes with no orchestrator of their own, two `agyn orchestrator` processes (one leads), and a remote
runner (`agyn runner serve`) connected to the leading orchestrator's channel, all on one PostgreSQL
database and one Redis. A conversation with an agent
whose model is the platform's test LLM goes through either API process, and killing the leading
orchestrator with SIGKILL hands over: a new conversation still gets its workload and its answer.

Every process is a real `agyn` command; only Kubernetes itself is missing (docs/kubernetes.md)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import AGYN, Serve, agyn, cli_env, free_port, stop_process
from tests.conftest import POSTGRES_URL, scratch_postgres
from tests.orchestrator.test_serve_restart import client, ok, until

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("AGYN_TEST_REDIS_URL")
LEADS = "this process leads the orchestration"
REPLY_TIMEOUT = 90.0


class Process:
    """An `agyn` command in the background, its output in a file."""

    def __init__(self, name: str, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.log = cwd / f"{name}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen([str(AGYN), *args], cwd=cwd, env=env, stdout=out,
                                            stderr=subprocess.STDOUT)

    @property
    def output(self) -> str:
        return self.log.read_text()


def started(stack: ExitStack, process: Process, signal_number: int = signal.SIGINT) -> Process:
    """The process, stopped when the stack closes (Ctrl+C, or `signal_number`)."""
    stack.callback(stop_process, process.process, signal_number)
    return process


def token_of(*servers: Serve) -> str:
    """The admin token, in the data dir of whichever API process bootstrapped the database."""
    [token] = [(s.data_dir / "admin-token").read_text().strip() for s in servers
               if (s.data_dir / "admin-token").exists()]
    return token


def world(url: str, admin: str) -> dict[str, Any]:
    """A person, their organization with the test LLM as its provider, an agent on the `agn` suite's
    `simple-state` script, two threads with it, and a cluster-wide runner (its service token)."""
    suffix = uuid.uuid4().hex[:8]
    with client(url, admin) as cluster_admin:
        user = ok(cluster_admin.post("/api/v1/users", json={"oidc_subject": f"t|{suffix}", "username": "ann"}), 201)
        token = ok(cluster_admin.post(f"/api/v1/users/{user['id']}/api-tokens", json={"name": "t"}), 201)["token"]
        runner = ok(cluster_admin.post("/api/v1/runners", json={"name": "cluster-runner"}), 201)
    with client(url, token) as ann:
        org = ok(ann.post("/api/v1/organizations", json={"name": f"acme-{suffix}"}), 201)
        provider = ok(ann.post("/api/v1/llm-providers", json={
            "organization_id": org["id"], "name": "test-llm", "endpoint": f"{url}/testllm/agn/v1",
            "protocol": "responses", "auth_method": "bearer", "token": "sk-unused"}), 201)
        model = ok(ann.post("/api/v1/models", json={"organization_id": org["id"], "name": "demo",
                                                    "llm_provider_id": provider["id"],
                                                    "remote_name": "simple-state"}), 201)
        agent = ok(ann.post("/api/v1/agents", json={
            "organization_id": org["id"], "name": "demo", "nickname": "demo", "role": "assistant",
            "model": model["id"], "availability": "internal", "idle_timeout": "1h"}), 201)
        threads = [ok(ann.post("/api/v1/threads", json={"organization_id": org["id"], "participants": ["@demo"]}),
                      201) for _ in range(2)]
    return {"token": token, "agent": agent, "threads": threads, "runner": runner}


def send(url: str, setup: dict[str, Any], thread: int, body: str) -> None:
    with client(url, setup["token"]) as ann:
        ok(ann.post(f"/api/v1/threads/{setup['threads'][thread]['id']}/messages", json={"body": body}), 201)


def replies(url: str, setup: dict[str, Any], thread: int) -> list[str]:
    with client(url, setup["token"]) as ann:
        items = ok(ann.get(f"/api/v1/threads/{setup['threads'][thread]['id']}/messages",
                           params={"page_size": 100}))["items"]
    return [m["body"] for m in items if m["sender_id"] == setup["agent"]["id"]]


@pytest.fixture
async def shared_database(tmp_path: Path) -> Any:
    if not POSTGRES_URL or not REDIS_URL:
        pytest.skip("the production topology needs AGYN_TEST_POSTGRES_URL and AGYN_TEST_REDIS_URL")
    async with scratch_postgres() as url:
        yield url


def test_two_apis_two_orchestrators_and_a_remote_runner(tmp_path: Path, shared_database: str) -> None:
    env = cli_env(
        AGYN_DATABASE_URL=shared_database, AGYN_REDIS_URL=REDIS_URL or "",
        AGYN_NOTIFICATIONS__REDIS_CHANNEL=f"agyn.topology.{uuid.uuid4().hex}",  # apart from other tests' replicas
        AGYN_ENCRYPTION_KEY=base64.b64encode(os.urandom(32)).decode(),  # one key for every replica
        AGYN_RUNNER__EMBEDDED="false",  # workloads run on the remote runner only
        PATH=f"{AGYN.parent}{os.pathsep}{os.environ.get('PATH', '')}")  # `agyn agent-runtime` for the runner
    upgraded = agyn("db", "upgrade", "--data-dir", str(tmp_path / "migrate"), cwd=tmp_path, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    api_env = {**env, "AGYN_ORCHESTRATOR__ENABLED": "false"}
    with ExitStack() as stack:
        first = Serve(tmp_path / "api-1", cwd=tmp_path, env=api_env)
        stack.callback(first.stop)
        first.wait_healthy()
        # the embedded authorization engine reads its tuples when a process starts (multi-replica deployments
        # use OpenFGA): the world exists before the other processes start
        setup = world(first.url, token_of(first))
        second = Serve(tmp_path / "api-2", cwd=tmp_path, env=api_env)
        stack.callback(second.stop)
        second.wait_healthy()
        assert token_of(first, second)  # one bootstrap for both: only the first has the token file

        # both orchestrators on one channel port: only the leader listens there, so the runner's address
        # stays the same across a handover (on Kubernetes: a Service whose ready endpoint is the leader)
        channel = f"http://127.0.0.1:{free_port()}"
        orchestrator_env = {**env, "AGYN_RUNNER__PLATFORM_URL": second.url, "AGYN_ORCHESTRATOR__TICK_SECONDS": "0.2",
                            "AGYN_ORCHESTRATOR__LEASE_RETRY_SECONDS": "0.3",
                            "AGYN_ORCHESTRATOR__CHANNEL_PORT": channel.rpartition(":")[2]}
        leader = started(stack, Process(
            "orchestrator-1", ["orchestrator", "--data-dir", str(tmp_path / "orchestrator-1")], tmp_path,
            orchestrator_env))
        until(lambda: LEADS in leader.output, timeout=60, what="the first orchestrator leading")
        standby = started(stack, Process(
            "orchestrator-2", ["orchestrator", "--data-dir", str(tmp_path / "orchestrator-2")], tmp_path,
            orchestrator_env))
        runner = started(stack, Process(
            "runner", ["runner", "serve", "--platform-url", channel, "--token", setup["runner"]["service_token"],
                       "--data-dir", str(tmp_path / "runner")], tmp_path, env), signal.SIGTERM)

        send(first.url, setup, 0, "hi")  # through one API process; the reply read through the other
        assert until(lambda: replies(second.url, setup, 0), timeout=REPLY_TIMEOUT,
                     what=f"the first reply\n{runner.output[-3000:]}") == ["Hi! How are you?"]
        assert LEADS not in standby.output
        assert "the runner channel listens" in leader.output
        assert "the runner channel listens" not in standby.output  # a standby has no listener
        with client(second.url, setup["token"]) as ann:
            [workload] = ok(ann.get("/api/v1/workloads", params={"thread_id": setup["threads"][0]["id"]}))["items"]
        assert workload["runner_id"] == setup["runner"]["id"] and workload["status"] == "running"

        os.kill(leader.process.pid, signal.SIGKILL)  # the leader dies without a word
        leader.process.wait(timeout=20)
        until(lambda: "the runner channel listens" in standby.output, timeout=60,
              what="the standby orchestrator taking over, its channel listening")

        send(second.url, setup, 1, "hi")  # a new conversation: only a leading orchestrator starts its workload
        send(second.url, setup, 0, "fine")  # and the first goes on
        assert until(lambda: replies(first.url, setup, 1), timeout=REPLY_TIMEOUT,
                     what=f"the reply after the handover\n{standby.output[-3000:]}") == ["Hi! How are you?"]
        assert until(lambda: len(found := replies(first.url, setup, 0)) == 2 and found, timeout=REPLY_TIMEOUT,
                     what="the first conversation's second reply") == ["Hi! How are you?", "How can I help you?"]
        with client(first.url, setup["token"]) as ann:
            workloads = ok(ann.get("/api/v1/workloads", params={"organization_id": setup["agent"]["organization_id"]}
                                   ))["items"]
        assert sorted((w["thread_id"], w["status"]) for w in workloads) == sorted(
            (t["id"], "running") for t in setup["threads"])  # the first workload lived through the handover
        assert all(w["runner_id"] == setup["runner"]["id"] for w in workloads)
        for secret in (setup["runner"]["service_token"], setup["token"]):
            assert secret not in runner.output + standby.output + first.stdout + second.stdout
