"""Rooms: what a client may listen to, parsed and authorized.

| room | who may listen |
|---|---|
| `thread_participant:me` / `thread_participant:<own id>` | that identity (`me` is rewritten to the caller's id) |
| `conversation:<id>` | who may read the conversation (its participants; org owners and cluster admins) |
| `agent:<id>` | members of the agent's organization |
| `workload:<id>` | members of the workload's organization |
| `organization:<id>` | its members |
| `trace:<trace id>` (32 hex digits) | members of the organization its spans belong to |

Anything else is refused. A request for several rooms is granted whole or refused whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from agyn.authorization import objects
from agyn.authorization.service import AuthorizationService
from agyn.kit.errors import InvalidArgument, PermissionDenied
from agyn.kit.principal import Principal

MAX_ROOMS = 100
ME = "me"


@dataclass(frozen=True, slots=True)
class Room:
    kind: str
    id: uuid.UUID

    def __str__(self) -> str:
        return f"{self.kind}:{self.id.hex if self.kind == 'trace' else self.id}"  # OTLP writes trace ids as hex


class RoomAuthorizer(Protocol):
    """One question per kind of room: may `principal` listen to the room of this object?"""

    async def thread_participant(self, principal: Principal, identity_id: uuid.UUID) -> bool: ...

    async def conversation(self, principal: Principal, conversation_id: uuid.UUID) -> bool: ...

    async def agent(self, principal: Principal, agent_id: uuid.UUID) -> bool: ...

    async def workload(self, principal: Principal, workload_id: uuid.UUID) -> bool: ...

    async def organization(self, principal: Principal, organization_id: uuid.UUID) -> bool: ...

    async def trace(self, principal: Principal, trace_id: uuid.UUID) -> bool: ...


WorkloadOrganization = Callable[[uuid.UUID], Awaitable[uuid.UUID | None]]
"""The organization of a workload, or None when there is no such workload."""
TraceReadable = Callable[[Principal, str], Awaitable[bool]]
"""Whether the caller may read any span of a trace (given as hex)."""


class ModelRoomAuthorizer:
    """Answers from the authorization model; no database round trip (the embedded engine's index is in
    memory, OpenFGA is one call)."""

    def __init__(self, authz: AuthorizationService, workload_organization: WorkloadOrganization | None = None,
                 trace_readable: TraceReadable | None = None) -> None:
        self.authz = authz
        self.workload_organization = workload_organization
        """Set by the module that owns workloads; until then no `workload:` room is granted."""
        self.trace_readable = trace_readable
        """Set by the tracing module; until then no `trace:` room is granted."""

    async def thread_participant(self, principal: Principal, identity_id: uuid.UUID) -> bool:
        return identity_id == principal.identity_id

    async def conversation(self, principal: Principal, conversation_id: uuid.UUID) -> bool:
        # a conversation is a thread (same id): its readers are its participants (and who oversees the org)
        return await self.authz.check(principal, "can_read", f"thread:{conversation_id}")

    async def agent(self, principal: Principal, agent_id: uuid.UUID) -> bool:
        return await self.authz.check(principal, "can_view", objects.agent(agent_id))

    async def workload(self, principal: Principal, workload_id: uuid.UUID) -> bool:
        if self.workload_organization is None:
            return False
        organization_id = await self.workload_organization(workload_id)
        return organization_id is not None and await self.organization(principal, organization_id)

    async def organization(self, principal: Principal, organization_id: uuid.UUID) -> bool:
        return await self.authz.check(principal, "can_view", objects.organization(organization_id))

    async def trace(self, principal: Principal, trace_id: uuid.UUID) -> bool:
        return self.trace_readable is not None and await self.trace_readable(principal, trace_id.hex)


KINDS = ("thread_participant", "conversation", "agent", "workload", "organization", "trace")


def split_rooms(text: str) -> list[str]:
    """`a,b` (the SSE query parameter) → the room names, blanks dropped."""
    return [room.strip() for room in text.split(",") if room.strip()]


def parse_room(name: str, principal: Principal) -> Room | None:
    """The room `name` stands for (with `me` resolved), or None when it names no room of a known kind."""
    kind, sep, raw_id = name.partition(":")
    if not sep or kind not in KINDS:
        return None
    if kind == "thread_participant" and raw_id == ME:
        return Room(kind, principal.identity_id)
    try:
        return Room(kind, uuid.UUID(raw_id))
    except ValueError:
        return None


async def may_listen(authorizer: RoomAuthorizer, principal: Principal, room: Room) -> bool:
    check: Callable[[Principal, uuid.UUID], Awaitable[bool]] = getattr(authorizer, room.kind)
    return await check(principal, room.id)


async def authorize_rooms(authorizer: RoomAuthorizer, principal: Principal, names: Sequence[str]) -> list[str]:
    """The rooms granted, by their canonical names (`thread_participant:me` → `thread_participant:<id>`).

    400 when there are none or too many; 403, naming each refused room, when any is refused.
    """
    if not names:
        raise InvalidArgument.field("rooms", "name at least one room, e.g. thread_participant:me")
    if len(names) > MAX_ROOMS:
        raise InvalidArgument.field("rooms", f"at most {MAX_ROOMS} rooms per subscription")
    granted: list[str] = []
    refused: list[str] = []
    for name in dict.fromkeys(names):
        room = parse_room(name, principal)
        if room is None:
            refused.append(f"{name}: not a room (rooms are {', '.join(k + ':<id>' for k in KINDS)})")
        elif not await may_listen(authorizer, principal, room):
            refused.append(f"{name}: you may not listen to this room")
        elif str(room) not in granted:
            granted.append(str(room))
    if refused:
        raise PermissionDenied("you may not listen to " + ("this room" if len(refused) == 1 else "these rooms"),
                               errors=[{"field": "rooms", "message": message} for message in refused])
    return granted
