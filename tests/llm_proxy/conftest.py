"""A real `agyn serve` (uvicorn, on a free port) per backend, whose providers are its own test LLM
(`/testllm/<suite>/v1`) and a stub upstream the tests control; users, an organization and models made
through the API."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import openai
import pytest
import pytest_asyncio

from tests.cli.test_cli import Serve, cli_env, free_port
from tests.conftest import BACKENDS, database_env
from tests.llm_proxy import stub_upstream

READ_TIMEOUT = 1.0


@pytest.fixture(scope="session")
def stub_url() -> Iterator[str]:
    with stub_upstream.serving(stub_upstream.app()) as url:
        yield url


@dataclass
class Server:
    serve: Serve
    url: str
    admin_token: str
    backend: str
    api: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.api = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.admin_token}"},
                                timeout=30)

    @property
    def logs(self) -> str:
        return self.serve.stdout + self.serve.stderr


@pytest_asyncio.fixture(scope="module", params=BACKENDS)
async def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """`agyn serve` with a short provider read timeout and a fast metering writer."""
    workdir = tmp_path_factory.mktemp("llm-proxy")
    env = cli_env(AGYN_METERING__FLUSH_INTERVAL="0.05", AGYN_LLM_PROXY__READ_TIMEOUT=str(READ_TIMEOUT),
                  AGYN_LOG_LEVEL="debug")
    async with database_env(request.param, env, workdir / "data") as env:
        serve = Serve(workdir / "data", cwd=workdir, env=env)
        try:
            serve.wait_healthy()
            token = (workdir / "data" / "admin-token").read_text().strip()
            yield Server(serve, serve.url, token, request.param)
        finally:
            serve.stop()


@dataclass(frozen=True)
class Caller:
    id: str
    token: str


@dataclass
class World:
    """An organization with an owner, a member and an outsider, providers and models."""

    server: Server
    organization_id: str
    owner: Caller
    member: Caller
    outsider: Caller
    models: dict[str, str]  # name → id
    providers: dict[str, str]  # name → id
    secrets: list[str]  # every provider credential, to look for where it must not be

    def openai(self, caller: Caller | None = None, **options: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.server.url}/v1", api_key=(caller or self.member).token, max_retries=0,
                             **options)

    def anthropic(self, caller: Caller | None = None, **options: Any) -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.server.url, api_key=(caller or self.member).token, max_retries=0,
                                   **options)

    def usage(self, **params: str) -> dict[str, Any]:
        response = self.server.api.get("/api/v1/usage", params={"organization_id": self.organization_id, **params})
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document

    def wait_for_usage(self, check: Callable[[dict[str, Any]], bool], timeout: float = 10.0,
                       **params: str) -> dict[str, Any]:
        """The usage report once `check` accepts it (the writer flushes in the background)."""
        deadline = time.monotonic() + timeout
        while True:
            report = self.usage(**params)
            if check(report) or time.monotonic() > deadline:
                return report
            time.sleep(0.05)


def _user(server: Server, name: str) -> Caller:
    suffix = uuid.uuid4().hex[:8]
    created = server.api.post("/api/v1/users", json={"oidc_subject": f"test|{name}-{suffix}",
                                                     "username": f"{name}-{suffix}"})
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    token = server.api.post(f"/api/v1/users/{user_id}/api-tokens", json={"name": "test"})
    assert token.status_code == 201, token.text
    return Caller(user_id, token.json()["token"])


def make_world(server: Server, stub_url: str) -> World:
    owner, member, outsider = _user(server, "owner"), _user(server, "member"), _user(server, "outsider")
    owned = {"Authorization": f"Bearer {owner.token}"}
    organization = server.api.post("/api/v1/organizations", headers=owned,
                                   json={"name": f"org-{uuid.uuid4().hex[:8]}"})
    assert organization.status_code == 201, organization.text
    organization_id = organization.json()["id"]
    added = server.api.post("/api/v1/memberships", json={"organization_id": organization_id,
                                                         "identity_id": member.id, "role": "member"})
    assert added.status_code == 201, added.text
    found_secrets: list[str] = []

    def provider(name: str, endpoint: str, protocol: str = "responses", auth: str = "bearer") -> str:
        secret = f"sk-provider-{secrets.token_hex(12)}"
        found_secrets.append(secret)
        body: dict[str, Any] = {"organization_id": organization_id, "name": name, "endpoint": endpoint,
                                "protocol": protocol, "auth_method": auth}
        if auth == "custom_headers":
            body["headers"] = {"x-secret-header": secret}
        else:
            body["token"] = secret
        created = server.api.post("/api/v1/llm-providers", headers=owned, json=body)
        assert created.status_code == 201, created.text
        assert secret not in created.text
        return str(created.json()["id"])

    providers = {
        "agn": provider("agn", f"{server.url}/testllm/agn/v1"),
        "claude": provider("claude", f"{server.url}/testllm/claude/v1", "anthropic_messages", "x_api_key"),
        "down": provider("down", f"http://127.0.0.1:{free_port()}/v1"),
        "slow": provider("slow", f"{stub_url}/slow/v1"),
        "stall": provider("stall", f"{stub_url}/stall/v1"),
        "echo": provider("echo", f"{stub_url}/echo/v1", auth="custom_headers"),
        "echo-anthropic": provider("echo-anthropic", f"{stub_url}/echo/v1", "anthropic_messages", "x_api_key"),
        "leak": provider("leak", f"{stub_url}/leak/v1"),
        "overloaded": provider("overloaded", f"{stub_url}/fail/529/v1", "anthropic_messages"),
    }
    models: dict[str, str] = {}
    for name, provider_name, remote in (
            ("hello", "agn", "simple-hello"), ("tools", "agn", "simple-tool-call"),
            ("claude-hello", "claude", "simple-hello"), ("claude-tools", "claude", "mcp-tools-test"),
            ("down", "down", "anything"), ("slow", "slow", "slow"), ("stall", "stall", "stall"),
            ("echo", "echo", "echo-remote"), ("echo-anthropic", "echo-anthropic", "echo-anthropic-remote"),
            ("leak", "leak", "leak"), ("overloaded", "overloaded", "busy")):
        created = server.api.post("/api/v1/models", headers=owned, json={
            "organization_id": organization_id, "name": name, "llm_provider_id": providers[provider_name],
            "remote_name": remote})
        assert created.status_code == 201, created.text
        models[name] = str(created.json()["id"])
    return World(server, organization_id, owner, member, outsider, models, providers, found_secrets)


@pytest.fixture(scope="module")
def world(server: Server, stub_url: str) -> World:
    return make_world(server, stub_url)
