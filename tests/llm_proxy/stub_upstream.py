"""A provider stand-in the tests control: echoes what it received, answers slowly, stalls mid-stream,
echoes credentials in an error, fails with a status of its choice."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.cli.test_cli import free_port

USAGE = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 5,
         "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 15}


def _response(model: str, text: str) -> dict[str, Any]:
    return {"id": "resp_stub", "object": "response", "created_at": 0, "model": model, "status": "completed",
            "error": None, "incomplete_details": None, "usage": USAGE,
            "output": [{"id": "msg_stub", "type": "message", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": text, "annotations": []}]}]}


CREDENTIAL_HEADERS = {"authorization", "x-api-key", "x-secret-header"}


def fingerprint(value: str) -> str:
    """How the echo shows a credential (the proxy would rightly redact the value itself)."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


async def echo(request: Request) -> Response:
    """200 with the model it was asked for and the headers it got (in the answer's text, as JSON;
    credentials as fingerprints)."""
    body = await request.json()
    headers = {name: fingerprint(value) if name in CREDENTIAL_HEADERS else value
               for name, value in request.headers.items()}
    seen = {"model": body.get("model"), "headers": headers, "path": request.url.path}
    if request.url.path.endswith("/messages"):
        return JSONResponse({"id": "msg_stub", "type": "message", "role": "assistant", "model": body.get("model"),
                             "content": [{"type": "text", "text": json.dumps(seen)}], "stop_reason": "end_turn",
                             "stop_sequence": None,
                             "usage": {"input_tokens": 7, "output_tokens": 3, "cache_read_input_tokens": 2,
                                       "cache_creation_input_tokens": 1}})
    return JSONResponse(_response(str(body.get("model")), json.dumps(seen)))


async def slow(request: Request) -> Response:
    await request.body()
    await asyncio.sleep(float(request.query_params.get("seconds", "3")))
    return JSONResponse(_response("slow", "finally"))


async def stall(request: Request) -> Response:
    """A stream that sends its first event, then nothing."""
    await request.body()

    async def events() -> AsyncIterator[bytes]:
        yield b'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{}}\n\n'
        await asyncio.sleep(5)
        yield b""

    return StreamingResponse(events(), media_type="text/event-stream")


async def leak(request: Request) -> Response:
    """An error that quotes the credentials it was sent (as some providers' messages do)."""
    await request.body()
    quoted = f"{request.headers.get('authorization')} {request.headers.get('x-api-key')} " \
             f"{request.headers.get('x-secret-header')}"
    return JSONResponse({"error": {"message": f"invalid key: {quoted}", "type": "invalid_request_error",
                                   "code": "invalid_api_key", "param": None}}, status_code=401)


async def fail(request: Request) -> Response:
    await request.body()
    status = int(request.path_params["status"])
    return JSONResponse({"type": "error", "error": {"type": "overloaded_error", "message": "busy, try later"}},
                        status_code=status)


def app() -> Starlette:
    return Starlette(routes=[
        Route("/echo/v1/responses", echo, methods=["POST"]),
        Route("/echo/v1/messages", echo, methods=["POST"]),
        Route("/slow/v1/responses", slow, methods=["POST"]),
        Route("/stall/v1/responses", stall, methods=["POST"]),
        Route("/leak/v1/responses", leak, methods=["POST"]),
        Route("/leak/v1/messages", leak, methods=["POST"]),
        Route("/fail/{status:int}/v1/messages", fail, methods=["POST"]),
        Route("/fail/{status:int}/v1/responses", fail, methods=["POST"]),
    ])


@contextmanager
def serving(application: Any) -> Iterator[str]:
    """`application` on a free port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the stub upstream did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
