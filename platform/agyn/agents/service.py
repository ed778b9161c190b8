"""Agents: their identity and @nickname, the tuples that say who may do what with them, roles on
them, and their configuration, every change of which makes the agent newer (`agent.updated`)."""

from __future__ import annotations

import builtins
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.agents.models import (
    Agent,
    Env,
    Hook,
    InitScript,
    Mcp,
    Skill,
    Volume,
    VolumeAttachment,
)
from agyn.agents.resources import (
    AGENT,
    AGENT_ROLE,
    AGENT_ROLES,
    AGENT_SCOPE,
    ENV,
    HOOK,
    INIT_SCRIPT,
    MCP,
    SKILL,
    VOLUME,
    VOLUME_ATTACHMENT,
)
from agyn.agents.schemas import (
    AgentRoleSchemas,
    AgentSchemas,
    EnvSchemas,
    HookSchemas,
    InitScriptSchemas,
    McpSchemas,
    SkillSchemas,
    VolumeAttachmentSchemas,
    VolumeSchemas,
)
from agyn.authorization import objects
from agyn.authorization.collections import TupleCollectionService
from agyn.authorization.engine import TupleKey
from agyn.authorization.service import AuthorizationService
from agyn.identity.service import IdentityService
from agyn.kit.collections import FULL_VIEW, CollectionService, resolve_reference
from agyn.kit.db import lock_rows, utcnow
from agyn.kit.errors import AlreadyExists, InvalidArgument, NotFound
from agyn.kit.http import validated_json
from agyn.kit.pagination import KeyPageRequest, paginate_by_key
from agyn.kit.platform import Platform
from agyn.kit.principal import IdentityType, Principal
from agyn.organizations.models import Membership, Organization
from agyn.users.service import UsersService

CONFIGURATION_FIELDS = ("image", "init_image", "configuration", "idle_timeout", "runner_labels", "capabilities",
                        "resources")
"""What only those who may read an agent's configuration see; every member sees the rest (its metadata)."""
METADATA_VIEW = "metadata"
"""The view of an agent without its configuration."""
CREATED = "agents.created"
"""Session key: agents created in this request, whose tuples become visible only once it commits."""


async def touch_agent(platform: Platform, session: AsyncSession, agent_id: uuid.UUID) -> None:
    """A part of the agent's configuration changed: the agent is newer (for the orchestrator)."""
    organization_id = (await session.execute(
        update(Agent).where(Agent.id == agent_id).values(updated_at=utcnow()).returning(Agent.organization_id)
        .execution_options(synchronize_session=False))).scalar_one_or_none()
    platform.events.publish_after_commit(session, "agent.updated", "agents",
                                         rooms=agent_rooms(agent_id, organization_id), agent_id=str(agent_id))


def agent_rooms(agent_id: uuid.UUID, organization_id: uuid.UUID | None) -> tuple[str, ...]:
    """The notification rooms of an agent's events: its own, and its organization's."""
    return (f"agent:{agent_id}",) + ((f"organization:{organization_id}",) if organization_id else ())


class AgentsService(TupleCollectionService):
    """Org members see an agent's metadata; its owners and maintainers (and whoever manages the org)
    its configuration; changing who may use it (availability) or deleting it takes `can_delete`."""

    resource = AGENT
    model = Agent
    schemas = AgentSchemas

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.identity = platform.get(IdentityService)
        self.users = platform.get(UsersService)

    async def can_read(self, session: AsyncSession, principal: Principal, record: Any) -> bool:
        return await self.authz.check(principal, "can_view", objects.agent(record.id))

    async def visible(self, session: AsyncSession, principal: Principal, statement: Select[Any]) -> Select[Any]:
        if await self.authz.is_cluster_admin(principal):
            return statement
        return statement.where(self.platform.database.among(
            Agent.__table__.c.id, await self.related_ids(principal, "can_view", "agent")))

    async def authorize_write(self, session: AsyncSession, principal: Principal, record: Any, action: str) -> None:
        relation = "can_delete" if action == "delete" else "can_edit_config"
        await self.authz.require(principal, relation, objects.agent(record.id), f"{action} this agent")

    async def views(self, session: AsyncSession, principal: Principal, records: Sequence[Any]) -> Sequence[str]:
        readable = await self.authz.check_many(principal, "can_read_config", [objects.agent(r.id) for r in records])
        created = session.info.get(CREATED, set())  # by this caller, who may manage the organization
        return [FULL_VIEW if allowed or record.id in created else METADATA_VIEW
                for record, allowed in zip(records, readable, strict=True)]

    def to_read(self, record: Any, view: str = FULL_VIEW) -> dict[str, Any]:
        body = super().to_read(record, view)
        if view == METADATA_VIEW:
            body.update(dict.fromkeys(CONFIGURATION_FIELDS))
        return body

    async def before_create(self, session: AsyncSession, principal: Principal, record: Any,
                            values: dict[str, Any]) -> None:
        """The agent is an identity (same id), so its @nickname shares one namespace with users'."""
        await self.identity.register(session, IdentityType.agent, record.id)
        if values.get("nickname"):
            await self.identity.set_nickname(session, record.organization_id, record.id, values["nickname"])

    async def after_create(self, session: AsyncSession, principal: Principal, record: Any) -> dict[str, Any]:
        agent = objects.agent(record.id)
        tuples = [TupleKey(objects.organization(record.organization_id), "org", agent),
                  TupleKey(principal.subject, "owner", agent),
                  TupleKey(objects.identity(record.id), "itself", agent)]
        if record.availability == "internal":
            tuples.append(self._internal_access(record))
        await self.authz.write(session, tuples)
        session.info.setdefault(CREATED, set()).add(record.id)
        return {}

    async def before_update(self, session: AsyncSession, principal: Principal, record: Any,
                            changes: dict[str, Any]) -> None:
        if "availability" in changes:
            await self.authz.require(principal, "can_delete", objects.agent(record.id),
                                     "change who may use this agent (its availability)")
            access = [self._internal_access(record)]
            internal = changes["availability"] == "internal"
            await self.authz.write(session, writes=access if internal else [], deletes=[] if internal else access)
        if "nickname" in changes:
            if changes["nickname"] is None:
                await self.identity.remove_nickname(session, record.organization_id, record.id)
            else:
                await self.identity.set_nickname(session, record.organization_id, record.id,
                                                          changes["nickname"])

    async def after_write(self, session: AsyncSession, principal: Principal, record: Any, action: str) -> None:
        self.platform.events.publish_after_commit(session, "agent.updated", "agents",
                                                  rooms=agent_rooms(record.id, record.organization_id),
                                                  agent_id=str(record.id))

    async def before_delete(self, session: AsyncSession, principal: Principal, record: Any) -> None:
        """Its configuration goes with it (cascade); so do its tuples, its grants and its identity.

        The agent's row is locked first and the tuples read as this transaction sees them, so a role
        granted concurrently is either seen here and deleted, or refused for want of the agent."""
        await lock_rows(session, Agent, [record.id])
        await self.authz.delete_object(session, objects.agent(record.id))
        await self.users.remove_identity(session, record.id, f"agent {record.name}")

    def _internal_access(self, record: Any) -> TupleKey:
        return TupleKey(objects.organization(record.organization_id), "internal_access", objects.agent(record.id))


class AgentConfigurationService(CollectionService):
    """A part of an agent's configuration: every change makes the agent newer."""

    async def after_write(self, session: AsyncSession, principal: Principal, record: Any, action: str) -> None:
        await touch_agent(self.platform, session, getattr(record, AGENT_SCOPE.column))


class McpsService(AgentConfigurationService):
    resource = MCP
    model = Mcp
    schemas = McpSchemas


class SkillsService(AgentConfigurationService):
    resource = SKILL
    model = Skill
    schemas = SkillSchemas


class HooksService(AgentConfigurationService):
    resource = HOOK
    model = Hook
    schemas = HookSchemas


class EnvsService(AgentConfigurationService):
    resource = ENV
    model = Env
    schemas = EnvSchemas


class InitScriptsService(AgentConfigurationService):
    resource = INIT_SCRIPT
    model = InitScript
    schemas = InitScriptSchemas


class VolumesService(CollectionService):
    """A volume is the organization's; changing one changes every agent it is attached to."""

    resource = VOLUME
    model = Volume
    schemas = VolumeSchemas

    async def after_write(self, session: AsyncSession, principal: Principal, record: Any, action: str) -> None:
        if action != "update":
            return  # a new volume is attached nowhere; an attached one cannot be deleted
        owners = await session.scalars(select(VolumeAttachment.owner_agent_id).distinct()
                                       .where(VolumeAttachment.volume_id == record.id))
        for agent_id in owners:
            await touch_agent(self.platform, session, agent_id)


class VolumeAttachmentsService(AgentConfigurationService):
    resource = VOLUME_ATTACHMENT
    model = VolumeAttachment
    schemas = VolumeAttachmentSchemas


# --- agent roles: tuples on agent:<id>, presented as a collection -----------------------------------


@dataclass(frozen=True)
class AgentRole:
    agent_id: uuid.UUID
    identity_id: uuid.UUID
    role: str

    @property
    def id(self) -> str:
        return f"{self.agent_id}:{self.identity_id}"

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha256(f"{self.id}:{self.role}".encode()).hexdigest()[:20]}"'

    @property
    def tuple(self) -> TupleKey:
        return TupleKey(objects.identity(self.identity_id), self.role, objects.agent(self.agent_id))

    @classmethod
    def from_tuple(cls, key: TupleKey) -> AgentRole | None:
        """The role a tuple grants, if it is a role of an identity on an agent."""
        user_type, _, user_id = key.user.partition(":")
        if user_type != "identity" or key.relation not in AGENT_ROLES or "#" in user_id:
            return None
        return cls(uuid.UUID(key.object.partition(":")[2]), uuid.UUID(user_id), key.relation)

    def to_read(self) -> dict[str, Any]:
        return {"id": self.id, "agent_id": self.agent_id, "identity_id": self.identity_id, "role": self.role,
                "etag": self.etag, "created_at": None, "updated_at": None}


def parse_role_id(role_id: str) -> tuple[uuid.UUID, uuid.UUID]:
    agent_id, _, identity_id = role_id.partition(":")
    try:
        return uuid.UUID(agent_id), uuid.UUID(identity_id)
    except ValueError:
        raise InvalidArgument.field("id", f"{role_id!r} is not an agent role id (<agent_id>:<identity_id>)") \
            from None


class AgentRolesService:
    """Who holds which role on an agent: stored only as tuples (one role per identity), read by those
    who may read the agent's configuration, granted and revoked by those who may manage its roles."""

    resource = AGENT_ROLE
    schemas = AgentRoleSchemas

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.authz = platform.get(AuthorizationService)

    async def create(self, session: AsyncSession, principal: Principal,
                     data: BaseModel) -> tuple[AgentRole, dict[str, Any]]:
        values = data.model_dump()
        role = AgentRole(values["agent_id"], values["identity_id"], values["role"])
        organization_id = await resolve_reference(self.platform, session, principal, AGENT_ROLE.field("agent_id"),
                                                  role.agent_id)
        await self._require_manage(principal, role)
        await resolve_reference(self.platform, session, principal, AGENT_ROLE.field("identity_id"), role.identity_id)
        await self._lock(session, organization_id, role.agent_id)
        await self._require_member(session, organization_id, role.identity_id)
        existing = self._from_tuples(await self.authz.read_stored(
            session, user=objects.identity(role.identity_id), obj=objects.agent(role.agent_id)))
        if existing:
            raise AlreadyExists(f"identity {role.identity_id} already has the role {existing[0].role} on agent "
                                f"{role.agent_id}; change it with PATCH {AGENT_ROLE.path}/{role.id}")
        await self.authz.write(session, [role.tuple])
        return role, {}

    async def get(self, session: AsyncSession, principal: Principal, role_id: str) -> AgentRole:
        agent_id, identity_id = parse_role_id(role_id)
        roles = await self._roles(agent_id, identity_id) \
            if await self.authz.check(principal, "can_read_config", objects.agent(agent_id)) else []
        if not roles:
            raise NotFound(f"agent role {role_id} not found")
        return roles[0]

    get_readonly = get  # roles are tuples, read from the authorization store: nothing to cache

    async def list(self, session: AsyncSession, principal: Principal, page: KeyPageRequest,
                   filters: dict[str, Any]) -> tuple[builtins.list[AgentRole], str | None]:
        agent_id: uuid.UUID | None = filters.get("agent_id")
        identity_id: uuid.UUID | None = filters.get("identity_id")
        if agent_id is not None:
            roles = await self._roles(agent_id, identity_id)
        elif identity_id is not None:
            grants = await self.authz.read(user=objects.identity(identity_id), obj=objects.every("agent"))
            roles = self._from_tuples(grants)
        else:
            roles = [role for agent in await self.authz.list_object_ids(principal, "can_read_config", "agent")
                     for role in await self._roles(uuid.UUID(agent))]
        agents = sorted({role.agent_id for role in roles})
        readable = {agent for agent, allowed in zip(agents, await self.authz.check_many(
            principal, "can_read_config", [objects.agent(a) for a in agents]), strict=True) if allowed}
        return paginate_by_key([role for role in roles if role.agent_id in readable], lambda role: role.id, page)

    async def update(self, session: AsyncSession, principal: Principal, role: AgentRole,
                     data: BaseModel) -> AgentRole:
        await self._require_manage(principal, role)
        given = data.model_dump(exclude_unset=True)
        for name in ("agent_id", "identity_id"):
            if name in given and given[name] != getattr(role, name):
                raise InvalidArgument.field(name, "cannot be changed; create a new agent role instead "
                                                  "(Terraform replaces it)")
        if "role" in given and given["role"] is None:
            raise InvalidArgument.field("role", "is required and cannot be null")
        changed = replace(role, role=given.get("role") or role.role)
        if changed == role:
            return role
        organization_id = await session.scalar(select(Agent.organization_id).where(Agent.id == role.agent_id))
        await self._lock(session, organization_id, role.agent_id)
        await self._require_member(session, organization_id, role.identity_id)
        await self.authz.write(session, writes=[changed.tuple], deletes=[role.tuple])
        return changed

    async def present(self, session: AsyncSession, principal: Principal,
                      records: Sequence[AgentRole]) -> builtins.list[dict[str, Any]]:
        return [role.to_read() for role in records]

    async def present_json(self, session: AsyncSession, principal: Principal,
                           records: Sequence[AgentRole]) -> builtins.list[bytes]:
        return [validated_json(self.schemas.read, role.to_read()) for role in records]

    async def delete(self, session: AsyncSession, principal: Principal, role: AgentRole) -> None:
        """Even an agent's last owner may go: whoever manages the organization keeps control."""
        await self._require_manage(principal, role)
        await self.authz.write(session, deletes=[role.tuple])

    async def _require_manage(self, principal: Principal, role: AgentRole) -> None:
        await self.authz.require(principal, "can_manage_roles", objects.agent(role.agent_id),
                                 "manage the roles on this agent")

    async def _lock(self, session: AsyncSession, organization_id: uuid.UUID | None, agent_id: uuid.UUID) -> None:
        """A grant takes the locks its rivals take: the organization's (a membership's removal) and
        the agent's (its deletion), in that order; whichever commits second sees the other."""
        if organization_id is not None:
            await lock_rows(session, Organization, [organization_id])
        if not await lock_rows(session, Agent, [agent_id]):
            raise InvalidArgument.field("agent_id", f"no agent {agent_id} exists, or you cannot see it")

    async def _require_member(self, session: AsyncSession, organization_id: uuid.UUID | None,
                              identity_id: uuid.UUID) -> None:
        active = await session.scalar(select(Membership.id).where(
            Membership.organization_id == organization_id, Membership.identity_id == identity_id,
            Membership.status == "active"))
        if active is None:
            raise InvalidArgument.field("identity_id", f"identity {identity_id} is not an active member of the "
                                                       "agent's organization; add them to it first")

    async def _roles(self, agent_id: uuid.UUID, identity_id: uuid.UUID | None = None) -> builtins.list[AgentRole]:
        user = objects.identity(identity_id) if identity_id is not None else None
        return self._from_tuples(await self.authz.read(user=user, obj=objects.agent(agent_id)))

    def _from_tuples(self, keys: builtins.list[TupleKey]) -> builtins.list[AgentRole]:
        return [role for role in map(AgentRole.from_tuple, keys) if role is not None]


