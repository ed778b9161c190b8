"""Runners: who may register, see and change them, and the runner's identity and service token."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization.objects import CLUSTER
from agyn.kit.collections import CollectionService
from agyn.kit.principal import IdentityType, Principal
from agyn.runners.models import Runner
from agyn.runners.resources import RUNNER
from agyn.runners.schemas import RunnerSchemas
from agyn.users.service import UsersService


class RunnersService(CollectionService):
    """A cluster-wide runner is the cluster admins' to manage and anyone's to see (every organization
    may run on it); an organization's runner follows the organization's rules. A runner may always
    read its own record."""

    resource = RUNNER
    model = Runner
    schemas = RunnerSchemas

    async def authorize_create(self, session: AsyncSession, principal: Principal, values: dict[str, Any]) -> None:
        if values["organization_id"] is None:
            await self.authz.require(principal, "admin", CLUSTER,
                                     "register a cluster-wide runner (cluster admins only)")
        else:
            await super().authorize_create(session, principal, values)

    async def can_read(self, session: AsyncSession, principal: Principal, record: Any) -> bool:
        return record.organization_id is None or record.id == principal.identity_id or \
            await super().can_read(session, principal, record)

    async def authorize_write(self, session: AsyncSession, principal: Principal, record: Any, action: str) -> None:
        if record.organization_id is None:
            await self.authz.require(principal, "admin", CLUSTER,
                                     f"{action} a cluster-wide runner (cluster admins only)")
        else:
            await super().authorize_write(session, principal, record, action)

    async def visible(self, session: AsyncSession, principal: Principal, statement: Select[Any]) -> Select[Any]:
        if await self.authz.is_cluster_admin(principal):
            return statement
        organizations = await self.related_ids(principal, "can_view", "organization")
        return statement.where(or_(Runner.organization_id.is_(None), Runner.organization_id.in_(organizations),
                                   Runner.id == principal.identity_id))

    async def after_create(self, session: AsyncSession, principal: Principal, record: Any) -> dict[str, Any]:
        users = self.platform.get(UsersService)
        token = await users.create_service_identity(session, principal, IdentityType.runner, record.id)
        return {"service_token": token}

    async def before_delete(self, session: AsyncSession, principal: Principal, record: Any) -> None:
        await self.platform.get(UsersService).remove_identity(session, record.id, f"runner {record.name}")


