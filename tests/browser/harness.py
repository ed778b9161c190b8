"""What the web page's browser tests share: the bundle built when missing or stale, a platform process that
can be restarted on its port and data, a world (two people, an organization, the demo agent) made through
the API, and Debian's chromium driven by Playwright with every request leaving 127.0.0.1 refused."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.cli.test_cli import AGYN, Serve, cli_env, free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]
REPO = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 780}
DESKTOP = {"width": 1280, "height": 860}


def ensure_bundle() -> None:
    """Build the page when its bundle is missing or older than its sources (needs node and npm)."""
    from agyn.web.bundle import BundleError, build

    try:
        build()
    except BundleError as error:
        pytest.skip(f"the web page cannot be built here: {error}")


class Platform:
    """`agyn serve` with its orchestrator and local runner, on a fixed port and data dir so that it can be
    stopped and started again under an open page."""

    def __init__(self, workdir: Path, database_url: str | None = None, backend: str = "sqlite",
                 **settings: str) -> None:
        self.workdir, self.data_dir, self.port, self.backend = workdir, workdir / "data", free_port(), backend
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = cli_env(AGYN_LOG_LEVEL="info", AGYN_ORCHESTRATOR__TICK_SECONDS="0.5",
                           AGYN_TOKEN_CACHE_SECONDS="0",  # a revoked token is refused at once
                           PYTHONPATH=str(REPO),
                           PATH=f"{AGYN.parent}{os.pathsep}{os.environ.get('PATH', '')}", **settings)
        if database_url:
            self.env["AGYN_DATABASE_URL"] = database_url
        self.serve: Serve | None = None

    def start(self) -> None:
        self.serve = Serve(self.data_dir, cwd=self.workdir, env=self.env, port=self.port)
        self.serve.wait_healthy()

    def stop(self) -> None:
        if self.serve is not None:
            self.serve.stop()
            self.serve = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def admin(self) -> httpx.Client:
        token = (self.data_dir / "admin-token").read_text().strip()
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    @property
    def logs(self) -> str:
        return "" if self.serve is None else self.serve.stdout[-4000:] + self.serve.stderr[-4000:]


@dataclass
class Person:
    id: str
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    url: str
    organization_id: str
    alice: Person
    bob: Person
    agent: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def make_world(platform: Platform) -> World:
    """Alice owns an organization with Bob as a member and the demo agent: the platform's test LLM
    (`simple-tool-call`: it asks its weather tool, then answers) with the weather MCP server."""
    suffix = uuid.uuid4().hex[:6]
    with platform.admin as admin:
        people = []
        for name in ("alice", "bob"):
            user = _created(admin.post("/api/v1/users", json={"oidc_subject": f"test|{name}-{suffix}",
                                                              "username": f"{name}-{suffix}", "name": name.title()}))
            token = _created(admin.post(f"/api/v1/users/{user['id']}/api-tokens", json={"name": "browser"}))["token"]
            people.append(Person(user["id"], user["username"], token))
        alice, bob = people
        organization = _created(admin.post("/api/v1/organizations", headers=alice.headers,
                                           json={"name": f"web-{suffix}"}))
        _created(admin.post("/api/v1/memberships", json={"organization_id": organization["id"],
                                                         "identity_id": bob.id}))
        owned = {"headers": alice.headers}
        provider = _created(admin.post("/api/v1/llm-providers", **owned, json={
            "organization_id": organization["id"], "name": "test-llm", "endpoint": f"{platform.url}/testllm/agn/v1",
            "auth_method": "bearer", "token": "the-test-llm-ignores-keys"}))
        model = _created(admin.post("/api/v1/models", **owned, json={
            "organization_id": organization["id"], "name": "scripted", "llm_provider_id": provider["id"],
            "remote_name": "simple-tool-call"}))
        agent = _created(admin.post("/api/v1/agents", **owned, json={
            "organization_id": organization["id"], "name": "assistant", "nickname": "assistant",
            "role": "assistant", "model": model["id"], "availability": "internal"}))
        _created(admin.post("/api/v1/mcps", **owned, json={
            "agent_id": agent["id"], "name": "weather", "command": f"{sys.executable} -m agyn.agent_runtime.weather_mcp"}))
    return World(platform.url, organization["id"], alice, bob, agent)


@dataclass
class Console:
    """What a page said on its console and what failed in it."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))


@contextmanager
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def context_for(browser: Browser, url: str, console: Console, viewport: dict[str, int] = DESKTOP,
                also: tuple[str, ...] = ()) -> BrowserContext:
    """A fresh browser profile (its own session storage) that may reach only the platform (and `also`)."""
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]

    def route(handler: Any) -> None:
        if handler.request.url.startswith((url, "data:", "blob:", *also)):
            handler.continue_()
        else:
            console.outside.append(handler.request.url)
            handler.abort()

    context.route("**/*", route)
    return context


def sign_in(page: Page, url: str, token: str) -> None:
    page.goto(f"{url}/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in with token").click()
    page.get_by_test_id("live-status").filter(has_text="live").wait_for(timeout=30_000)
    page.get_by_test_id("conversations").locator("li").first.wait_for()  # the list is pulled
