"""A small HashiCorp Vault for tests: the KV version 2 secrets engine's HTTP API on 127.0.0.1.

It serves the documented endpoints over real HTTP (uvicorn, ephemeral port) in the test's event
loop: `GET/POST/PUT/DELETE /v1/<mount>/data/<path>` (read with `?version=`, write with `options.cas`,
soft-delete of the latest version) and `GET /v1/<mount>/metadata/<path>` (versions), with Vault's
JSON envelopes and `{"errors": [...]}` bodies. Requests must carry the token in `X-Vault-Token`
(403 "permission denied" otherwise). It records each request's method, path and whether the token
was right, never the token.

    async with VaultServer(token="root") as vault:
        await vault.write("secret", "team/db", {"password": "pw"})
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class _Version:
    data: dict[str, Any]
    created_time: str = field(default_factory=_now)
    deletion_time: str = ""

    def metadata(self, number: int) -> dict[str, Any]:
        return {"created_time": self.created_time, "custom_metadata": None, "deletion_time": self.deletion_time,
                "destroyed": False, "version": number}


@dataclass
class _Secret:
    versions: dict[int, _Version] = field(default_factory=dict)
    created_time: str = field(default_factory=_now)

    @property
    def current_version(self) -> int:
        return max(self.versions, default=0)


@dataclass(frozen=True)
class Served:
    method: str
    path: str
    authorized: bool


class VaultServer:
    """Vault's KV v2 engine at the given mounts, guarded by one token."""

    def __init__(self, token: str, mounts: tuple[str, ...] = ("secret",)) -> None:
        self.token = token
        self.mounts: dict[str, dict[str, _Secret]] = {mount: {} for mount in mounts}
        self.requests: list[Served] = []
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.app = Starlette(routes=[
            Route("/v1/{mount}/data/{path:path}", self._data, methods=["GET", "POST", "PUT", "DELETE"]),
            Route("/v1/{mount}/metadata/{path:path}", self._metadata, methods=["GET"]),
        ])

    # --- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_config=None, access_log=False,
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # start-up failed: raise its error
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task

    @property
    def address(self) -> str:
        assert self._server is not None, "start the server first"
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    # --- a client, as an operator would write secrets -----------------------------------------

    async def write(self, mount: str, path: str, data: dict[str, Any], *, cas: int | None = None) -> int:
        """Write a new version through the HTTP API; returns its number."""
        body: dict[str, Any] = {"data": data, **({"options": {"cas": cas}} if cas is not None else {})}
        async with httpx.AsyncClient(base_url=self.address) as client:
            response = await client.post(f"/v1/{mount}/data/{path}", json=body, headers={"X-Vault-Token": self.token})
        response.raise_for_status()
        return int(response.json()["data"]["version"])

    # --- the API ------------------------------------------------------------------------------

    async def _data(self, request: Request) -> Response:
        denied = self._check(request)
        if denied is not None:
            return denied
        mount, path = request.path_params["mount"], request.path_params["path"]
        secrets = self.mounts.get(mount)
        if secrets is None:
            return _errors(404, f'no handler for route "{mount}/data/{path}". route entry not found.')
        secret = secrets.get(path)
        if request.method in {"POST", "PUT"}:
            return await self._write(request, secrets, path)
        if secret is None:
            return _errors(404)
        if request.method == "DELETE":
            secret.versions[secret.current_version].deletion_time = _now()
            return Response(status_code=204)
        number = int(request.query_params.get("version") or secret.current_version)
        version = secret.versions.get(number)
        if version is None:
            return _errors(404)
        if version.deletion_time:  # Vault answers 404 with the metadata and null data
            return _envelope({"data": None, "metadata": version.metadata(number)}, status=404)
        return _envelope({"data": version.data, "metadata": version.metadata(number)})

    async def _write(self, request: Request, secrets: dict[str, _Secret], path: str) -> Response:
        try:
            body = await request.json()
            data = body["data"]
        except (ValueError, KeyError, TypeError):
            return _errors(400, "no data provided")
        if not isinstance(data, dict):
            return _errors(400, "data must be an object")
        secret = secrets.setdefault(path, _Secret())
        cas = (body.get("options") or {}).get("cas")
        if cas is not None and cas != secret.current_version:
            return _errors(400, "check-and-set parameter did not match the current version")
        number = secret.current_version + 1
        secret.versions[number] = _Version(dict(data))
        return _envelope(secret.versions[number].metadata(number))

    async def _metadata(self, request: Request) -> Response:
        denied = self._check(request)
        if denied is not None:
            return denied
        secret = self.mounts.get(request.path_params["mount"], {}).get(request.path_params["path"])
        if secret is None:
            return _errors(404)
        versions = {str(n): {k: v for k, v in version.metadata(n).items() if k not in {"version", "custom_metadata"}}
                    for n, version in secret.versions.items()}
        return _envelope({
            "cas_required": False, "created_time": secret.created_time, "current_version": secret.current_version,
            "custom_metadata": None, "delete_version_after": "0s", "max_versions": 0, "oldest_version": 0,
            "updated_time": secret.versions[secret.current_version].created_time, "versions": versions})

    def _check(self, request: Request) -> Response | None:
        authorized = request.headers.get("x-vault-token") == self.token
        self.requests.append(Served(request.method, request.url.path, authorized))
        return None if authorized else _errors(403, "permission denied")


def _envelope(data: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse({"request_id": str(uuid.uuid4()), "lease_id": "", "renewable": False, "lease_duration": 0,
                         "data": data, "wrap_info": None, "warnings": None, "auth": None, "mount_type": "kv"},
                        status_code=status)


def _errors(status: int, *messages: str) -> JSONResponse:
    return JSONResponse({"errors": list(messages)}, status_code=status)
