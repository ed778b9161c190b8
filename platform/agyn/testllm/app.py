"""The test LLM's HTTP app: `/{suite}/v1/responses` (OpenAI) and `/{suite}/v1/messages` (Anthropic).

The platform mounts it at `/testllm`, so a provider endpoint `http://host:port/testllm/<suite>/v1`
works like any base URL. It has no authentication, on purpose: it is a scripted stand-in for a
model, holds no data, and ignores any `Authorization` or `x-api-key` a client sends. Every bad
request gets a 400 (or 404) in the calling protocol's own error shape, never a crash.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agyn.settings import Settings
from agyn.testllm import anthropic_messages, openai_responses
from agyn.testllm.errors import TestLLMError, invalid_request, not_found
from agyn.testllm.matching import Match, RequestItem, match_input
from agyn.testllm.suites import ScriptItem, Suite, SuiteStore, describe_suites, suite_directories

log = logging.getLogger("agyn.testllm")

MOUNT_PATH = "/testllm"

ErrorRenderer = Callable[[TestLLMError], dict[str, Any]]


def create_testllm_app(store: SuiteStore) -> FastAPI:
    """The test LLM over the suites of `store`; mount it (the platform uses `MOUNT_PATH`)."""
    app = FastAPI(title="Agyn test LLM", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/{suite_name}/v1/responses")
    async def responses(suite_name: str, request: Request) -> Response:
        return await _answer(request, openai_responses.error_body, lambda body: _responses(store, suite_name, body))

    @app.post("/{suite_name}/v1/messages")
    async def messages(suite_name: str, request: Request) -> Response:
        return await _answer(request, anthropic_messages.error_body, lambda body: _messages(store, suite_name, body))

    @app.get("/")
    async def index() -> dict[str, Any]:
        """The suites served, their tests, and the files that failed to load."""
        return {
            "suites": [{"name": name, "protocol": suite.protocol, "tests": sorted(suite.tests),
                        "file": str(store.source(name))} for name, suite in sorted(store.suites().items())],
            "errors": [str(error) for error in store.errors()],
        }

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        renderer = anthropic_messages.error_body if request.url.path.endswith("/messages") else (
            openai_responses.error_body)
        problem = TestLLMError(error.status_code, "not_found_error" if error.status_code == 404 else
                               "invalid_request_error", "not_found" if error.status_code == 404 else "invalid_request",
                               f"{request.method} {request.url.path}: {error.detail}; the test LLM serves "
                               "POST /<suite>/v1/responses and POST /<suite>/v1/messages")
        return JSONResponse(renderer(problem), status_code=error.status_code)

    return app


def create_standalone_app(store: SuiteStore) -> FastAPI:
    """An app serving only the test LLM, at the same `/testllm` path as the platform."""
    app = FastAPI(title="Agyn test LLM", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount(MOUNT_PATH, create_testllm_app(store))
    return app


def store_for(data_dir: Path | None, suites_dir: Path | None, check_interval: float = 0.0) -> SuiteStore:
    """The platform's store: bundled suites, `<data dir>/testllm/`, and the configured suites directory."""
    return SuiteStore(suite_directories(data_dir, suites_dir), check_interval)


def store_for_settings(settings: Settings) -> SuiteStore:
    """The store for a platform process: `AGYN_DATA_DIR` and `AGYN_TESTLLM__SUITES_DIR`."""
    return store_for(settings.data_dir, settings.testllm.suites_dir)


async def _answer(request: Request, render: ErrorRenderer,
                  handle: Callable[[object], Awaitable[Response]]) -> Response:
    try:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise invalid_request("invalid_json", "The request body is not valid JSON") from None
        return await handle(body)
    except TestLLMError as error:
        return JSONResponse(render(error), status_code=error.status)
    except Exception:
        log.exception("test LLM failed on %s", request.url.path)
        return JSONResponse(render(TestLLMError(500, "api_error", "internal_error", "The test LLM failed; "
                                                "its log says why")), status_code=500)


def _suite(store: SuiteStore, name: str, protocol: str) -> Suite:
    suite = store.get(name)
    if suite is None:
        known = ", ".join(sorted(store.suites())) or "none"
        problems = "".join(f"; {error}" for error in store.errors_for(name))
        raise not_found("suite_not_found", f"Suite {name!r} not found (suites: {known}){problems}")
    if suite.protocol != protocol:
        endpoint = "/v1/messages" if suite.protocol == "anthropic" else "/v1/responses"
        raise invalid_request("suite_protocol_mismatch",
                              f"Suite {name!r} speaks the {suite.protocol} protocol: call {endpoint}")
    return suite


def _test(suite: Suite, model: str) -> list[ScriptItem]:
    script = suite.tests.get(model)
    if script is None:
        raise not_found("model_not_found", f"Test (model) {model!r} not found in suite {suite.name!r} "
                                           f"(tests: {', '.join(sorted(suite.tests))})")
    return script


def _matched(suite: Suite, model: str, script: Sequence[ScriptItem], items: Sequence[RequestItem],
             single_output: bool) -> list[ScriptItem]:
    result = match_input(script, items, single_output=single_output)
    if not isinstance(result, Match):
        log.info("test LLM %s/%s: %s: %s", suite.name, model, result.code, result.message)
        raise invalid_request(result.code, result.message)
    return result.outputs


async def _responses(store: SuiteStore, suite_name: str, body: object) -> Response:
    request = openai_responses.parse_request(body)
    suite = _suite(store, suite_name, "openai")
    script = _test(suite, request.model)
    outputs = _matched(suite, request.model, script, request.items, single_output=False)
    response = openai_responses.build_response(request, outputs)
    if request.stream:
        return _event_stream(openai_responses.stream_events(response))
    return JSONResponse(response)


async def _messages(store: SuiteStore, suite_name: str, body: object) -> Response:
    request = anthropic_messages.parse_request(body)
    suite = _suite(store, suite_name, "anthropic")
    script = _test(suite, request.model)
    outputs = _matched(suite, request.model, script, request.items_for(script), single_output=True)
    message = anthropic_messages.build_message(request, outputs[0])
    if request.stream:
        return _event_stream(anthropic_messages.stream_events(message))
    return JSONResponse(message)


def _event_stream(events: Sequence[tuple[str, dict[str, Any]]]) -> StreamingResponse:
    return StreamingResponse(sse_frames(events), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


async def sse_frames(events: Sequence[tuple[str, dict[str, Any]]]) -> AsyncIterator[bytes]:
    """One chunk an event, on the event loop (a plain iterator would cost a worker-thread hop per event)."""
    for kind, data in events:
        yield f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


__all__ = ["MOUNT_PATH", "create_standalone_app", "create_testllm_app", "describe_suites", "store_for",
           "store_for_settings"]
