"""The platform's parts for one process, wired once from settings (no globals)."""

from __future__ import annotations

import uuid

import redis.asyncio as redis
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization.service import AuthorizationService
from agyn.gateway.oidc import OIDCVerifier
from agyn.identity.service import IdentityService
from agyn.kit.clock import SYSTEM_CLOCK, Clock
from agyn.kit.collections import CollectionService
from agyn.kit.crypto import Cipher
from agyn.kit.db import Database
from agyn.kit.errors import InvalidArgument, NotFound
from agyn.kit.events import EventBus
from agyn.kit.principal import Principal
from agyn.kit.resources import Field
from agyn.modules import load_registry, submodules
from agyn.organizations.service import OrganizationsService
from agyn.settings import Settings
from agyn.users.service import UsersService


def collection_services() -> list[type[CollectionService]]:
    """The services of every registry collection with generic storage, in dependency order."""
    return [service for module in submodules("service") for service in module.SERVICES]


class Platform:
    def __init__(self, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.settings = settings
        self.clock = clock
        self.database = Database(settings.effective_database_url)
        self.cipher: Cipher | None = None  # set at start, once the key is loaded or created
        self.authz = AuthorizationService.from_settings(settings)
        self.redis = redis.from_url(settings.redis_url) if settings.redis_url else None
        self.oidc = OIDCVerifier(settings.oidc) if settings.oidc.enabled else None
        self.identity = IdentityService()
        self.users = UsersService(self.identity, self.authz, settings.token_cache_seconds, clock)
        self.organizations = OrganizationsService(self.identity, self.authz, self.users)
        self.events = EventBus()
        load_registry()
        self.collections: dict[str, CollectionService] = {
            service_class.resource.collection: service_class(self) for service_class in collection_services()
        }

    def require_cipher(self) -> Cipher:
        if self.cipher is None:
            raise RuntimeError("the encryption key is loaded at start; the platform has not started")
        return self.cipher

    async def resolve_reference(
        self, session: AsyncSession, principal: Principal, field: Field, target_id: uuid.UUID
    ) -> uuid.UUID | None:
        """Check that the object a field refers to exists and is visible; return its organization."""
        target = field.references
        try:
            if target == "organizations":
                await self.organizations.get(session, principal, target_id)
                return target_id
            if target == "identities":
                if await self.identity.get_type(session, target_id) is None:
                    raise NotFound(f"identity {target_id} not found")
                return None
            service = self.collections[str(target)]
            record = await service.get(session, principal, target_id)
            return await service.organization_of(session, record)
        except NotFound:
            singular = str(target).rstrip("s").replace("-", " ")
            raise InvalidArgument.field(field.name, f"no {singular} {target_id} exists, or you cannot see it") \
                from None

    async def aclose(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        if self.oidc is not None:
            await self.oidc.aclose()
        await self.authz.backend.close()
        await self.database.dispose()
