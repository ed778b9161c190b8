"""The Kubernetes runner: a workload is a Pod (with its Secret and volume claims, `pods.py` says how),
through the official client. The client is synchronous: each call runs in a worker thread, a followed
log stream in a thread of its own, so the event loop never blocks. A watch on the runner's Pods tells
`on_change` when one of them changes (the orchestrator looks at once); the orchestrator's tick is the
fallback, as events are hints. The watch also keeps the Pods it saw, so a pass's inspections read
memory instead of asking the API server once per workload; a Pod it has not seen is read from the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError

from agyn.runners import pods
from agyn.runners.runtime import Observed, StartFailed, WorkloadSpec
from agyn.settings import KubernetesSettings

log = logging.getLogger("agyn.runners.kubernetes")

WATCH_SECONDS = 30
REQUEST_TIMEOUT = 30
"""Seconds one API call may take: a hung API server does not hold a pass (or a stopping runner) forever."""


def api_client(settings: KubernetesSettings) -> Any:
    """A client for the configured cluster: a kubeconfig when one is set, else the in-cluster service
    account, else ~/.kube/config."""
    if settings.kubeconfig is not None:
        return config.new_client_from_config(config_file=str(settings.kubeconfig), context=settings.context)
    try:
        configuration = client.Configuration()
        config.load_incluster_config(client_configuration=configuration)
        return client.ApiClient(configuration)
    except config.ConfigException:
        return config.new_client_from_config(context=settings.context)


def in_cluster_namespace() -> str | None:
    path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    return path.read_text().strip() if path.is_file() else None


async def call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """One API call in a worker thread; its JSON as the API sent it (None for an empty body)."""
    response = await asyncio.to_thread(method, *args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT,
                                       **kwargs)
    body = response.data
    return json.loads(body) if body else None


class KubernetesRuntime:
    def __init__(self, settings: KubernetesSettings, *, stop_grace: float = 10.0,
                 on_change: Callable[[uuid.UUID], None] | None = None) -> None:
        self.settings = settings
        self.options = pods.PodOptions(settings.namespace, settings.runtime_image, settings.runtime_command,
                                       settings.storage_class, int(stop_grace))
        self.api = client.CoreV1Api(api_client(settings))
        self.on_change = on_change
        """Called (in the event loop) when one of the runner's Pods changes."""
        self._watching: threading.Thread | None = None
        self._closed = threading.Event()
        self._seen: dict[uuid.UUID, dict[str, Any]] = {}
        """The Pods as the watch last saw them (written by its thread)."""

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    # --- the interface --------------------------------------------------------------------------

    async def start(self, spec: WorkloadSpec) -> None:
        """The Secret, the claims, then the Pod; each one that exists already is left as it is."""
        try:
            await self._create(self.api.create_namespaced_secret, pods.secret(spec, self.options))
            for claim in pods.claims(spec, self.options):
                await self._create(self.api.create_namespaced_persistent_volume_claim, claim)
            await self._create(self.api.create_namespaced_pod, pods.pod(spec, self.options))
        except ApiException as error:
            raise StartFailed(f"the Kubernetes API refused the workload's objects: {_reason(error)}") from None
        except HTTPError as error:
            raise StartFailed(f"the Kubernetes API cannot be reached: {error}") from None

    async def _create(self, method: Callable[..., Any], body: dict[str, Any]) -> None:
        try:
            await call(method, self.namespace, body)
        except ApiException as error:
            if error.status != 409:  # already there: a start is safe to repeat
                raise

    async def inspect(self, workload_id: uuid.UUID) -> Observed:
        found = self._seen.get(workload_id)
        if found is None:
            try:
                found = await call(self.api.read_namespaced_pod, pods.pod_name(workload_id), self.namespace)
            except ApiException as error:
                if error.status != 404:
                    raise
        return pods.observe_pod(workload_id, found, datetime.now(UTC), start_grace=self.settings.start_grace_seconds,
                                crashloop_threshold=self.settings.crashloop_threshold)

    async def stop(self, workload_id: uuid.UUID) -> None:
        """Delete the Pod (its containers get the grace period) and its Secret; claims stay."""
        for method, name in ((self.api.delete_namespaced_pod, pods.pod_name(workload_id)),
                             (self.api.delete_namespaced_secret, pods.secret_name(workload_id))):
            try:
                await call(method, name, self.namespace)
            except ApiException as error:
                if error.status != 404:
                    raise

    async def remove_volume(self, volume_id: uuid.UUID, thread_id: uuid.UUID) -> bool:
        """Delete the thread's claim of the volume (a scratch volume has none: an emptyDir goes with its Pod)."""
        try:
            await call(self.api.delete_namespaced_persistent_volume_claim, pods.claim_name(volume_id, thread_id),
                       self.namespace)
        except ApiException as error:
            if error.status != 404:
                raise
        return True

    async def list(self) -> list[uuid.UUID]:
        """Every workload with a labelled Pod or Secret here (a Secret whose Pod is gone counts: a stop
        removes both)."""
        found: set[uuid.UUID] = set()
        for method in (self.api.list_namespaced_pod, self.api.list_namespaced_secret):
            listing = await call(method, self.namespace, label_selector=pods.MANAGED)
            for item in listing.get("items", []):
                value = ((item.get("metadata") or {}).get("labels") or {}).get(pods.WORKLOAD_ID)
                with contextlib.suppress(TypeError, ValueError):
                    found.add(uuid.UUID(value))
        return sorted(found)

    async def logs(self, workload_id: uuid.UUID, container: str, follow: bool) -> AsyncIterator[bytes]:
        """The container's log from the API; with `follow`, until the container ends."""
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=64)
        stopped = threading.Event()

        def put(item: bytes | BaseException | None) -> None:
            asyncio.run_coroutine_threadsafe(chunks.put(item), loop).result()

        def read() -> None:  # a thread of its own: a followed stream may last as long as the workload
            try:
                response = self.api.read_namespaced_pod_log(pods.pod_name(workload_id), self.namespace,
                                                            container=container, follow=follow,
                                                            _preload_content=False)
                try:
                    for chunk in response.stream(65536):
                        if stopped.is_set():
                            return
                        put(chunk)
                finally:
                    response.release_conn()
                put(None)
            except ApiException as error:
                put(None if error.status in (400, 404) else error)  # no such Pod or container: no logs
            except BaseException as error:  # handed to the reader, which raises it
                if not stopped.is_set():
                    put(error)

        reader = threading.Thread(target=read, name=f"logs-{workload_id}", daemon=True)
        reader.start()
        try:
            while (item := await chunks.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stopped.set()
            with contextlib.suppress(asyncio.QueueEmpty):
                chunks.get_nowait()  # unblock a reader waiting to put

    # --- watching -------------------------------------------------------------------------------

    def watch(self) -> None:
        """Start telling `on_change` about the runner's Pods (from a thread of its own, which ends with
        `close` or the process)."""
        if self._watching is None and self.on_change is not None:
            self._watching = threading.Thread(target=self._watch, args=(asyncio.get_running_loop(),),
                                              name="kubernetes-pods-watch", daemon=True)
            self._watching.start()

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._closed.is_set():
            self._seen = {}  # a new watch lists every Pod again; what went in between is forgotten
            try:
                stream = _RawWatch()
                for event in stream.stream(self.api.list_namespaced_pod, self.namespace,
                                           label_selector=pods.MANAGED, timeout_seconds=WATCH_SECONDS):
                    if self._closed.is_set():
                        stream.stop()
                        return
                    found = event["raw_object"]
                    labels = (found.get("metadata") or {}).get("labels") or {}
                    with contextlib.suppress(TypeError, ValueError):
                        workload_id = uuid.UUID(labels.get(pods.WORKLOAD_ID))
                        if event["type"] == "DELETED":
                            self._seen.pop(workload_id, None)
                        elif event["type"] in ("ADDED", "MODIFIED"):
                            self._seen[workload_id] = found
                        if self.on_change is not None and not loop.is_closed():
                            loop.call_soon_threadsafe(self.on_change, workload_id)
            except Exception as error:  # a broken watch is started again
                if not self._closed.is_set():
                    log.warning("the watch on workload Pods broke; watching again", extra={"error": repr(error)})
                    self._closed.wait(1)

    async def close(self) -> None:
        """Stop watching; the Pods keep running (the next orchestrator finds them)."""
        self._closed.set()
        self._watching = None
        self._seen = {}


class _RawWatch(watch.Watch):  # type: ignore[misc]
    """Events' objects as the API sent them: JSON, like every other read here (the client's models
    would refuse a status with fields they do not know yet)."""

    def get_return_type(self, func: Callable[..., Any]) -> None:
        return None


def _reason(error: ApiException) -> str:
    try:
        return str(json.loads(error.body).get("message") or error.reason)
    except (TypeError, ValueError):
        return str(error.reason)
