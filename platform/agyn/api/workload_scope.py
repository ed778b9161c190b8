"""What a workload token may call: the one allow-list, checked once per request after authentication.

A workload token authenticates as its agent, confined to one thread and one workload. It may read the
agent's own configuration (the agent and its skills, init scripts, MCP servers, hooks and ENVs, as
metadata), read and write its thread, read and ack its own unacked messages, read the files its thread's
messages carry, touch its workload, and export its spans (the tracing module sets their organization,
agent, thread and workload itself).
The LLM proxy checks the model itself (the agent's model only). Anything else is refused here: 404
for another thread, agent or workload (their existence is not the workload's to learn), 403 for a
route a workload never calls.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from agyn.kit.errors import NotFound, PermissionDenied
from agyn.kit.principal import WorkloadScope

_ID = r"[^/]+"
CONFIGURATION = ("skills", "init-scripts", "mcps", "hooks", "envs")


@dataclass(frozen=True)
class Allowed:
    method: str
    pattern: re.Pattern[str]
    owner: str | None = None
    """The scope field the path's `{id}` must equal (else 404); None: no id in the path."""


def _route(method: str, path: str, owner: str | None = None) -> Allowed:
    return Allowed(method, re.compile("^" + path.replace("{id}", f"(?P<id>{_ID})") + "/?$"), owner)


ALLOWED = (
    _route("GET", "/api/v1/agents/{id}", "agent_id"),
    *(_route("GET", f"/api/v1/{collection}") for collection in CONFIGURATION),
    *(_route("GET", f"/api/v1/{collection}/{{item}}".replace("{item}", _ID)) for collection in CONFIGURATION),
    _route("GET", "/api/v1/threads/{id}", "thread_id"),
    _route("GET", "/api/v1/threads/{id}/messages", "thread_id"),
    _route("POST", "/api/v1/threads/{id}/messages", "thread_id"),
    _route("GET", "/api/v1/me/unacked-messages"),
    _route("POST", "/api/v1/me/ack"),
    _route("POST", "/api/v1/workloads/{id}/touch", "workload_id"),
    _route("GET", "/api/v1/events"),
    _route("POST", "/v1/traces"),
    _route("GET", "/api/v1/files/{id}"),
    _route("GET", "/api/v1/files/{id}/content"),
)
"""Reading a configuration item checks `can_read_config` on its agent, which the agent holds on itself
only; unacked messages and acks are confined to the scope's thread by the threads service; events to its
agent's deliveries in its thread by the notifications service; files to those its own thread's messages
carry by the files service (the files MCP reads them with the workload's token)."""


def require_allowed(scope: WorkloadScope, method: str, path: str, query_thread_id: str | None = None) -> None:
    """Raise unless a workload with this scope may make this call."""
    method = "GET" if method == "HEAD" else method
    for allowed in ALLOWED:
        found = allowed.pattern.match(path)
        if found is None or allowed.method != method:
            continue
        if allowed.owner is not None and found.group("id") != str(getattr(scope, allowed.owner)):
            kind = allowed.owner.removesuffix("_id")
            raise NotFound(f"{kind} {found.group('id')} not found")
        if query_thread_id is not None and query_thread_id != str(scope.thread_id):
            raise NotFound(f"thread {query_thread_id} not found")
        return
    raise PermissionDenied(f"a workload token may not call {method} {path}: it reads its agent's configuration, "
                           "its thread, its messages and their files, and touches its workload")


def thread_of(scope: WorkloadScope | None, requested: uuid.UUID | None) -> uuid.UUID | None:
    """The thread a thread-less read (unacked messages) is confined to: the workload's own."""
    if scope is None:
        return requested
    if requested is not None and requested != scope.thread_id:
        raise NotFound(f"thread {requested} not found")
    return scope.thread_id
