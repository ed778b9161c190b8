"""Leader election on Kubernetes: the leader holds a `coordination.k8s.io/v1` Lease and renews it on
every pass; a contender takes it over once it has seen the same record, unrenewed, for the lease's
duration by its own clock (so the clocks of different nodes need not agree). Writes carry the record's
`resourceVersion`: of two contenders only one wins. A leader that stops hands the Lease over at once
(an empty holder)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError

from agyn.kit.clock import Clock
from agyn.runners.kubernetes import call

log = logging.getLogger("agyn.orchestrator.lease")


class KubernetesLease:
    def __init__(self, api: Any, name: str, namespace: str, *, duration_seconds: int, clock: Clock,
                 identity: str | None = None) -> None:
        self.api = api
        """A `kubernetes.client.CoordinationV1Api`."""
        self.name = name
        self.namespace = namespace
        self.duration = duration_seconds
        self.clock = clock
        self.identity = identity or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.held = False
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._renewed_at = 0.0
        self._write_in_flight: asyncio.Future[Any] | None = None

    async def acquire(self) -> bool:
        try:
            current = await self._read()
            if current is None:
                await self._write(self.api.create_namespaced_lease, self.namespace, self._record(None))
            else:
                spec = current.get("spec") or {}
                holder = spec.get("holderIdentity")
                record = (holder, spec.get("renewTime"), current["metadata"].get("resourceVersion"))
                if record != self._observed:
                    self._observed, self._observed_at = record, self.clock.monotonic()
                expired = self.clock.monotonic() - self._observed_at >= (spec.get("leaseDurationSeconds") or 0)
                if holder and holder != self.identity and not expired:
                    self.held = False
                    return False
                await self._write(self.api.replace_namespaced_lease, self.name, self.namespace,
                                  self._record(current))
        except ApiException as error:
            if error.status == 409:  # another contender wrote first
                self.held = False
                return False
            return self._unsure(error)
        except HTTPError as error:
            return self._unsure(error)
        if not self.held:
            log.info("took the orchestrator lease", extra={"lease": self.name, "identity": self.identity})
        self.held = True
        self._renewed_at = self.clock.monotonic()
        return True

    def _unsure(self, error: Exception) -> bool:
        """The API did not answer: a leader stays one until its last renewal expires."""
        log.warning("cannot reach the Kubernetes API for the orchestrator lease", extra={"error": str(error)})
        self.held = self.held and self.clock.monotonic() - self._renewed_at < self.duration
        return self.held

    async def still_held(self) -> bool:
        return self.held and await self.acquire()

    async def release(self) -> None:
        """Hand the lease over at once: an empty holder is free to take. A write still in flight (its caller
        cancelled, its thread not) lands first, so a renewal cannot take the lease back after the hand-over."""
        if self._write_in_flight is not None:
            with contextlib.suppress(Exception):
                await self._write_in_flight
        if not self.held and self._write_in_flight is None:
            return
        self.held, self._write_in_flight = False, None
        with contextlib.suppress(Exception):
            current = await self._read()
            if current is not None and (current.get("spec") or {}).get("holderIdentity") == self.identity:
                record = self._record(current)
                record["spec"].update(holderIdentity="", leaseDurationSeconds=1)
                await call(self.api.replace_namespaced_lease, self.name, self.namespace, record)

    async def _write(self, method: Callable[..., Any], *args: Any) -> Any:
        """A write that runs to its end even when this task is cancelled (a thread cannot be stopped)."""
        self._write_in_flight = asyncio.ensure_future(call(method, *args))
        return await asyncio.shield(self._write_in_flight)

    async def _read(self) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await call(self.api.read_namespaced_lease, self.name, self.namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return found

    def _record(self, current: dict[str, Any] | None) -> dict[str, Any]:
        now = _micro_time(self.clock.now())
        spec = (current or {}).get("spec") or {}
        ours = spec.get("holderIdentity") == self.identity
        transitions = int(spec.get("leaseTransitions") or 0) + (1 if current is not None and not ours else 0)
        metadata: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        if current is not None:
            metadata["resourceVersion"] = current["metadata"]["resourceVersion"]
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
                "spec": {"holderIdentity": self.identity, "leaseDurationSeconds": self.duration,
                         "acquireTime": spec.get("acquireTime") if ours else now, "renewTime": now,
                         "leaseTransitions": transitions}}


def _micro_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
