"""What the notifications tests share: the platform behind a real HTTP server (uvicorn on a free
port: streams need real sockets), an SSE reader, and ways to publish events with rooms."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from agyn.app import PlatformServer, create_app
from agyn.authorization.engine import TupleKey
from agyn.authorization.service import AuthorizationService
from agyn.kit.events import Event
from agyn.kit.platform import Platform
from agyn.notifications.service import NotificationsService
from tests.cli.test_cli import stop_process
from tests.conftest import Api, User, empty_database, make_settings

REDIS_URL = os.environ.get("AGYN_TEST_REDIS_URL")
"""A Redis server for the tests that need one (e.g. redis://127.0.0.1:6379/0); they skip without it."""
WAIT = 10.0  # generous: only "it arrived" is asserted, never how fast


@dataclass
class Live:
    api: Api
    url: str
    platform: Platform

    @property
    def notifications(self) -> NotificationsService:
        return self.platform.get(NotificationsService)

    async def publish(self, name: str, rooms: tuple[str, ...], **payload: Any) -> Event:
        """An event as a module publishes it after its commit."""
        event = Event(name=name, payload=payload, source="tests", rooms=rooms)
        await self.platform.events.publish(event)
        return event

    async def until_subscribed(self, count: int) -> None:
        """Wait until the hub has `count` subscriptions (a stream's subscription precedes its headers;
        a Socket.IO client's follows its `subscribe` answer, so this is for the server's side of things)."""
        async with asyncio.timeout(WAIT):
            while self.notifications.hub.subscriptions != count:
                await asyncio.sleep(0.01)


@asynccontextmanager
async def live_server(database_url: str, data_dir: Path, *, fresh: bool = True, **overrides: Any
                      ) -> AsyncIterator[Live]:
    """The platform served by uvicorn on 127.0.0.1 and a free port, with an HTTP client for it."""
    if fresh:
        await empty_database(database_url)
    settings = make_settings(data_dir, database_url, **overrides)
    app = create_app(settings)
    server = PlatformServer(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False,
                                           lifespan="on"))
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if serving.done():
                    serving.result()
                    raise AssertionError("the server stopped while starting")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=WAIT) as client:
            token = settings.admin_token_path.read_text().strip()
            yield Live(Api(client=client, admin_token=token, settings=settings, app=app), url, app.state.platform)
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)


@dataclass
class SseMessage:
    event: str
    data: str
    id: str | None = None

    @property
    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.data)
        return body


@dataclass
class SseStream:
    """An open `GET /api/v1/events` response, read message by message (comments kept apart)."""

    response: httpx.Response
    comments: list[str] = field(default_factory=list)
    _lines: AsyncIterator[str] | None = None

    async def next(self, timeout: float = WAIT) -> SseMessage:
        if self._lines is None:
            self._lines = self.response.aiter_lines()
        fields: dict[str, str] = {}
        async with asyncio.timeout(timeout):
            async for line in self._lines:
                if line == "":
                    if fields:
                        return SseMessage(event=fields.get("event", "message"), data=fields.get("data", ""),
                                          id=fields.get("id"))
                    continue
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        raise EOFError("the stream ended")


@asynccontextmanager
async def sse(client: httpx.AsyncClient, token: str, *rooms: str) -> AsyncIterator[SseStream]:
    """A subscribed SSE stream (the subscription is in place once this yields)."""
    async with client.stream("GET", "/api/v1/events", params={"rooms": ",".join(rooms)},
                             headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        yield SseStream(response)


async def make_thread(platform: Platform, organization_id: str, *participants: User) -> str:
    """A thread as the threads module records it in the authorization model: its organization and its
    participants (the conversation of the same id)."""
    thread_id = str(uuid.uuid4())
    authz = platform.get(AuthorizationService)
    async with platform.database.transaction() as session:
        await authz.write(session, [TupleKey(f"organization:{organization_id}", "org", f"thread:{thread_id}"),
                                    *(TupleKey(f"identity:{p.id}", "participant", f"thread:{thread_id}")
                                      for p in participants)])
    return thread_id


AGYN = Path(sys.executable).with_name("agyn")


def cli_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any AGYN_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
    env.update(NO_COLOR="1", PYTHONUNBUFFERED="1", AGYN_LOG_FORMAT="text")
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServeProcess:
    """`agyn serve` in the background (one replica), its output in files beside its data dir."""

    def __init__(self, data_dir: Path, env: dict[str, str], name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"serve-{name}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen([str(AGYN), "serve", "--data-dir", str(data_dir), "--port", str(self.port)],
                                            env=env, stdout=out, stderr=subprocess.STDOUT)

    async def healthy(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=1.0) as client:
            async with asyncio.timeout(60):
                while True:
                    if self.process.poll() is not None:
                        raise AssertionError(f"agyn serve exited with {self.process.returncode}:\n"
                                             f"{self.log.read_text()}")
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)

    def stop(self) -> int:
        return stop_process(self.process)
