"""`agyn agent-runtime`: the process inside a workload. It reads its environment (the runner's contract),
fetches its agent's configuration and skills, runs the init scripts, then serves its thread: it listens
for deliveries (Server-Sent Events, `thread_participant:me`), pulls the unacknowledged messages in order,
runs one turn per batch and posts the reply, which acknowledges the batch in the same transaction. A crash
before that means the messages come again; never that they are lost, nor answered twice (the reply's
Idempotency-Key names the batch, and a turn already saved is answered from the history).

While a turn runs it touches its workload every 10 s (`agent_state` processing, then idle). SIGTERM
abandons the current turn without acknowledging it and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agyn.agent_runtime.loop import AgentConfig, AgentLoop, Summarization, TurnResult
from agyn.agent_runtime.tools import McpServer, ToolBox
from agyn.agent_runtime.tracing import Tracing
from agyn.runners.runtime import INIT_SCRIPTS_DONE

log = logging.getLogger("agyn.agent_runtime")

TOUCH_INTERVAL = 10.0
ANNOUNCE_AFTER = 0.2
"""A turn is announced (`processing`) once it has run this long: quicker ones cost the platform no write."""
PAGE_SIZE = 100
RECONNECT_BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
START_ATTEMPTS = (1, 1, 2, 3, 5, 5, 8, 10, 15)
REQUIRED = ("AGYN_PLATFORM_URL", "AGYN_WORKLOAD_TOKEN", "AGYN_WORKLOAD_ID", "AGYN_THREAD_ID", "AGYN_AGENT_ID",
            "AGYN_STATE_DIR")


class RuntimeConfigError(ValueError):
    pass


@dataclass(frozen=True)
class RuntimeEnv:
    """The runner's environment contract."""

    platform_url: str
    token: str
    workload_id: str
    thread_id: str
    agent_id: str
    organization_id: str
    llm_base_url: str
    state_dir: Path
    mcp_servers: list[McpServer]
    traces_endpoint: str | None
    cwd: Path
    init_scripts_done: bool = False
    """The runner ran the agent's init scripts before starting this process (`AGYN_INIT_SCRIPTS_DONE`)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RuntimeEnv:
        missing = [name for name in REQUIRED if not environ.get(name)]
        if missing:
            raise RuntimeConfigError(f"missing {', '.join(missing)}")
        url = environ["AGYN_PLATFORM_URL"].rstrip("/")
        return cls(platform_url=url, token=environ["AGYN_WORKLOAD_TOKEN"], workload_id=environ["AGYN_WORKLOAD_ID"],
                   thread_id=environ["AGYN_THREAD_ID"], agent_id=environ["AGYN_AGENT_ID"],
                   organization_id=environ.get("AGYN_ORGANIZATION_ID", ""),
                   llm_base_url=environ.get("AGYN_LLM_BASE_URL") or f"{url}/v1",
                   state_dir=Path(environ["AGYN_STATE_DIR"]),
                   mcp_servers=McpServer.parse_list(environ.get("AGYN_MCP_SERVERS", "")),
                   traces_endpoint=traces_endpoint(environ, url), cwd=Path.cwd(),
                   init_scripts_done=environ.get(INIT_SCRIPTS_DONE, "").strip().lower() in ("1", "true"))

    @property
    def traces_headers(self) -> dict[str, str]:
        """The workload token goes to the platform's own endpoint only, never to one configured elsewhere."""
        return {"Authorization": f"Bearer {self.token}"} if self.traces_endpoint == f"{self.platform_url}/v1/traces" \
            else {}

    def tool_environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """What the shell and stdio MCP servers get: the workload's environment, the `agyn` command first on
        the PATH (so `agyn threads send` reaches this thread)."""
        env = dict(environ)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")])
        return env


def traces_endpoint(environ: Mapping[str, str], platform_url: str) -> str | None:
    """Where spans go: the platform's `/v1/traces` by default (the server stamps them with this workload's
    organization, agent and thread), `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` when set, nowhere with
    `OTEL_SDK_DISABLED=true`."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    return environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or f"{platform_url}/v1/traces"


def process_age_ms() -> int | None:
    """How long ago this process started (Linux; None elsewhere): where a cold start's time goes."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rpartition(")")[2].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return round((uptime - ticks / os.sysconf("SC_CLK_TCK")) * 1000)


def prompt_for(message: Mapping[str, Any]) -> str:
    """A message as the model reads it: who and where, then the body and its files."""
    files = "".join(f"\nagyn://file/{file_id}" for file_id in message.get("file_ids") or [])
    return f"thread: {message['thread_id']}\nfrom: {message['sender_id']}\n---\n{message['body']}{files}"


def skills_index(skills: list[dict[str, Any]], directory: Path) -> str:
    """Told to the model in the shell tool's description, not the system prompt (which stays exactly the
    agent's `system_prompt`)."""
    lines = [f"- {s['name']}: {s.get('description') or 'instructions'} ({directory / (s['name'] + '.md')})"
             for s in skills]
    return "Skills (read the file when a task calls for it):\n" + "\n".join(lines)


@dataclass
class AgentRuntime:
    env: RuntimeEnv
    client: httpx.AsyncClient
    agent: AgentConfig | None = None
    skills: str = ""
    """The skills' index (empty without skills)."""
    handled: set[str] = field(default_factory=set)
    """Messages answered and acknowledged by this process: a late event or a stale page skips them."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    busy: bool = False
    announced: bool = False
    last_touch: float = 0.0
    replied: bool = False
    flushing: asyncio.Task[None] | None = None
    flush_again: bool = False

    # --- start ---------------------------------------------------------------------------------

    async def start(self) -> list[dict[str, Any]]:
        """Everything the first turn needs, asked for at once: the agent's model and configuration, its
        skills (written as files) and init scripts (run, unless the runner ran them), and the messages
        already waiting, which are returned. Retried while the platform is not reachable yet."""
        waiting: list[dict[str, Any]] = []
        for delay in (*START_ATTEMPTS, None):
            try:
                agent, skills, scripts, waiting = await asyncio.gather(
                    self._get(f"/api/v1/agents/{self.env.agent_id}"),
                    self._all("/api/v1/skills", {"agent_id": self.env.agent_id}),
                    self._no_scripts() if self.env.init_scripts_done else
                    self._all("/api/v1/init-scripts", {"agent_id": self.env.agent_id}), self.pending())
                break
            except httpx.TransportError as error:
                if delay is None:
                    raise
                log.warning("platform not reachable (%s); retrying in %s s", error, delay)
                await asyncio.sleep(delay)
        configuration: dict[str, Any] = agent.get("configuration") or {}
        prompt = configuration.get("system_prompt") or None
        if skills:
            directory = self.env.state_dir / "skills"
            directory.mkdir(parents=True, exist_ok=True)
            for skill in sorted(skills, key=lambda s: str(s.get("created_at", ""))):
                (directory / f"{skill['name']}.md").write_text(skill["body"])
            self.skills = skills_index(skills, directory)
        self.agent = AgentConfig(model=str(agent["model"]), system_prompt=prompt,
                                 summarization=Summarization.from_configuration(configuration))
        await self.run_init_scripts(scripts)
        return waiting

    @staticmethod
    async def _no_scripts() -> list[dict[str, Any]]:
        return []

    async def run_init_scripts(self, scripts: list[dict[str, Any]]) -> None:
        for script in sorted(scripts, key=lambda s: str(s.get("created_at", ""))):
            process = await asyncio.create_subprocess_exec("/bin/sh", "-lc", script["script"], cwd=self.env.cwd)
            code = await process.wait()
            if code != 0:  # the reference goes on with the next script; the log says which failed
                log.warning("init script %s exited with %s", script["id"], code)

    # --- serving -------------------------------------------------------------------------------

    async def listen(self) -> None:
        """Wake the worker on every delivery in this thread and on every (re)connection (the pull after a
        reconnect catches what was missed while away)."""
        attempt = 0
        while True:
            try:
                async with self.client.stream("GET", "/api/v1/events", params={"rooms": "thread_participant:me"},
                                              timeout=httpx.Timeout(10.0, read=None)) as response:
                    if response.status_code != 200:
                        await response.aread()
                        raise RuntimeError(f"events: {response.status_code} {response.text[:200]}")
                    attempt = 0
                    self.wake.set()
                    event = ""
                    async for line in response.aiter_lines():
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:") and event == "message.created":
                            payload = json.loads(line[5:]).get("payload", {})
                            if payload.get("thread_id") == self.env.thread_id:
                                self.wake.set()
                        elif line.startswith("data:") and event == "notifications.closed":
                            break
            except (httpx.HTTPError, RuntimeError, ValueError) as error:
                log.warning("event stream lost: %s", error)
            await asyncio.sleep(RECONNECT_BACKOFF[min(attempt, len(RECONNECT_BACKOFF) - 1)])
            attempt += 1

    async def work(self, loop: AgentLoop, waiting: list[dict[str, Any]]) -> None:
        """Answer what was waiting at start, then pull again whenever a delivery (or a reconnection) wakes
        this worker."""
        batch = waiting
        while True:
            try:
                while batch:
                    await self.turn(loop, batch)
                    self.flush_spans(loop.tracing)
                    batch = []
                    if self.wake.is_set():  # messages came during the turn; without them there is nothing to pull
                        self.wake.clear()
                        batch = await self.pending()
                await self.wake.wait()
                self.wake.clear()
                batch = await self.pending()
            except httpx.HTTPError as error:
                log.warning("sync failed: %s; retrying", error)
                await asyncio.sleep(1.0)
                batch = []
                self.wake.set()

    def flush_spans(self, tracing: Tracing) -> None:
        """The run's spans leave now, not on the exporter's timer, so its timeline is whole at once; beside
        the next turn, not before it. Turns that end while a flush runs leave together in the next one."""
        if self.flushing is not None and not self.flushing.done():
            self.flush_again = True
            return

        async def flush() -> None:
            while True:
                self.flush_again = False
                await asyncio.to_thread(tracing.flush)
                if not self.flush_again:
                    return

        self.flushing = asyncio.create_task(flush())

    async def pending(self) -> list[dict[str, Any]]:
        """This thread's unacknowledged messages, oldest first, without those already answered."""
        messages = await self._all("/api/v1/me/unacked-messages", {"thread_id": self.env.thread_id})
        return [m for m in messages if m["id"] not in self.handled]

    async def turn(self, loop: AgentLoop, batch: list[dict[str, Any]]) -> TurnResult:
        assert self.agent is not None
        ids = [m["id"] for m in batch]
        self.busy = True
        keepalive = asyncio.create_task(self._keepalive())
        # the reply's Idempotency-Key, the same in any workload: a retried post, or one by the workload that
        # replaced a crashed one, finds the reply already sent
        key = hashlib.sha256(("\n".join(ids)).encode()).hexdigest()
        try:
            result = await loop.run_turn(self.env.thread_id, [prompt_for(m) for m in batch], self.agent,
                                         received=[(m["id"], m["body"]) for m in batch], turn_key=key)
            body = result.text if result.text is not None else f"⚠️ {result.error}"
            try:
                # the reply acknowledges the batch in its own transaction: a crash before it commits means the
                # batch comes again, after it that both are done
                await self._post(f"/api/v1/threads/{self.env.thread_id}/messages",
                                 {"body": body, "acknowledges": ids}, headers={"Idempotency-Key": key})
            except httpx.HTTPStatusError as error:
                if error.response.status_code >= 500:
                    raise  # the platform's trouble: the batch stays unacked and comes again
                # refused for good (an archived or degraded thread, a body too long): answering again would
                # be refused again, so the batch is acknowledged unanswered
                log.error("the reply to %s was refused (%s): %s", ids, error.response.status_code,
                          error.response.text[:300])
                await self._post("/api/v1/me/ack", {"message_ids": ids})
            if not self.replied:
                self.replied = True
                log.info("first reply posted", extra={"since_process_start_ms": process_age_ms()})
            self.handled.update(ids)
            return result
        finally:
            self.busy = False
            keepalive.cancel()
            await asyncio.gather(keepalive, return_exceptions=True)
            # back to idle when processing was announced; else at least every interval, which keeps the
            # workload's last activity recent while quick turns follow one another
            if self.announced or time.monotonic() - self.last_touch >= TOUCH_INTERVAL:
                await self.touch("idle")
            self.announced = False

    async def _keepalive(self) -> None:
        await asyncio.sleep(ANNOUNCE_AFTER)
        while True:
            self.announced = True
            await self.touch("processing")
            await asyncio.sleep(TOUCH_INTERVAL)

    async def touch(self, state: str) -> None:
        self.last_touch = time.monotonic()
        try:
            response = await self.client.post(f"/api/v1/workloads/{self.env.workload_id}/touch",
                                              json={"agent_state": state})
            if response.status_code >= 400:
                log.debug("touch answered %s", response.status_code)
        except httpx.HTTPError as error:  # a missed touch is not worth a turn
            log.debug("touch failed: %s", error)

    # --- HTTP ----------------------------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        response = await self.client.get(path, params=params)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    async def _all(self, path: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = await self._get(path, {**params, "page_size": str(PAGE_SIZE),
                                          **({"page_token": token} if token else {})})
            items += page["items"]
            token = page.get("next_page_token")
            if not token:
                return items

    async def _post(self, path: str, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        for delay in (0.5, 1.0, 2.0, None):
            try:
                response = await self.client.post(path, json=body, headers=headers)
                if response.status_code < 500:
                    response.raise_for_status()
                    return
            except httpx.TransportError:
                if delay is None:
                    raise
            if delay is None:
                response.raise_for_status()
            await asyncio.sleep(delay or 0)


async def serve(env: RuntimeEnv, environ: Mapping[str, str]) -> None:
    """Run until SIGTERM (or SIGINT): the current turn is abandoned, unacknowledged."""
    tracing = Tracing.exporting(env.traces_endpoint, {"agyn.thread.id": env.thread_id,
                                                      "agyn.workload.id": env.workload_id,
                                                      "agyn.agent.id": env.agent_id}, env.traces_headers)
    headers = {"Authorization": f"Bearer {env.token}"}
    imported, began = process_age_ms(), time.monotonic()
    async with httpx.AsyncClient(base_url=env.platform_url, headers=headers, timeout=30.0) as client:
        runtime = AgentRuntime(env, client)
        # subscribed while the rest starts; its first connection wakes the worker for one more pull, which
        # catches what arrived between the pull at start and the subscription
        listening = asyncio.create_task(runtime.listen())
        waiting = await runtime.start()
        started = time.monotonic()
        async with ToolBox(env.mcp_servers, env=env.tool_environment(environ), cwd=env.cwd,
                           shell_notes=runtime.skills) as tools:
            loop = AgentLoop.connect(env.llm_base_url, env.token, tools, env.state_dir, tracing=tracing,
                                     extra_headers={"x-agyn-thread-id": env.thread_id})
            stopping = asyncio.Event()
            running = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                running.add_signal_handler(signum, stopping.set)
            log.info("agent runtime serving thread %s (workload %s, %d tools)", env.thread_id, env.workload_id,
                     len(tools.specs), extra={
                         "since_process_start_ms": process_age_ms(), "imports_ms": imported,
                         "configuration_ms": round((started - began) * 1000),
                         "tools_ms": round((time.monotonic() - started) * 1000), "waiting": len(waiting)})
            tasks = [listening, asyncio.create_task(runtime.work(loop, waiting)),
                     asyncio.create_task(stopping.wait())]
            mid_turn = False
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    failure = task.exception()
                    if failure is not None:
                        raise failure
            finally:
                mid_turn = runtime.busy
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                with contextlib.suppress(Exception):
                    await runtime.touch("idle")
                if runtime.flushing is not None:
                    await asyncio.gather(runtime.flushing, return_exceptions=True)
                tracing.shutdown()
            log.info("agent runtime stopped%s", " mid-turn (not acknowledged)" if mid_turn else "")
