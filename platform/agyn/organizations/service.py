"""Organizations and memberships: who may see an org, invite, join, leave, and manage it.

Membership rules: a cluster admin's grant is active at once; an owner's grant is an invitation,
pending until the invitee accepts (no tuple, so the org stays invisible to them until then); an
org never loses its last owner through the API.
"""

from __future__ import annotations

import builtins
import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization import objects
from agyn.authorization.engine import TupleKey
from agyn.authorization.service import AuthorizationService
from agyn.identity.service import IdentityService
from agyn.kit.collections import ensure_unreferenced
from agyn.kit.db import lock_rows, utcnow
from agyn.kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from agyn.kit.pagination import PageRequest, paginate
from agyn.kit.principal import IdentityType, Principal
from agyn.organizations.models import Membership, Organization
from agyn.organizations.schemas import (
    MembershipCreate,
    OrganizationCreate,
    OrganizationUpdate,
)
from agyn.users.service import UsersService


def role_tuple(membership: Membership) -> TupleKey:
    return TupleKey(objects.identity(membership.identity_id), membership.role,
                    objects.organization(membership.organization_id))


class OrganizationsService:
    def __init__(self, identity: IdentityService, authz: AuthorizationService, users: UsersService) -> None:
        self.identity = identity
        self.authz = authz
        self.users = users

    # --- organizations -----------------------------------------------------------------------

    async def create(
        self, session: AsyncSession, principal: Principal, data: OrganizationCreate, *, is_system: bool = False
    ) -> Organization:
        """Create an org; the creator becomes its active owner."""
        self._refuse_service(principal, "create organizations")
        await self._ensure_name_free(session, data.name)
        organization = Organization(name=data.name, is_system=is_system)
        session.add(organization)
        await session.flush()
        await self.authz.write(session, [TupleKey(objects.CLUSTER, "cluster", objects.organization(organization.id))])
        await self._activate(session, Membership(organization_id=organization.id, identity_id=principal.identity_id,
                                                 role="owner", status="active"))
        return organization

    async def get(self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID) -> Organization:
        organization = await session.get(Organization, organization_id)
        visible = await self.authz.check(principal, "can_view", objects.organization(organization_id))
        if organization is None or not visible:
            raise NotFound(f"organization {organization_id} not found")
        return organization

    async def directory(self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID,
                        prefix: str, identity_ids: builtins.list[uuid.UUID]
                        ) -> builtins.list[tuple[str, uuid.UUID, str]]:
        """The organization's @handles (people, agents, apps), for those who can see it."""
        await self.get(session, principal, organization_id)
        return await self.identity.directory(session, organization_id, prefix=prefix, identity_ids=identity_ids)

    async def resolve_reference(self, session: AsyncSession, principal: Principal,
                                organization_id: uuid.UUID) -> uuid.UUID:
        """A reference to an organization: visible to the caller; it is its own organization."""
        await self.get(session, principal, organization_id)
        return organization_id

    async def list(
        self, session: AsyncSession, principal: Principal, page: PageRequest, name: str | None = None
    ) -> tuple[builtins.list[Organization], str | None]:
        statement = select(Organization)
        if not await self.authz.is_cluster_admin(principal):
            visible = await self.authz.list_object_ids(principal, "can_view", "organization")
            statement = statement.where(Organization.id.in_([uuid.UUID(i) for i in visible]))
        if name is not None:
            statement = statement.where(Organization.name == name)
        return await paginate(session, statement, Organization.id, page)

    async def update(
        self, session: AsyncSession, principal: Principal, organization: Organization, data: OrganizationUpdate
    ) -> Organization:
        await self.authz.require(principal, "can_manage_organization", objects.organization(organization.id),
                                 "change this organization")
        if data.name is not None and data.name != organization.name:
            await self._ensure_name_free(session, data.name)
            organization.name = data.name
            organization.updated_at = utcnow()
        await session.flush()
        return organization

    async def delete(self, session: AsyncSession, principal: Principal, organization: Organization) -> None:
        await self.authz.require(principal, "can_manage_organization", objects.organization(organization.id),
                                 "delete this organization")
        if organization.is_system:
            raise FailedPrecondition("the system organization cannot be deleted")
        await ensure_unreferenced(session, "organizations", organization.id, f"organization {organization.name}")
        await self.authz.delete_object(session, objects.organization(organization.id))
        await self.identity.remove_organization(session, organization.id)
        await session.delete(organization)
        await session.flush()

    async def _ensure_name_free(self, session: AsyncSession, name: str) -> None:
        existing = await session.scalar(select(Organization.id).where(Organization.name == name))
        if existing is not None:
            message = f"an organization named {name!r} already exists (id {existing})"
            raise AlreadyExists(message, errors=[{"field": "name", "message": message}],
                                extensions={"existing_id": str(existing)})

    # --- memberships -------------------------------------------------------------------------

    async def create_membership(
        self, session: AsyncSession, principal: Principal, data: MembershipCreate
    ) -> Membership:
        """Cluster admins add members directly; owners invite (pending until accepted)."""
        self._refuse_service(principal, "manage memberships")
        organization = await self.get(session, principal, data.organization_id)
        org = objects.organization(organization.id)
        if await self.authz.check(principal, "can_add_member", org):
            status = "active"
        elif await self.authz.check(principal, "can_invite", org):
            status = "pending"
        else:
            raise PermissionDenied("only an owner of the organization may invite members")
        identity_type = await self.identity.get_type(session, data.identity_id)
        if identity_type is None:
            raise InvalidArgument.field("identity_id", f"no identity {data.identity_id} exists")
        if identity_type == IdentityType.app:
            raise InvalidArgument.field("identity_id", "an app joins an organization by being installed "
                                                       "(POST /api/v1/app-installations), not as a member")
        existing = await session.scalar(select(Membership).where(
            Membership.organization_id == organization.id, Membership.identity_id == data.identity_id))
        if existing is not None:
            raise AlreadyExists(f"identity {data.identity_id} already has a {existing.status} membership "
                                f"({existing.id}) in this organization")
        membership = Membership(organization_id=organization.id, identity_id=data.identity_id, role=data.role,
                                status=status, invited_by=principal.identity_id)
        if status == "active":
            await self._activate(session, membership)
        else:
            session.add(membership)
            await session.flush()
        return membership

    async def get_membership(
        self, session: AsyncSession, principal: Principal, membership_id: uuid.UUID
    ) -> Membership:
        """Visible to the member themself and to whoever can see the org."""
        membership = await session.get(Membership, membership_id)
        if membership is None or not (
            membership.identity_id == principal.identity_id
            or await self.authz.check(principal, "can_view", objects.organization(membership.organization_id))
        ):
            raise NotFound(f"membership {membership_id} not found")
        return membership

    async def list_memberships(
        self,
        session: AsyncSession,
        principal: Principal,
        page: PageRequest,
        organization_id: uuid.UUID | None = None,
        identity_id: uuid.UUID | None = None,
        status: str | None = None,
    ) -> tuple[builtins.list[Membership], str | None]:
        statement = select(Membership)
        if not await self.authz.is_cluster_admin(principal):
            visible = [uuid.UUID(i) for i in await self.authz.list_object_ids(principal, "can_view", "organization")]
            statement = statement.where(or_(Membership.identity_id == principal.identity_id,
                                            Membership.organization_id.in_(visible)))
        if organization_id is not None:
            statement = statement.where(Membership.organization_id == organization_id)
        if identity_id is not None:
            statement = statement.where(Membership.identity_id == identity_id)
        if status is not None:
            statement = statement.where(Membership.status == status)
        return await paginate(session, statement, Membership.id, page)

    async def update_membership_role(
        self, session: AsyncSession, principal: Principal, membership: Membership, role: str
    ) -> Membership:
        self._refuse_service(principal, "manage memberships")
        await self.authz.require(principal, "can_manage_members", objects.organization(membership.organization_id),
                                 "change roles in this organization")
        if role == membership.role:
            return membership
        membership = await self._locked(session, membership)
        if membership.role == "owner" and membership.status == "active" and role != "owner":
            await self._ensure_other_owner(session, membership)
        if membership.status == "active":
            old = role_tuple(membership)
            membership.role = role
            await self.authz.write(session, writes=[role_tuple(membership)], deletes=[old])
        else:
            membership.role = role
        membership.updated_at = utcnow()
        await session.flush()
        return membership

    async def delete_membership(self, session: AsyncSession, principal: Principal, membership: Membership) -> None:
        """Owners remove members; anyone may leave; the last owner stays."""
        self._refuse_service(principal, "manage memberships")
        if membership.identity_id != principal.identity_id:
            await self.authz.require(principal, "can_manage_members", objects.organization(membership.organization_id),
                                     "remove members of this organization")
        membership = await self._locked(session, membership)
        if membership.role == "owner" and membership.status == "active":
            await self._ensure_other_owner(session, membership)
        if membership.status == "active":
            await self.authz.write(session, deletes=[role_tuple(membership),
                                                     *await self._agent_roles_in(session, membership)])
            await self.identity.remove_nickname(session, membership.organization_id, membership.identity_id)
        await session.delete(membership)
        await session.flush()

    async def _agent_roles_in(self, session: AsyncSession, membership: Membership) -> builtins.list[TupleKey]:
        """The leaving member's roles on the org's agents: they end with the membership.

        Read from the store as this transaction sees it (the organization is locked), so a grant
        committed a moment ago is found and revoked too."""
        subject, org = objects.identity(membership.identity_id), objects.organization(membership.organization_id)
        grants = await self.authz.read_stored(session, user=subject, obj="agent:")
        in_org: dict[str, bool] = {}
        for grant in grants:
            if grant.object not in in_org:
                owners = await self.authz.read_stored(session, relation="org", obj=grant.object)
                in_org[grant.object] = any(t.user == org for t in owners)
        return [grant for grant in grants if in_org[grant.object]]

    async def accept(self, session: AsyncSession, principal: Principal, membership: Membership) -> Membership:
        self._refuse_service(principal, "manage memberships")
        self._require_invitee(principal, membership)
        if membership.status == "pending":
            membership.status = "active"
            membership.updated_at = utcnow()
            await self._activate(session, membership)
        return membership

    async def decline(self, session: AsyncSession, principal: Principal, membership: Membership) -> None:
        self._refuse_service(principal, "manage memberships")
        self._require_invitee(principal, membership)
        if membership.status != "pending":
            raise FailedPrecondition("this membership is already active; delete it to leave the organization")
        await session.delete(membership)
        await session.flush()

    def _require_invitee(self, principal: Principal, membership: Membership) -> None:
        if membership.identity_id != principal.identity_id:
            raise PermissionDenied("only the invited identity may accept or decline an invitation")

    async def _activate(self, session: AsyncSession, membership: Membership) -> None:
        """Grant the role tuple and seed the member's default @nickname (users: their username)."""
        session.add(membership)
        await session.flush()
        await self.authz.write(session, [role_tuple(membership)])
        if await self.identity.get_type(session, membership.identity_id) == IdentityType.user:
            username = await self.users.username_of(session, membership.identity_id)
            if username:
                await self.identity.try_set_nickname(session, membership.organization_id, membership.identity_id,
                                                     username)

    @staticmethod
    def _refuse_service(principal: Principal, action: str) -> None:
        if principal.is_service:
            raise PermissionDenied(f"a {principal.identity_type} service identity may not {action}; use a user's "
                                   "token")

    async def _locked(self, session: AsyncSession, membership: Membership) -> Membership:
        """Lock the membership's organization for the rest of the transaction, then re-read the
        membership: every last-owner decision about one organization is taken one at a time."""
        await lock_rows(session, Organization, [membership.organization_id])
        current = await session.scalar(select(Membership).where(Membership.id == membership.id)
                                       .execution_options(populate_existing=True))
        if current is None:
            raise NotFound(f"membership {membership.id} not found")
        return current

    async def ensure_not_last_owner(self, session: AsyncSession, identity_id: uuid.UUID, what: str) -> None:
        """Before an identity goes (a user, a runner, an app): it must not be the last active owner of
        an organization. Its organizations are locked as for a leave, so a concurrent leave cannot
        slip between."""
        owned = list(await session.scalars(select(Membership.organization_id).where(
            Membership.identity_id == identity_id, Membership.role == "owner", Membership.status == "active")))
        await lock_rows(session, Organization, owned)
        sole = []
        for organization_id in sorted(owned):
            others = await session.scalar(select(func.count()).select_from(Membership).where(
                Membership.organization_id == organization_id, Membership.role == "owner",
                Membership.status == "active", Membership.identity_id != identity_id))
            if not others:
                sole.append(str(organization_id))
        if sole:
            raise FailedPrecondition(f"{what} is the last owner of organization {', '.join(sole)}; make another "
                                     "member an owner or delete the organization first")

    async def _ensure_other_owner(self, session: AsyncSession, membership: Membership) -> None:
        owners = await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.organization_id == membership.organization_id, Membership.role == "owner",
            Membership.status == "active", Membership.id != membership.id))
        if not owners:
            raise FailedPrecondition("an organization must keep at least one owner; make another member an "
                                     "owner first")
