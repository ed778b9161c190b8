"""Who is calling: the authenticated identity every service authorizes against."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class IdentityType(StrEnum):
    user = "user"
    agent = "agent"
    runner = "runner"
    app = "app"
    platform = "platform"


SERVICE_IDENTITIES = frozenset({IdentityType.runner, IdentityType.app})
"""Non-person identities that act through a service token: they never found an organization nor
manage its members (least privilege; a runner or an app is not an owner)."""


@dataclass(frozen=True, slots=True)
class WorkloadScope:
    """What a workload token confines its agent to: one thread, one workload, the agent's own
    configuration (enforced in one place, `agyn.api.workload_scope`)."""

    agent_id: uuid.UUID
    thread_id: uuid.UUID
    workload_id: uuid.UUID
    organization_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Principal:
    identity_id: uuid.UUID
    identity_type: IdentityType
    api_token_id: uuid.UUID | None = None
    scope: WorkloadScope | None = None
    """Set for a workload token: the caller is the agent, inside one workload only."""

    @property
    def is_service(self) -> bool:
        return self.identity_type in SERVICE_IDENTITIES

    @property
    def subject(self) -> str:
        """The principal as an authorization-model user (`identity:<id>`)."""
        return f"identity:{self.identity_id}"  # authorization.objects.identity, which the kit cannot import


class Authenticator(Protocol):
    """Turns a bearer credential into a principal; the users module provides it."""

    async def authenticate(self, session: AsyncSession, credential: str) -> Principal:
        """The caller behind `credential`; raises `Unauthenticated` when there is none."""
        ...
