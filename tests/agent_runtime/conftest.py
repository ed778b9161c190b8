"""The runtime's test world: the test LLM (`agyn testllm serve`, bundled suites plus ./suites) and small
MCP servers (tests/agent_runtime/mcp_servers.py) over Streamable HTTP, each a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from agyn.agent_runtime.tools import McpServer
from tests.cli.test_cli import AGYN, Serve, cli_env, free_port
from tests.conftest import BACKENDS, database_env

HERE = Path(__file__).parent
SUITES = HERE / "suites"
REPO = HERE.parent.parent
START_TIMEOUT = 60.0


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not listen on {port} within {START_TIMEOUT} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def testllm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The standalone test LLM's base (append `/<suite>/v1`)."""
    port = free_port()
    log = tmp_path_factory.mktemp("testllm") / "testllm.log"
    with log.open("w") as out:
        process = subprocess.Popen([str(AGYN), "testllm", "serve", "--port", str(port), "--suites", str(SUITES)],
                                   env=cli_env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, "agyn testllm serve")
        assert httpx.get(f"http://127.0.0.1:{port}/testllm/").status_code == 200
        yield f"http://127.0.0.1:{port}/testllm"
    finally:
        stop(process)


def mcp_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def stdio_command(name: str) -> str:
    """A shell command that runs one of the test MCP servers over stdio."""
    return f"{sys.executable} -m tests.agent_runtime.mcp_servers {name}"


@dataclass
class HttpMcp:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    @property
    def server(self) -> McpServer:
        return McpServer(self.name, "streamable_http", url=self.url)


def start_http_mcp(name: str, workdir: Path, **env: str) -> HttpMcp:
    port = free_port()
    log = workdir / f"mcp-{name}-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "tests.agent_runtime.mcp_servers", name],
                                   env=mcp_env(MCP_PORT=str(port), **env), stdout=out, stderr=subprocess.STDOUT,
                                   cwd=REPO)
    wait_for_port(port, process, f"MCP server {name}")
    return HttpMcp(name, f"http://127.0.0.1:{port}/mcp", process)


@pytest.fixture(scope="session")
def mcp_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mcp")


@pytest.fixture(scope="session")
def weather_mcp(mcp_workdir: Path) -> Iterator[HttpMcp]:
    mcp = start_http_mcp("weather", mcp_workdir)
    yield mcp
    stop(mcp.process)


@pytest.fixture(scope="session")
def memory_mcp(mcp_workdir: Path) -> Iterator[HttpMcp]:
    mcp = start_http_mcp("memory", mcp_workdir)
    yield mcp
    stop(mcp.process)


@pytest.fixture(scope="session")
def fs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose `test-data/` holds one file, hello.txt (the mcp-tools-test script's world)."""
    root = tmp_path_factory.mktemp("fs")
    (root / "test-data").mkdir()
    (root / "test-data" / "hello.txt").write_text("hello\n")
    return root


AGYN_BIN = AGYN.parent


@dataclass
class Server:
    """`agyn serve` (uvicorn on a free port) and the database it uses, for minting workload tokens."""

    serve: Serve
    url: str
    database_url: str
    api: httpx.Client

    @property
    def logs(self) -> str:
        return self.serve.stdout + self.serve.stderr


@pytest.fixture(scope="module", params=BACKENDS)
async def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """The platform without its orchestrator: the tests start `agyn agent-runtime` themselves."""
    async with platform_process(request.param, tmp_path_factory.mktemp("platform"),
                                AGYN_ORCHESTRATOR__ENABLED="false") as found:
        yield found


@asynccontextmanager
async def platform_process(backend: str, workdir: Path, **settings: str) -> AsyncIterator[Server]:
    env = cli_env(AGYN_LOG_LEVEL="info", AGYN_TESTLLM__SUITES_DIR=str(SUITES),
                  PYTHONPATH=str(REPO), PATH=f"{AGYN.parent}{os.pathsep}{os.environ.get('PATH', '')}", **settings)
    async with database_env(backend, env, workdir / "data") as env:
        database_url = env.get("AGYN_DATABASE_URL", f"sqlite+aiosqlite:///{(workdir / 'data' / 'agyn.db').resolve()}")
        serve = Serve(workdir / "data", cwd=workdir, env=env)
        try:
            serve.wait_healthy()
            token = (workdir / "data" / "admin-token").read_text().strip()
            with httpx.Client(base_url=serve.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
                yield Server(serve, serve.url, database_url, api)
        finally:
            serve.stop()
"""Where the `agyn` command is: put first on the PATH of the shells the runtime starts."""


@dataclass
class ProxyWorld:
    """An organization whose provider is the platform's own test LLM, a model per scripted test, and its
    owner's token for the proxy."""

    server: Server
    organization_id: str
    owner_id: str
    token: str
    models: dict[str, str]  # test name → model id

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/v1"


def make_proxy_world(platform: Server, tests: list[str]) -> ProxyWorld:
    server = platform
    suffix = uuid.uuid4().hex[:8]
    created = server.api.post("/api/v1/users", json={"oidc_subject": f"test|rt-{suffix}", "username": f"rt-{suffix}"})
    assert created.status_code == 201, created.text
    owner_id = created.json()["id"]
    token = server.api.post(f"/api/v1/users/{owner_id}/api-tokens", json={"name": "test"}).json()["token"]
    owned = {"Authorization": f"Bearer {token}"}
    organization = server.api.post("/api/v1/organizations", headers=owned, json={"name": f"rt-{suffix}"})
    assert organization.status_code == 201, organization.text
    organization_id = organization.json()["id"]
    providers: dict[str, str] = {}
    for suite in ("agn", "runtime"):
        provider = server.api.post("/api/v1/llm-providers", headers=owned, json={
            "organization_id": organization_id, "name": f"test-llm-{suite}",
            "endpoint": f"{server.url}/testllm/{suite}/v1", "protocol": "responses", "auth_method": "bearer",
            "token": "unused"})
        assert provider.status_code == 201, provider.text
        providers[suite] = provider.json()["id"]
    models: dict[str, str] = {}
    for test in tests:
        suite, _, name = test.rpartition("/")  # "runtime/echo": a test of ./suites/runtime.yaml
        model = server.api.post("/api/v1/models", headers=owned, json={
            "organization_id": organization_id, "name": test.replace("/", "-"),
            "llm_provider_id": providers[suite or "agn"], "remote_name": name})
        assert model.status_code == 201, model.text
        models[test] = model.json()["id"]
    return ProxyWorld(server, organization_id, owner_id, token, models)
