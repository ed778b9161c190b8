"""A reverse proxy in front of the platform that forwards every request (the event stream too, streamed), but
holds the answer to a message's POST once the platform gave it: the runtime behind it waits for the answer
to a reply that is already posted, which is the moment a `kill -9` loses everything but the reply."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import uvicorn

from tests.cli.test_cli import free_port

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class ReplyHoldingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.reply_posted = threading.Event()
        self._server = uvicorn.Server(uvicorn.Config(self.app, port=self.port, log_level="warning",
                                                     interface="asgi3", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ReplyHoldingProxy:
        self._thread.start()
        while not self._server.started:
            self.reply_posted.wait(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        holds = scope["method"] == "POST" and scope["path"].endswith("/messages")
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.decode().lower() not in HOP_BY_HOP]
        query = f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as client, client.stream(
                scope["method"], f"{self.upstream}{scope['path']}{query}", headers=headers, content=body) as answer:
            if holds:
                await answer.aread()
                self.reply_posted.set()
                await asyncio.Event().wait()  # until the client goes away
            await send({"type": "http.response.start", "status": answer.status_code,
                        "headers": [(k.encode(), v.encode()) for k, v in answer.headers.items()
                                    if k.lower() not in HOP_BY_HOP]})
            async for chunk in answer.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
