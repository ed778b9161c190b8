"""The Kubernetes runner, driven by the orchestrator, against a local server speaking the Kubernetes
REST API (the official client talks HTTP to it through a kubeconfig): the Pod it starts (containers,
env, volumes, labels), every object it sends valid against the Kubernetes OpenAPI schemas, and one
test per row of the reconciliation table (Pod and container states as a kubelet would set them)."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
from sqlalchemy import update

from agyn.runners.kubernetes import KubernetesRuntime
from agyn.runners.models import Workload
from agyn.runners.pods import pod_name, secret_name
from agyn.runners.workloads import WorkloadsService
from agyn.settings import KubernetesSettings
from tests.cli.test_cli import AGYN, cli_env
from tests.orchestrator.support import Live, eventually, live_platform
from tests.support.clock import FakeClock
from tests.support.kube_api import KubeApiServer
from tests.threads.support import Team, make_team

NS = "agyn-workloads"
K8S_VERSION = kubernetes_validate.latest_version()


def valid(manifest: dict[str, Any]) -> None:
    """Raises unless the object passes the Kubernetes OpenAPI schema (unknown fields refused)."""
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def sent(manifest: dict[str, Any]) -> dict[str, Any]:
    """The object as the runner sent it (without what the server added)."""
    found = json.loads(json.dumps(manifest))
    found.pop("status", None)
    for key in ("uid", "resourceVersion", "creationTimestamp"):
        found["metadata"].pop(key, None)
    return found


def running(name: str, restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "ready": True, "restartCount": restarts, "image": "x", "imageID": "",
            "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}


def waiting(name: str, reason: str, restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": restarts, "image": "x", "imageID": "",
            "state": {"waiting": {"reason": reason, "message": f"{reason} for {name}"}}}


def terminated(name: str, code: int) -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": 0, "image": "x", "imageID": "",
            "state": {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                     "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:01Z"}}}


HEALTHY = {"phase": "Running", "initContainerStatuses": [terminated("runtime-init", 0), terminated("init-0", 0)],
           "containerStatuses": [running("runtime"), running("mcp-files")]}


@dataclass
class Started:
    live: Live
    kube: KubeApiServer
    team: Team
    clock: FakeClock
    agent: dict[str, Any]
    thread_id: str
    volume_id: str
    hook_ids: list[str]

    async def workload(self) -> dict[str, Any]:
        """The first workload of the thread (the message stays unacked: others may follow it)."""
        if not self.workload_id:
            [found] = await self.live.workloads(thread_id=self.thread_id)
            return found
        response = await self.live.api.client.get(f"/api/v1/workloads/{self.workload_id}",
                                                  headers=self.live.api.admin)
        assert response.status_code == 200, response.text
        return dict(response.json())

    @property
    def pod(self) -> str:
        return self.pod_of(self.workload_id)

    def pod_of(self, workload_id: str) -> str:
        return pod_name(uuid.UUID(workload_id))

    workload_id: str = ""

    async def status(self, status: dict[str, Any]) -> None:
        await self.kube.set_pod_status(NS, self.pod, status)

    async def until(self, status: str, reason: str | None = None) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            found = await self.workload()
            return found if found["status"] == status and found["failure_reason"] == reason else None
        return await eventually(check, what=f"the workload {status} ({reason})")

    async def gone(self) -> bool:
        return self.kube.get("pods", NS, self.pod) is None and \
            self.kube.get("secrets", NS, secret_name(uuid.UUID(self.workload_id))) is None


@asynccontextmanager
async def started(database_url: str, tmp_path: Path, **kubernetes: Any) -> AsyncIterator[Started]:
    """The platform with its embedded runner on Kubernetes, and a message that started a workload."""
    clock = FakeClock()
    async with KubeApiServer(token="kube-token") as kube:
        settings = {"kubeconfig": kube.kubeconfig(tmp_path), "namespace": NS, "storage_class": "fast",
                    "runtime_image": "registry.example/agyn-runtime:1", **kubernetes}
        async with live_platform(database_url, tmp_path / "data", clock=clock,
                                 runner={"kind": "kubernetes", "stop_grace_seconds": 5},
                                 kubernetes=settings) as live:
            team = await make_team(live.api)
            api, owner = team.api, team.owner
            agent = await team.org.agent(nickname="kube", idle_timeout="1m", image="registry.example/agent:2",
                                         init_image="registry.example/agent-init:2",
                                         resources={"requests_cpu": "250m", "limits_memory": "1Gi"})
            volume = await api.client.post("/api/v1/volumes", headers=owner.headers, json={
                "organization_id": team.org.id, "name": "work", "mount_path": "/workspace", "persistent": True,
                "size": "5Gi"})
            assert volume.status_code == 201, volume.text
            for path, body in (
                    ("/api/v1/volume-attachments", {"volume_id": volume.json()["id"], "agent_id": agent["id"]}),
                    ("/api/v1/envs", {"agent_id": agent["id"], "name": "GREETING", "value": "hi-secret-value"}),
                    ("/api/v1/init-scripts", {"agent_id": agent["id"], "script": "echo prepared"}),
                    ("/api/v1/mcps", {"agent_id": agent["id"], "name": "files", "image": "registry.example/mcp:1",
                                      "command": "serve-files --port $MCP_PORT", "env": {"ROOT": "/workspace"}})):
                created = await api.client.post(path, headers=owner.headers, json=body)
                assert created.status_code == 201, created.text
            hook_ids = await _hooks(team, agent)
            conversation = await api.client.post("/api/v1/conversations", headers=team.bob.headers, json={
                "organization_id": team.org.id, "participants": ["@kube"], "message": "hello"})
            assert conversation.status_code == 201, conversation.text
            thread_id = conversation.json()["id"]
            state = Started(live, kube, team, clock, agent, thread_id, volume.json()["id"], hook_ids)
            await eventually(lambda: _pods(kube), what="the workload's Pod")
            state.workload_id = (await state.workload())["id"]
            yield state


async def _hooks(team: Team, agent: dict[str, Any]) -> list[str]:
    """Two hooks: one in its own image with a secret-backed ENV and a volume of its own, one in the agent's."""
    api, owner = team.api, team.owner

    async def create(path: str, body: dict[str, Any]) -> str:
        created = await api.client.post(path, headers=owner.headers, json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    notify = await create("/api/v1/hooks", {"agent_id": agent["id"], "event": "workload.started",
                                             "function": "notify --to $WEBHOOK", "image": "registry.example/hook:3"})
    audit = await create("/api/v1/hooks", {"agent_id": agent["id"], "event": "tool.after", "function": "audit"})
    secret_id = await create("/api/v1/secrets", {"organization_id": team.org.id, "name": "webhook",
                                                 "value": "https://hook.example/s3cr3t-path"})
    await create("/api/v1/envs", {"hook_id": notify, "name": "WEBHOOK", "secret_id": secret_id})
    outbox = await create("/api/v1/volumes", {"organization_id": team.org.id, "name": "outbox",
                                              "mount_path": "/outbox"})
    await create("/api/v1/volume-attachments", {"volume_id": outbox, "hook_id": notify})
    return [notify, audit]


async def _pods(kube: KubeApiServer) -> list[dict[str, Any]]:
    return kube.items("pods", NS)


async def test_the_pod_has_the_agents_containers_env_volumes_and_labels(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        workload = await run.workload()
        assert workload["status"] == "starting"
        [pod] = run.kube.items("pods", NS)
        [secret] = run.kube.items("secrets", NS)
        [claim] = run.kube.items("persistentvolumeclaims", NS)
        for manifest in (pod, secret, claim):
            valid(sent(manifest))

        assert pod["metadata"]["name"] == run.pod
        assert pod["metadata"]["labels"] == {
            "app.kubernetes.io/managed-by": "agyn", "agyn.io/agent-id": run.agent["id"],
            "agyn.io/thread-id": run.thread_id, "agyn.io/workload-id": workload["id"]}
        spec = pod["spec"]
        assert spec["restartPolicy"] == "Never" and spec["automountServiceAccountToken"] is False
        assert [(c["name"], c["image"]) for c in spec["initContainers"]] == [
            ("runtime-init", "registry.example/agent-init:2"), ("init-0", "registry.example/agent:2")]
        notify, audit = run.hook_ids
        assert [(c["name"], c["image"]) for c in spec["containers"]] == [
            ("runtime", "registry.example/agent:2"), ("mcp-files", "registry.example/mcp:1"),
            (f"hook-{notify}", "registry.example/hook:3"), (f"hook-{audit}", "registry.example/agent:2")]
        main, mcp, *_ = spec["containers"]
        assert main["command"] == ["/agyn/bin/agyn", "agent-runtime"]
        assert main["resources"] == {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}}
        env = {e["name"]: e for e in main["env"]}
        assert env["GREETING"]["valueFrom"]["secretKeyRef"] == {"name": secret["metadata"]["name"],
                                                                "key": "runtime.GREETING"}
        assert "valueFrom" in env["AGYN_WORKLOAD_TOKEN"] and env["AGYN_WORKLOAD_ID"]["valueFrom"]
        assert env["AGYN_INIT_SCRIPTS_DONE"]["value"] == "1"  # the init containers ran them
        assert json.loads(env["AGYN_MCP_SERVERS"]["value"]) == [
            {"name": "files", "transport": "streamable_http", "url": "http://127.0.0.1:8100/mcp"}]
        mcp_env = {e["name"]: e for e in mcp["env"]}
        assert mcp_env["MCP_PORT"]["value"] == "8100" and "valueFrom" in mcp_env["ROOT"]
        assert "AGYN_WORKLOAD_TOKEN" not in mcp_env  # an MCP server gets its own ENVs only
        init_env = {e["name"] for e in spec["initContainers"][1]["env"]}
        assert "GREETING" in init_env and "AGYN_WORKLOAD_TOKEN" not in init_env
        # values live in the Secret only, never in the Pod
        assert "hi-secret-value" not in json.dumps(pod)
        data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        assert data["runtime.GREETING"] == "hi-secret-value" and data["runtime.AGYN_WORKLOAD_TOKEN"].startswith("agyn_wl_")
        assert data["mcp.files.ROOT"] == "/workspace"
        assert secret["metadata"]["labels"]["agyn.io/workload-id"] == workload["id"]

        volumes = {v["name"]: v for v in spec["volumes"]}
        [workspace] = [m["name"] for m in main["volumeMounts"] if m["mountPath"] == "/workspace"]
        assert volumes[workspace] == {"name": workspace,
                                      "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}
        assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
        assert claim["spec"]["storageClassName"] == "fast"
        assert claim["metadata"]["labels"]["agyn.io/volume-id"] == run.volume_id


async def test_each_hook_is_a_sidecar_with_its_command_env_and_volumes(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        [pod] = run.kube.items("pods", NS)
        [secret] = run.kube.items("secrets", NS)
        valid(sent(pod))
        notify_id, audit_id = run.hook_ids
        containers = {c["name"]: c for c in pod["spec"]["containers"]}
        notify, audit = containers[f"hook-{notify_id}"], containers[f"hook-{audit_id}"]
        assert notify["command"] == ["/bin/sh", "-c", "notify --to $WEBHOOK"]
        assert audit["command"] == ["/bin/sh", "-c", "audit"]
        env = {e["name"]: e for e in notify["env"]}
        assert env["AGYN_HOOK_EVENT"] == {"name": "AGYN_HOOK_EVENT", "value": "workload.started"}
        assert env["WEBHOOK"]["valueFrom"]["secretKeyRef"] == {"name": secret["metadata"]["name"],
                                                               "key": f"hook.{notify_id}.WEBHOOK"}
        assert json.loads(env["AGYN_VOLUMES"]["value"]) == {"/outbox": "/outbox", "/workspace": "/workspace"}
        assert {e["name"] for e in audit["env"]} == {"AGYN_HOOK_EVENT", "AGYN_VOLUMES"}  # its own ENVs only
        assert "AGYN_WORKLOAD_TOKEN" not in env and "GREETING" not in env
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in notify["volumeMounts"]}
        assert mounts["/outbox"]["emptyDir"] == {} and "persistentVolumeClaim" in mounts["/workspace"]

        # the value is in the Secret only; the runtime is told which container runs which hook, not its ENVs
        assert "s3cr3t-path" not in json.dumps(pod)
        data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        assert data[f"hook.{notify_id}.WEBHOOK"] == "https://hook.example/s3cr3t-path"
        assert "s3cr3t-path" not in "".join(v for k, v in data.items() if not k.startswith("hook."))
        runtime_env = {e["name"]: e for e in containers["runtime"]["env"]}
        assert json.loads(runtime_env["AGYN_HOOKS"]["value"]) == [
            {"id": notify_id, "event": "workload.started", "function": "notify --to $WEBHOOK",
             "container": f"hook-{notify_id}"},
            {"id": audit_id, "event": "tool.after", "function": "audit", "container": f"hook-{audit_id}"}]


async def test_a_healthy_pod_runs_then_an_idle_stop_deletes_it_and_keeps_its_volume(
        database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        await run.status(HEALTHY)
        run.clock.advance(31)  # a runtime that never touches is running after the startup grace
        workload = await run.until("running")
        assert {c["name"]: (c["role"], c["status"]) for c in workload["containers"]} == {
            "runtime-init": ("init", "exited"), "init-0": ("init", "exited"), "runtime": ("main", "running"),
            "mcp-files": ("sidecar", "running")}
        await run.kube.append_log(run.pod, "runtime", b"started\n")
        logs = await run.live.api.client.get(f"/api/v1/workloads/{run.workload_id}/logs",
                                             headers=run.team.owner.headers, params={"container": "runtime"})
        assert logs.status_code == 200 and logs.text == "started\n"

        run.clock.advance(61)  # idle longer than the agent's idle_timeout
        await run.until("stopped")
        assert await run.gone()
        assert len(run.kube.items("persistentvolumeclaims", NS)) == 1  # the volume's claim outlives the Pod
        # until its TTL runs out: the orchestrator then has the runner delete the thread's claim (again: a no-op)
        runtime = run.live.platform.get(WorkloadsService).runtimes.get(uuid.UUID(workload["runner_id"]))
        assert isinstance(runtime, KubernetesRuntime)
        for _ in range(2):
            assert await runtime.remove_volume(uuid.UUID(run.volume_id), uuid.UUID(run.thread_id))
            assert run.kube.items("persistentvolumeclaims", NS) == []


async def test_starting_image_pull_within_the_grace_updates_then_after_it_fails(
        database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        await run.status({"phase": "Pending", "initContainerStatuses": [waiting("runtime-init", "ImagePullBackOff")]})

        async def seen() -> dict[str, Any] | None:
            found = await run.workload()
            return found if found["containers"] else None
        workload = await eventually(seen, what="the containers recorded")
        assert workload["status"] == "starting"
        assert workload["containers"][0]["reason"] == "ImagePullBackOff"

        await run.kube.age_pod(NS, run.pod, 61)
        failed = await run.until("failed", "image_pull_failed")
        assert "runtime-init" in failed["failure_message"]
        await eventually(run.gone, what="the Pod and its Secret deleted")


async def test_starting_container_config_error_fails_config_invalid(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path, start_grace_seconds=0) as run:
        await run.status({"phase": "Pending", "initContainerStatuses": [terminated("runtime-init", 0)],
                          "containerStatuses": [waiting("runtime", "CreateContainerConfigError")]})
        failed = await run.until("failed", "config_invalid")
        assert "CreateContainerConfigError" in failed["failure_message"]
        await eventually(run.gone, what="the Pod and its Secret deleted")


async def test_starting_init_failure_fails_start_failed(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        await run.status({"phase": "Failed", "initContainerStatuses": [terminated("runtime-init", 0),
                                                                       terminated("init-0", 2)]})
        failed = await run.until("failed", "start_failed")
        assert "init-0" in failed["failure_message"] and "exit code 2" in failed["failure_message"]
        await eventually(run.gone, what="the Pod and its Secret deleted")


async def test_starting_without_a_pod_fails_start_failed(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        await run.kube.remove("pods", NS, run.pod)
        await run.until("failed", "start_failed")


async def test_running_crash_loop_fails_crashloop(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        await run.status(HEALTHY)
        run.clock.advance(31)
        await run.until("running")
        await run.status({**HEALTHY, "containerStatuses": [waiting("runtime", "CrashLoopBackOff", restarts=3),
                                                           running("mcp-files")]})
        failed = await run.until("failed", "crashloop")
        assert "CrashLoopBackOff" in failed["failure_message"]
        await eventually(run.gone, what="the Pod and its Secret deleted")


async def test_running_runtime_exit_fails_crashloop(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        await run.status(HEALTHY)
        run.clock.advance(31)
        await run.until("running")
        await run.status({**HEALTHY, "phase": "Running",
                          "containerStatuses": [terminated("runtime", 137), running("mcp-files")]})
        failed = await run.until("failed", "crashloop")
        assert "137" in failed["failure_message"]


async def test_running_healthy_pod_updates_its_containers(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        await run.status(HEALTHY)
        run.clock.advance(31)
        await run.until("running")
        await run.status({**HEALTHY, "containerStatuses": [running("runtime"), running("mcp-files", restarts=1)]})

        async def restarted() -> dict[str, Any] | None:
            found = await run.workload()
            return found if [c["restarts"] for c in found["containers"] if c["name"] == "mcp-files"] == [1] \
                else None
        assert (await eventually(restarted, what="the containers updated"))["status"] == "running"


async def test_running_without_a_pod_fails_runtime_lost(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        await run.status(HEALTHY)
        run.clock.advance(31)
        await run.until("running")
        await run.kube.remove("pods", NS, run.pod)
        failed = await run.until("failed", "runtime_lost")
        assert "Pod is gone" in failed["failure_message"]


async def _mark_stopping(run: Started) -> None:
    async with run.live.platform.database.transaction() as session:
        await session.execute(update(Workload).where(Workload.id == uuid.UUID(run.workload_id))
                              .values(status="stopping"))


async def test_stopping_with_its_pod_deletes_it_again(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        await run.status(HEALTHY)
        await _mark_stopping(run)  # as if an earlier stop had not reached the API
        run.live.loop.wake()
        await run.until("stopped")
        assert await run.gone()


async def test_stopping_without_its_pod_is_stopped(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        await run.live.loop.stop()  # one pass by hand: the Pod's deletion must not be seen while it is starting
        runtime = run.live.platform.get(KubernetesRuntime)
        await _mark_stopping(run)
        await run.kube.remove("pods", NS, run.pod)

        async def lost() -> bool:
            return (await runtime.inspect(uuid.UUID(run.workload_id))).status == "lost"
        await eventually(lost, what="the runner seeing the Pod gone")
        report = await run.live.loop.orchestrator.reconcile_once()
        assert report.decisions["observe"] == 1 and not report.decisions["stop"]
        workload = await run.until("stopped")
        assert workload["failure_reason"] is None


async def test_a_labelled_pod_without_a_workload_is_removed(database_url: str, tmp_path: Path) -> None:
    async with started(database_url, tmp_path) as run:
        stray = dict(run.kube.items("pods", NS)[0])
        stranger = str(uuid.uuid4())
        stray["metadata"] = {**stray["metadata"], "name": pod_name(uuid.UUID(stranger)),
                             "labels": {**stray["metadata"]["labels"], "agyn.io/workload-id": stranger}}
        runtime = run.live.platform.get(KubernetesRuntime)
        # as an earlier leader that died mid-start would leave it
        await asyncio.to_thread(runtime.api.create_namespaced_pod, NS, sent(stray))
        assert run.kube.get("pods", NS, pod_name(uuid.UUID(stranger))) is not None
        run.live.loop.wake()
        await eventually(lambda: _absent(run.kube, pod_name(uuid.UUID(stranger))), what="the orphan removed")
        assert run.kube.get("pods", NS, run.pod) is not None  # the live workload's Pod stays


async def _absent(kube: KubeApiServer, name: str) -> bool:
    return kube.get("pods", NS, name) is None


async def test_a_start_refused_by_the_api_fails_the_workload(tmp_path: Path) -> None:
    async with KubeApiServer(token="right") as kube:
        runtime = KubernetesRuntime(KubernetesSettings(kubeconfig=kube.kubeconfig(tmp_path), namespace=NS))
        kube.token = "changed"  # the runner's credentials no longer work
        from agyn.runners.runtime import StartFailed, WorkloadSpec

        spec = WorkloadSpec(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "x", {"A": "b"})
        try:
            await runtime.start(spec)
        except StartFailed as error:
            assert "Unauthorized" in error.message
        else:
            raise AssertionError("a refused start did not fail")
        await runtime.close()


async def test_a_remote_kubernetes_runner_starts_pods_and_reports_them(database_url: str, tmp_path: Path) -> None:
    """`agyn runner serve --kind kubernetes`: a remote runner whose workloads are Pods; what a kubelet
    reports reaches the platform through the runner's channel, and the platform's stop deletes the Pod."""
    labels = {"site": "cluster"}
    async with KubeApiServer(token="kube-token") as kube, live_platform(
            database_url, tmp_path / "data", orchestrator={"enabled": True, "tick_seconds": 0.2}) as live:
        team = await make_team(live.api)
        await team.org.agent(nickname="podded", runner_labels=labels)
        registered = await live.api.client.post("/api/v1/runners", headers=team.owner.headers, json={
            "organization_id": team.org.id, "name": "cluster", "labels": labels})
        assert registered.status_code == 201, registered.text
        runner = registered.json()
        env = cli_env(AGYN_KUBERNETES__KUBECONFIG=str(kube.kubeconfig(tmp_path)), AGYN_KUBERNETES__NAMESPACE=NS,
                      AGYN_KUBERNETES__START_GRACE_SECONDS="0")
        process = subprocess.Popen(
            [str(AGYN), "runner", "serve", "--kind", "kubernetes", "--platform-url", live.url,
             "--token", runner["service_token"]], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            thread = await team.thread(team.bob, "@podded")
            await team.sent(team.bob, thread["id"], "hello")
            [pod] = await eventually(lambda: _pods(kube), timeout=30, what="the remote runner's Pod")
            [workload] = await live.workloads(thread_id=thread["id"])
            assert workload["runner_id"] == runner["id"]
            assert pod["metadata"]["labels"]["agyn.io/workload-id"] == workload["id"]
            valid(sent(pod))
            await kube.set_pod_status(NS, pod["metadata"]["name"], {
                "phase": "Pending", "initContainerStatuses": [waiting("runtime-init", "ErrImagePull")]})

            async def failed() -> dict[str, Any] | None:
                [found] = await live.workloads(thread_id=thread["id"], status="failed") or [None]
                return found
            found = await eventually(failed, timeout=30, what="the image pull failure reported")
            assert found["failure_reason"] == "image_pull_failed"
            await eventually(lambda: _no_pod(kube, pod["metadata"]["name"]), timeout=30, what="the Pod deleted")
        finally:
            process.send_signal(signal.SIGTERM)
            # waited for in a thread: this loop serves the API the runner's last calls go to
            output = (await asyncio.to_thread(process.communicate, timeout=30))[0].decode()
        assert process.returncode == 0, output
        assert "namespace agyn-workloads" in output and runner["service_token"] not in output


async def _no_pod(kube: KubeApiServer, name: str) -> bool:
    return kube.get("pods", NS, name) is None
