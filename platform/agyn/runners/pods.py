"""A workload as Kubernetes objects, and a Pod's state as a workload's: pure functions over the API's
JSON, so what the Kubernetes runner sends and how it reads what it gets are tested without a cluster.

One Pod per workload (`restartPolicy: Never`, no service account token):
- init container `runtime-init` from the agent's `init_image` (default: the runtime image) copies the
  agent runtime from `/opt/agyn` into the shared `emptyDir` mounted at `/agyn`;
- init containers `init-<n>` run the init scripts (`/bin/sh -c`) in the agent's image;
- main container `runtime` from the agent's `image` runs the runtime command;
- one sidecar `mcp-<name>` per MCP server (not stdio ones: the runtime starts those), `MCP_PORT` set;
  the Pod's containers share one network namespace, so the runtime reaches them on 127.0.0.1;
- one sidecar `hook-<id>` per hook: its `function` (`/bin/sh -c`) in its image (default the agent's), with
  `AGYN_HOOK_EVENT` and its own ENVs. It starts with the Pod: nothing triggers it on its event yet.
Every ENV value (and the workload token) is in the workload's Secret, referenced by `secretKeyRef`:
never in the Pod's spec. Volumes are `emptyDir`, or a PersistentVolumeClaim per (volume, thread) that
outlives the Pod.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agyn.runners.runtime import INIT_SCRIPTS_DONE, ContainerState, Observed, WorkloadSpec

MANAGED_BY = "app.kubernetes.io/managed-by"
AGENT_ID = "agyn.io/agent-id"
THREAD_ID = "agyn.io/thread-id"
WORKLOAD_ID = "agyn.io/workload-id"
VOLUME_ID = "agyn.io/volume-id"
MANAGED = f"{MANAGED_BY}=agyn"
"""The label selector of every object the runner creates."""

MAIN = "runtime"
RUNTIME_DIR = "/agyn"
STATE_DIR = "/agyn-state"
FIRST_MCP_PORT = 8100
TOKEN = "AGYN_WORKLOAD_TOKEN"
IMAGE_PULL = frozenset({"ErrImagePull", "ImagePullBackOff"})
CONFIG_ERRORS = frozenset({"CreateContainerConfigError", "CreateContainerError", "InvalidImageName"})


@dataclass(frozen=True)
class PodOptions:
    """The runner's side of a Pod: where, with what runtime, how long a stop may take."""

    namespace: str
    runtime_image: str
    runtime_command: str
    storage_class: str | None = None
    stop_grace_seconds: int = 10


def pod_name(workload_id: uuid.UUID) -> str:
    return f"agyn-wl-{workload_id}"


def secret_name(workload_id: uuid.UUID) -> str:
    return f"agyn-wl-{workload_id}-env"


def claim_name(volume_id: uuid.UUID, thread_id: uuid.UUID) -> str:
    return f"agyn-vol-{volume_id}-{thread_id}"


def mcp_container(name: str, index: int) -> str:
    """`mcp-<name>` with `_` as `-` (MCP names have no `-`, so no two collide), `mcp-<n>` when too long."""
    candidate = f"mcp-{name.replace('_', '-')}"
    return candidate if len(candidate) <= 63 and not candidate.endswith("-") else f"mcp-{index}"


def hook_container(hook_id: str) -> str:
    return f"hook-{hook_id}"


def labels(spec: WorkloadSpec) -> dict[str, str]:
    return {MANAGED_BY: "agyn", AGENT_ID: str(spec.agent_id), THREAD_ID: str(spec.thread_id),
            WORKLOAD_ID: str(spec.workload_id)}


def _resources(values: dict[str, str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for key, value in values.items():
        kind, _, resource = key.partition("_")  # requests_cpu → requests / cpu
        if kind in ("requests", "limits") and resource in ("cpu", "memory") and value:
            found.setdefault(kind, {})[resource] = value
    return found


def _from_secret(spec: WorkloadSpec, name: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret_name(spec.workload_id), "key": key}}}


def _secret_key(*parts: str) -> str:
    return ".".join(re.sub(r"[^-._a-zA-Z0-9]", "-", part) for part in parts)


def secret_values(spec: WorkloadSpec) -> dict[str, str]:
    """What the workload's Secret holds: the runtime's ENVs (its token too), each MCP server's and each
    hook's ENVs."""
    values = {_secret_key(MAIN, name): value for name, value in spec.env.items()}
    for mcp in spec.mcps:
        values.update({_secret_key("mcp", mcp.name, name): value for name, value in mcp.env.items()})
    for hook in spec.hooks:
        values.update({_secret_key("hook", hook["id"], name): value for name, value in hook["env"].items()})
    return values


def secret(spec: WorkloadSpec, options: PodOptions) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": secret_name(spec.workload_id), "namespace": options.namespace,
                         "labels": labels(spec)},
            "data": {key: base64.b64encode(value.encode()).decode() for key, value in secret_values(spec).items()}}


def claims(spec: WorkloadSpec, options: PodOptions) -> list[dict[str, Any]]:
    """One claim per persistent volume and thread: created on the first start, reused, never deleted here."""
    found = []
    for volume in spec.volumes:
        if not volume.persistent:
            continue
        claim_spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"],
                                      "resources": {"requests": {"storage": volume.size or "1Gi"}}}
        if options.storage_class:
            claim_spec["storageClassName"] = options.storage_class
        found.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                      "metadata": {"name": claim_name(volume.volume_id, spec.thread_id),
                                   "namespace": options.namespace,
                                   "labels": {MANAGED_BY: "agyn", VOLUME_ID: str(volume.volume_id),
                                              THREAD_ID: str(spec.thread_id)}},
                      "spec": claim_spec})
    return found


def pod(spec: WorkloadSpec, options: PodOptions) -> dict[str, Any]:
    image = spec.image or options.runtime_image
    volume_mounts = [{"name": f"vol-{i}", "mountPath": v.mount_path} for i, v in enumerate(spec.volumes)]
    volumes_env = {"name": "AGYN_VOLUMES", "value": json.dumps({v.mount_path: v.mount_path for v in spec.volumes})}
    runtime_mount = {"name": "agyn-runtime", "mountPath": RUNTIME_DIR, "readOnly": True}
    state_mount = {"name": "agyn-state", "mountPath": STATE_DIR}
    agent_env = [_from_secret(spec, name, _secret_key(MAIN, name)) for name in spec.env]

    sidecars: list[dict[str, Any]] = []
    servers: list[dict[str, Any]] = []
    for index, mcp in enumerate(spec.mcps):
        if mcp.env.get("MCP_TRANSPORT") == "stdio":  # the runtime starts it and speaks over its stdio
            servers.append({"name": mcp.name, "transport": "stdio", "command": mcp.command})
            continue
        port = FIRST_MCP_PORT + index
        sidecar: dict[str, Any] = {
            "name": mcp_container(mcp.name, index), "image": mcp.image or image,
            "command": ["/bin/sh", "-c", mcp.command],
            "env": [*(_from_secret(spec, name, _secret_key("mcp", mcp.name, name)) for name in mcp.env),
                    {"name": "MCP_PORT", "value": str(port)}, volumes_env],
            "ports": [{"name": f"mcp-{index}", "containerPort": port, "protocol": "TCP"}],
            "volumeMounts": volume_mounts}
        if mcp.resources:
            sidecar["resources"] = _resources(mcp.resources)
        sidecars.append(sidecar)
        servers.append({"name": mcp.name, "transport": "streamable_http", "url": f"http://127.0.0.1:{port}/mcp"})

    hooks: list[dict[str, Any]] = []  # what the runtime is told: which container is which hook, no ENVs
    for hook in spec.hooks:
        name = hook_container(hook["id"])
        sidecars.append({
            "name": name, "image": hook.get("image") or image, "command": ["/bin/sh", "-c", hook["function"]],
            "env": [{"name": "AGYN_HOOK_EVENT", "value": hook["event"]},
                    *(_from_secret(spec, key, _secret_key("hook", hook["id"], key)) for key in hook["env"]),
                    volumes_env],
            "volumeMounts": volume_mounts})
        hooks.append({"id": hook["id"], "event": hook["event"], "function": hook["function"], "container": name})

    init_containers: list[dict[str, Any]] = [{
        "name": "runtime-init", "image": spec.init_image or options.runtime_image,
        "command": ["/bin/sh", "-c", f"cp -a /opt/agyn/. {RUNTIME_DIR}/"],
        "volumeMounts": [{"name": "agyn-runtime", "mountPath": RUNTIME_DIR}]}]
    for index, script in enumerate(spec.init_scripts):  # the agent's ENVs, not its token
        init_containers.append({
            "name": f"init-{index}", "image": image, "command": ["/bin/sh", "-c", script],
            "env": [e for e in agent_env if e["name"] != TOKEN] + [volumes_env],
            "volumeMounts": [*volume_mounts, state_mount]})

    main: dict[str, Any] = {
        "name": MAIN, "image": image, "command": shlex.split(options.runtime_command),
        "env": [*agent_env, {"name": "AGYN_HOOKS", "value": json.dumps(hooks)},
                {"name": "AGYN_STATE_DIR", "value": STATE_DIR},
                {"name": "AGYN_MCP_SERVERS", "value": json.dumps(servers)},
                {"name": INIT_SCRIPTS_DONE, "value": "1"}, volumes_env],
        "volumeMounts": [runtime_mount, state_mount, *volume_mounts]}
    if spec.resources:
        main["resources"] = _resources(spec.resources)

    pod_volumes: list[dict[str, Any]] = [{"name": "agyn-runtime", "emptyDir": {}},
                                         {"name": "agyn-state", "emptyDir": {}}]
    for index, volume in enumerate(spec.volumes):
        claim = {"claimName": claim_name(volume.volume_id, spec.thread_id)}
        source: dict[str, Any] = {"persistentVolumeClaim": claim} if volume.persistent else {"emptyDir": {}}
        pod_volumes.append({"name": f"vol-{index}", **source})
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod_name(spec.workload_id), "namespace": options.namespace, "labels": labels(spec)},
            "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False, "enableServiceLinks": False,
                     "terminationGracePeriodSeconds": options.stop_grace_seconds,
                     "initContainers": init_containers, "containers": [main, *sidecars], "volumes": pod_volumes}}


# --- reading a Pod ------------------------------------------------------------------------------


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _container(status: dict[str, Any], role: str) -> ContainerState:
    state = status.get("state") or {}
    restarts = int(status.get("restartCount") or 0)
    if "running" in state:
        return ContainerState(status["name"], role, "running", restarts=restarts,  # type: ignore[arg-type]
                              started_at=state["running"].get("startedAt"))
    if "terminated" in state:
        ended = state["terminated"]
        return ContainerState(status["name"], role, "exited", ended.get("exitCode"), restarts,  # type: ignore[arg-type]
                              ended.get("startedAt"), ended.get("finishedAt"), ended.get("reason"))
    return ContainerState(status["name"], role, "waiting", restarts=restarts,  # type: ignore[arg-type]
                          reason=(state.get("waiting") or {}).get("reason"))


def _why(status: dict[str, Any]) -> str:
    state = status.get("state") or {}
    detail = state.get("waiting") or state.get("terminated") or {}
    text = f"container {status['name']}: {detail.get('reason') or 'no reason given'}"
    return f"{text}: {detail['message']}" if detail.get("message") else text


def observe_pod(workload_id: uuid.UUID, found: dict[str, Any] | None, now: datetime, *, start_grace: float,
                crashloop_threshold: int) -> Observed:
    """A workload's state from its Pod (None: there is none), as the reconciliation table reads it."""
    if found is None:
        return Observed(workload_id, "lost", message="its Pod is gone")
    status = found.get("status") or {}
    inits = list(status.get("initContainerStatuses") or [])
    others = list(status.get("containerStatuses") or [])
    containers = tuple([_container(s, "init") for s in inits] +
                       [_container(s, "main" if s["name"] == MAIN else "sidecar") for s in others])
    waited = (now - _time(found["metadata"]["creationTimestamp"])).total_seconds()

    def failed(reason: str, message: str) -> Observed:
        return Observed(workload_id, "failed", containers, message=message, failure_reason=reason)

    for each in inits + others:
        waiting = ((each.get("state") or {}).get("waiting") or {}).get("reason")
        if waiting in IMAGE_PULL and waited >= start_grace:
            return failed("image_pull_failed", f"{_why(each)} (for {int(waited)}s)")
        if waiting in CONFIG_ERRORS and waited >= start_grace:
            return failed("config_invalid", _why(each))
    for each in inits:
        ended = (each.get("state") or {}).get("terminated")
        if ended and ended.get("exitCode") != 0 and (status.get("phase") == "Failed" or
                                                      int(each.get("restartCount") or 0) >= crashloop_threshold):
            return failed("start_failed", f"init {_why(each)} (exit code {ended.get('exitCode')})")
    main = next((s for s in others if s["name"] == MAIN), None)
    state = (main or {}).get("state") or {}
    if main is not None and (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff" and \
            int(main.get("restartCount") or 0) >= crashloop_threshold:
        return failed("crashloop", f"{_why(main)} after {main.get('restartCount')} restarts")
    if main is not None and "terminated" in state:
        code = state["terminated"].get("exitCode")
        message = None if code == 0 else f"its runtime exited with code {code} ({_why(main)})"
        return Observed(workload_id, "exited", containers, exit_code=code, message=message)
    if status.get("phase") in ("Failed", "Succeeded"):  # evicted, its node lost: the Pod will not run again
        return Observed(workload_id, "lost", containers, message=f"its Pod {status['phase'].lower()}: "
                        f"{status.get('reason') or 'no reason given'} {status.get('message') or ''}".rstrip())
    if "running" in state:
        return Observed(workload_id, "running", containers)
    return Observed(workload_id, "pending", containers)
