"""A small OpenFGA server for tests: the real HTTP API (the endpoints `openfga-sdk` calls), backed by
the embedded engine. No OpenFGA server can be installed here, so this double speaks its protocol:
paths, JSON shapes, status codes, ULID ids, continuation tokens and its limits (100 tuples per Write,
50 checks per BatchCheck, 100 tuples per Read page).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agyn.authorization import dsl
from agyn.authorization.backends import validate_read_filter
from agyn.authorization.engine import AuthorizationError, Engine, InMemoryTupleStore, TupleKey

MAX_TUPLES_PER_WRITE = 100
MAX_CHECKS_PER_BATCH = 50
MAX_READ_PAGE_SIZE = 100
DEFAULT_READ_PAGE_SIZE = 50
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid() -> str:
    """48-bit millisecond time + 80 random bits in Crockford base32, as OpenFGA's ids."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Store:
    id: str
    name: str
    created_at: str
    tuples: InMemoryTupleStore = field(default_factory=InMemoryTupleStore)
    written_at: dict[TupleKey, str] = field(default_factory=dict)
    models: dict[str, Engine] = field(default_factory=dict)
    latest_model_id: str | None = None


class FakeOpenFga:
    """The server's state and its Starlette app; `requests` records (path, JSON body) of every call,
    `authorization_headers` their Authorization headers."""

    def __init__(self) -> None:
        self.stores: dict[str, Store] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.authorization_headers: list[str | None] = []
        self.refuse_writes = False  # a server that answers but will not write (to test what fails after commit)
        self.app = Starlette(
            routes=[
                Route("/stores", self.create_store, methods=["POST"]),
                Route("/stores/{store_id}/authorization-models", self.write_model, methods=["POST"]),
                Route("/stores/{store_id}/check", self.check, methods=["POST"]),
                Route("/stores/{store_id}/batch-check", self.batch_check, methods=["POST"]),
                Route("/stores/{store_id}/write", self.write, methods=["POST"]),
                Route("/stores/{store_id}/read", self.read, methods=["POST"]),
                Route("/stores/{store_id}/list-objects", self.list_objects, methods=["POST"]),
            ],
            exception_handlers={ApiError: _api_error, AuthorizationError: _input_error},
        )

    def calls(self, endpoint: str) -> list[dict[str, Any]]:
        """Bodies of the requests whose path ends with `endpoint` (e.g. "/write")."""
        return [body for path, body in self.requests if path.endswith(endpoint)]

    # --- plumbing ---------------------------------------------------------------------------------

    async def _body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError as exc:
            raise ApiError(400, "validation_error", f"invalid JSON body: {exc}") from exc
        self.requests.append((request.url.path, body))
        self.authorization_headers.append(request.headers.get("authorization"))
        return body

    def _store(self, request: Request) -> Store:
        store = self.stores.get(request.path_params["store_id"])
        if store is None:
            raise ApiError(404, "store_id_not_found", "store not found")
        return store

    def _engine(self, store: Store, body: dict[str, Any]) -> Engine:
        model_id = body.get("authorization_model_id") or store.latest_model_id
        if model_id is None:
            raise ApiError(400, "latest_authorization_model_not_found", "no authorization model in the store")
        engine = store.models.get(model_id)
        if engine is None:
            raise ApiError(400, "authorization_model_not_found", f"authorization model {model_id} not found")
        return engine

    @staticmethod
    def _tuple(raw: Any) -> TupleKey:
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("user", "relation", "object")):
            raise ApiError(400, "validation_error", f"invalid tuple key {raw!r}")
        return TupleKey(raw["user"], raw["relation"], raw["object"])

    def _contextual(self, body: dict[str, Any]) -> list[TupleKey]:
        return [self._tuple(t) for t in (body.get("contextual_tuples") or {}).get("tuple_keys") or []]

    # --- endpoints --------------------------------------------------------------------------------

    async def create_store(self, request: Request) -> JSONResponse:
        body = await self._body(request)
        if not body.get("name"):
            raise ApiError(400, "validation_error", "name is required")
        now = _now()
        store = Store(new_ulid(), body["name"], now)
        self.stores[store.id] = store
        return JSONResponse({"id": store.id, "name": store.name, "created_at": now, "updated_at": now}, 201)

    async def write_model(self, request: Request) -> JSONResponse:
        store = self._store(request)
        body = await self._body(request)
        try:
            engine = Engine(dsl.from_json(body))
        except (dsl.ModelError, KeyError, TypeError) as exc:
            raise ApiError(400, "invalid_authorization_model", str(exc)) from exc
        model_id = new_ulid()
        store.models[model_id] = engine
        store.latest_model_id = model_id
        return JSONResponse({"authorization_model_id": model_id}, 201)

    async def check(self, request: Request) -> JSONResponse:
        store = self._store(request)
        body = await self._body(request)
        engine = self._engine(store, body)
        key = self._tuple(body.get("tuple_key"))
        allowed = engine.check(store.tuples, key.user, key.relation, key.object, self._contextual(body))
        return JSONResponse({"allowed": allowed, "resolution": ""})

    async def batch_check(self, request: Request) -> JSONResponse:
        store = self._store(request)
        body = await self._body(request)
        engine = self._engine(store, body)
        checks = body.get("checks") or []
        if not checks or len(checks) > MAX_CHECKS_PER_BATCH:
            raise ApiError(400, "validation_error", f"checks must hold 1 to {MAX_CHECKS_PER_BATCH} items")
        if len({c.get("correlation_id") for c in checks}) != len(checks):
            raise ApiError(400, "validation_error", "duplicate correlation_id")
        result: dict[str, Any] = {}
        for item in checks:
            key = self._tuple(item.get("tuple_key"))
            try:
                allowed = engine.check(store.tuples, key.user, key.relation, key.object, self._contextual(item))
                result[item["correlation_id"]] = {"allowed": allowed}
            except AuthorizationError as exc:
                result[item["correlation_id"]] = {"error": {"input_error": "validation_error", "message": str(exc)}}
        return JSONResponse({"result": result})

    async def write(self, request: Request) -> JSONResponse:
        """Atomic: every tuple is checked before any is applied."""
        if self.refuse_writes:
            raise ApiError(400, "validation_error", "this server refuses writes")
        store = self._store(request)
        body = await self._body(request)
        engine = self._engine(store, body)
        writes_part, deletes_part = body.get("writes") or {}, body.get("deletes") or {}
        writes = [self._tuple(t) for t in writes_part.get("tuple_keys") or []]
        deletes = [self._tuple(t) for t in deletes_part.get("tuple_keys") or []]
        if not writes and not deletes:
            raise ApiError(400, "invalid_write_input", "writes and deletes are both empty")
        if len(writes) + len(deletes) > MAX_TUPLES_PER_WRITE:
            raise ApiError(
                400, "exceeded_entity_limit", f"number of write operations exceeds the limit {MAX_TUPLES_PER_WRITE}"
            )
        if len(set(writes + deletes)) != len(writes) + len(deletes):
            raise ApiError(400, "cannot_allow_duplicate_tuples_in_one_request", "duplicate tuple in one request")
        for key in writes:
            engine.validate_tuple(key)
            if key in store.tuples and writes_part.get("on_duplicate") != "ignore":
                raise ApiError(400, "write_failed_due_to_invalid_input", f"cannot write an existing tuple: {key}")
        for key in deletes:
            if key not in store.tuples and deletes_part.get("on_missing") != "ignore":
                raise ApiError(400, "write_failed_due_to_invalid_input", f"cannot delete a missing tuple: {key}")
        for key in deletes:
            store.tuples.remove(key)
            store.written_at.pop(key, None)
        for key in writes:
            if store.tuples.add(key):
                store.written_at[key] = _now()
        return JSONResponse({})

    async def read(self, request: Request) -> JSONResponse:
        store = self._store(request)
        body = await self._body(request)
        page_size = body.get("page_size") or DEFAULT_READ_PAGE_SIZE
        if not 1 <= page_size <= MAX_READ_PAGE_SIZE:
            raise ApiError(400, "validation_error", f"page_size must be between 1 and {MAX_READ_PAGE_SIZE}")
        key = body.get("tuple_key") or {}
        user, relation, obj = key.get("user"), key.get("relation"), key.get("object")
        validate_read_filter(user, relation, obj)
        matches = list(store.tuples.read(user, relation, obj))
        offset = _decode_token(body.get("continuation_token"))
        page = matches[offset : offset + page_size]
        more = offset + page_size < len(matches)
        return JSONResponse(
            {
                "tuples": [
                    {
                        "key": {"user": t.user, "relation": t.relation, "object": t.object},
                        "timestamp": store.written_at[t],
                    }
                    for t in page
                ],
                "continuation_token": _encode_token(offset + page_size) if more else "",
            }
        )

    async def list_objects(self, request: Request) -> JSONResponse:
        store = self._store(request)
        body = await self._body(request)
        engine = self._engine(store, body)
        if not all(isinstance(body.get(k), str) for k in ("user", "relation", "type")):
            raise ApiError(400, "validation_error", "user, relation and type are required")
        objects = engine.list_objects(
            store.tuples, body["user"], body["relation"], body["type"], self._contextual(body)
        )
        return JSONResponse({"objects": objects})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(400, "invalid_continuation_token", "invalid continuation token") from exc


def _error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _error_response(exc.status, exc.code, exc.message)


async def _input_error(_: Request, exc: Exception) -> JSONResponse:
    """The engine's rejections are OpenFGA's 400 validation errors."""
    return _error_response(400, "validation_error", str(exc))


@asynccontextmanager
async def serve(fake: FakeOpenFga) -> AsyncIterator[str]:
    """Run the fake on 127.0.0.1 with an ephemeral port, in this event loop; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
