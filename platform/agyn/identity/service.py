"""Identity registry: every module that creates an identity registers it here first."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.identity.models import Identity, OrgNickname
from agyn.identity.nicknames import NICKNAME_MESSAGE, NICKNAME_PATTERN
from agyn.kit.errors import AlreadyExists, InvalidArgument, NotFound
from agyn.kit.ids import uuid7
from agyn.kit.principal import IdentityType, Principal


def validate_nickname(nickname: str, field: str = "nickname") -> str:
    if not NICKNAME_PATTERN.fullmatch(nickname):
        raise InvalidArgument.field(field, NICKNAME_MESSAGE)
    return nickname


class IdentityService:
    async def register(
        self, session: AsyncSession, identity_type: IdentityType, identity_id: uuid.UUID | None = None
    ) -> Identity:
        identity = Identity(id=identity_id or uuid7(), type=identity_type.value)
        session.add(identity)
        await session.flush()
        return identity

    async def get_type(self, session: AsyncSession, identity_id: uuid.UUID) -> IdentityType | None:
        value = await session.scalar(select(Identity.type).where(Identity.id == identity_id))
        return IdentityType(value) if value else None

    async def get_types(self, session: AsyncSession,
                        identity_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, IdentityType]:
        """The type of each of these identities that exists (one query)."""
        ids = set(identity_ids)
        if not ids:
            return {}
        rows = await session.execute(select(Identity.id, Identity.type).where(Identity.id.in_(ids)))
        return {row.id: IdentityType(row.type) for row in rows}

    async def resolve_reference(self, session: AsyncSession, principal: Principal,
                                identity_id: uuid.UUID) -> uuid.UUID | None:
        """A reference to an identity: it must exist; identities belong to no one organization."""
        if await self.get_type(session, identity_id) is None:
            raise NotFound(f"identity {identity_id} not found")
        return None

    async def unregister(self, session: AsyncSession, identity_id: uuid.UUID) -> None:
        await session.execute(delete(OrgNickname).where(OrgNickname.identity_id == identity_id))
        await session.execute(delete(Identity).where(Identity.id == identity_id))

    async def set_nickname(
        self, session: AsyncSession, organization_id: uuid.UUID, identity_id: uuid.UUID, nickname: str
    ) -> None:
        """Give an identity its handle in an org; a handle is unique per org."""
        validate_nickname(nickname)
        holder = await self.resolve_nickname(session, organization_id, nickname)
        if holder is not None and holder != identity_id:
            raise AlreadyExists(f"nickname @{nickname} is already taken in this organization")
        await session.execute(
            delete(OrgNickname).where(
                OrgNickname.organization_id == organization_id, OrgNickname.identity_id == identity_id
            )
        )
        session.add(OrgNickname(organization_id=organization_id, nickname=nickname, identity_id=identity_id))
        await session.flush()

    async def try_set_nickname(
        self, session: AsyncSession, organization_id: uuid.UUID, identity_id: uuid.UUID, nickname: str
    ) -> bool:
        """Seed a default handle; skipped (False) when it is taken or invalid."""
        if not NICKNAME_PATTERN.fullmatch(nickname):
            return False
        if await self.resolve_nickname(session, organization_id, nickname) is not None:
            return False
        await self.set_nickname(session, organization_id, identity_id, nickname)
        return True

    async def resolve_nickname(
        self, session: AsyncSession, organization_id: uuid.UUID, nickname: str
    ) -> uuid.UUID | None:
        return await session.scalar(
            select(OrgNickname.identity_id).where(
                OrgNickname.organization_id == organization_id, OrgNickname.nickname == nickname.lstrip("@")
            )
        )

    async def directory(self, session: AsyncSession, organization_id: uuid.UUID, *, prefix: str = "",
                        identity_ids: Iterable[uuid.UUID] = (), limit: int = 100) -> list[tuple[str, uuid.UUID, str]]:
        """(nickname, identity id, identity type) of an organization's handles, by nickname: those starting
        with `prefix`, or those of these identities."""
        query = (select(OrgNickname.nickname, OrgNickname.identity_id, Identity.type)
                 .join(Identity, Identity.id == OrgNickname.identity_id)
                 .where(OrgNickname.organization_id == organization_id))
        ids = set(identity_ids)
        if ids:
            query = query.where(OrgNickname.identity_id.in_(ids))
        if prefix:
            # nicknames are [a-z0-9_-]: escape LIKE's own wildcard, "_"
            query = query.where(OrgNickname.nickname.like(prefix.replace("_", r"\_") + "%", escape="\\"))
        rows = await session.execute(query.order_by(OrgNickname.nickname).limit(limit))
        return [(row.nickname, row.identity_id, row.type) for row in rows]

    async def remove_nickname(self, session: AsyncSession, organization_id: uuid.UUID, identity_id: uuid.UUID) -> None:
        await session.execute(
            delete(OrgNickname).where(
                OrgNickname.organization_id == organization_id, OrgNickname.identity_id == identity_id
            )
        )

    async def remove_organization(self, session: AsyncSession, organization_id: uuid.UUID) -> None:
        await session.execute(delete(OrgNickname).where(OrgNickname.organization_id == organization_id))
