"""A small Kubernetes API server for tests: the REST paths of the objects the runner and the Lease use,
over real HTTP (uvicorn, ephemeral port) in the test's event loop, for the official client to talk to
through a kubeconfig.

Served: Pods (`/api/v1/namespaces/{ns}/pods[/{name}]`: list with `labelSelector` and `watch=true`,
create, read, delete; `/{name}/log` with `container` and `follow`), Secrets and PersistentVolumeClaims
(list, create, read, delete) and `coordination.k8s.io/v1` Leases (create, read, replace with
`resourceVersion` conflicts). Errors are `Status` objects with the API's codes (404 NotFound, 409
AlreadyExists / Conflict, 401 without the bearer token). Objects get a uid, a `resourceVersion` and a
`creationTimestamp`; a created Pod is `Pending` with no container statuses until a test sets them
(`set_pod_status`), as a kubelet would. What is not modelled: scheduling, kubelets, garbage collection,
admission (the tests validate what is sent against the OpenAPI schemas instead).

    async with KubeApiServer(token="t") as kube:
        kubeconfig = kube.kubeconfig(tmp_path)
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

KINDS = {"pods": "Pod", "secrets": "Secret", "persistentvolumeclaims": "PersistentVolumeClaim", "leases": "Lease"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(code: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                         "message": message, "reason": reason, "code": code}, status_code=code)


def _matches(labels: dict[str, str], selector: str | None) -> bool:
    for term in filter(None, (selector or "").split(",")):
        key, eq, value = term.partition("=")
        if (eq and labels.get(key) != value) or (not eq and key not in labels):
            return False
    return True


class KubeApiServer:
    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        """(plural, namespace, name) → the object as stored."""
        self.logs: dict[tuple[str, str], bytes] = {}
        self.requests: list[tuple[str, str]] = []
        self.before_next_write: Callable[[], Awaitable[object]] | None = None
        """Runs once before the next PUT is handled: another writer that gets in first."""
        self._version = 0
        self._changed = asyncio.Condition()
        self._events: list[tuple[int, str, str, dict[str, Any]]] = []
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        core = "/api/v1/namespaces/{namespace}/{plural}"
        leases = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/{plural}"
        self.app = Starlette(routes=[
            Route(core, self._collection, methods=["GET", "POST"]),
            Route(core + "/{name}", self._item, methods=["GET", "DELETE", "PUT"]),
            Route(core + "/{name}/log", self._log, methods=["GET"]),
            Route(leases, self._collection, methods=["GET", "POST"]),
            Route(leases + "/{name}", self._item, methods=["GET", "DELETE", "PUT"]),
        ])

    # --- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_config=None, access_log=False,
                                lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        async with self._changed:
            self._changed.notify_all()
        await self._task

    @property
    def address(self) -> str:
        assert self._server is not None, "start the server first"
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def kubeconfig(self, directory: Path) -> Path:
        """A kubeconfig pointing at this server, as `kubectl config` would write it."""
        path = directory / "kubeconfig"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "test", "cluster": {"server": self.address}}],
            "users": [{"name": "test", "user": {"token": self.token}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}]}))
        return path

    # --- what tests look at and set -------------------------------------------------------------

    def items(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return [o for (p, ns, _), o in sorted(self.objects.items()) if p == plural and namespace in (None, ns)]

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((plural, namespace, name))

    async def set_pod_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """What a kubelet would report: the Pod's phase and its containers' states."""
        found = self.objects[("pods", namespace, name)]
        found["status"] = status
        await self._record("MODIFIED", "pods", found)

    async def age_pod(self, namespace: str, name: str, seconds: float) -> None:
        """Move the Pod's creation back in time (a grace period has passed)."""
        found = self.objects[("pods", namespace, name)]
        created = datetime.fromisoformat(found["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
        moved = datetime.fromtimestamp(created.timestamp() - seconds, UTC)
        found["metadata"]["creationTimestamp"] = moved.strftime("%Y-%m-%dT%H:%M:%SZ")
        await self._record("MODIFIED", "pods", found)  # a watcher sees the Pod as it now is

    async def remove(self, plural: str, namespace: str, name: str) -> None:
        """The object goes without the runner asking (a node lost, someone's kubectl delete)."""
        found = self.objects.pop((plural, namespace, name))
        await self._record("DELETED", plural, found)

    # --- the API ------------------------------------------------------------------------------

    def _denied(self, request: Request) -> Response | None:
        self.requests.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized", "Unauthorized")
        return None

    async def _record(self, kind: str, plural: str, found: dict[str, Any]) -> None:
        self._version += 1
        found["metadata"]["resourceVersion"] = str(self._version)
        self._events.append((self._version, kind, plural, copy.deepcopy(found)))
        async with self._changed:
            self._changed.notify_all()

    async def _collection(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        namespace, plural = request.path_params["namespace"], request.path_params["plural"]
        if plural not in KINDS:
            return _status(404, "NotFound", f"the server could not find the requested resource ({plural})")
        if request.method == "POST":
            body = await request.json()
            if body.get("kind") != KINDS[plural]:
                return _status(400, "BadRequest", f"expected a {KINDS[plural]}, got {body.get('kind')}")
            metadata = body.setdefault("metadata", {})
            name = metadata.get("name")
            if not name:
                return _status(422, "Invalid", f"{KINDS[plural]} is invalid: metadata.name: Required value")
            if (plural, namespace, name) in self.objects:
                return _status(409, "AlreadyExists", f'{plural} "{name}" already exists')
            metadata.update(namespace=namespace, uid=str(uuid.uuid4()), creationTimestamp=_now())
            if plural == "pods":
                body["status"] = {"phase": "Pending"}
            self.objects[(plural, namespace, name)] = body
            await self._record("ADDED", plural, body)
            return JSONResponse(body, status_code=201)
        selector = request.query_params.get("labelSelector")
        if request.query_params.get("watch") in ("true", "1"):
            return StreamingResponse(self._watch(plural, namespace, selector,
                                                 int(request.query_params.get("resourceVersion") or 0),
                                                 float(request.query_params.get("timeoutSeconds") or 30)),
                                     media_type="application/json")
        found = [o for o in self.items(plural, namespace) if _matches(o["metadata"].get("labels") or {}, selector)]
        return JSONResponse({"kind": f"{KINDS[plural]}List", "apiVersion": "v1",
                             "metadata": {"resourceVersion": str(self._version)}, "items": found})

    async def _watch(self, plural: str, namespace: str, selector: str | None, since: int,
                     timeout: float) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if not since:  # a watch without a version starts with what exists (as ADDED events)
            for found in self.items(plural, namespace):
                if _matches(found["metadata"].get("labels") or {}, selector):
                    yield json.dumps({"type": "ADDED", "object": found}).encode() + b"\n"
            since = self._version
        while loop.time() < deadline and self._server is not None and not self._server.should_exit:
            for version, kind, event_plural, found in self._events:
                if version > since and event_plural == plural and found["metadata"]["namespace"] == namespace \
                        and _matches(found["metadata"].get("labels") or {}, selector):
                    yield json.dumps({"type": kind, "object": found}).encode() + b"\n"
            since = self._version
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    return

    async def _item(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        namespace, plural, name = (request.path_params[k] for k in ("namespace", "plural", "name"))
        key = (plural, namespace, name)
        found = self.objects.get(key)
        if request.method == "PUT":
            body = await request.json()
            interleaved, self.before_next_write = self.before_next_write, None
            if interleaved is not None:
                await interleaved()
                found = self.objects.get(key)
            if found is None:
                return _status(404, "NotFound", f'{plural} "{name}" not found')
            if body.get("metadata", {}).get("resourceVersion") != found["metadata"]["resourceVersion"]:
                return _status(409, "Conflict", f'Operation cannot be fulfilled on {plural} "{name}": the object '
                                                "has been modified; please apply your changes to the latest version")
            body["metadata"] = {**found["metadata"], **body["metadata"]}
            self.objects[key] = body
            await self._record("MODIFIED", plural, body)
            return JSONResponse(body)
        if found is None:
            return _status(404, "NotFound", f'{plural} "{name}" not found')
        if request.method == "DELETE":
            del self.objects[key]
            await self._record("DELETED", plural, found)
            return JSONResponse({"kind": "Status", "apiVersion": "v1", "status": "Success",
                                 "details": {"name": name, "kind": plural}})
        return JSONResponse(found)

    async def _log(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        found = self.objects.get(("pods", namespace, name))
        if found is None:
            return _status(404, "NotFound", f'pods "{name}" not found')
        containers = [c["name"] for c in found["spec"]["containers"] + found["spec"].get("initContainers", [])]
        container = request.query_params.get("container") or containers[0]
        if container not in containers:
            return _status(400, "BadRequest", f"container {container} is not valid for pod {name}")
        text = self.logs.get((name, container), b"")
        if request.query_params.get("follow") != "true":
            return Response(text, media_type="text/plain")

        async def follow() -> AsyncIterator[bytes]:
            sent = 0
            while True:
                current = self.logs.get((name, container), b"")
                if len(current) > sent:
                    yield current[sent:]
                    sent = len(current)
                if ("pods", namespace, name) not in self.objects or self._server is None or self._server.should_exit:
                    return
                async with self._changed:
                    try:
                        await asyncio.wait_for(self._changed.wait(), 0.5)
                    except TimeoutError:
                        pass

        return StreamingResponse(follow(), media_type="text/plain")

    async def append_log(self, pod: str, container: str, text: bytes) -> None:
        self.logs[(pod, container)] = self.logs.get((pod, container), b"") + text
        async with self._changed:
            self._changed.notify_all()
