"""The platform's parts for one process, wired once from settings (no globals)."""

from __future__ import annotations

import redis.asyncio as redis

from agyn.authorization.service import AuthorizationService
from agyn.gateway.oidc import OIDCVerifier
from agyn.identity.service import IdentityService
from agyn.kit.crypto import Cipher
from agyn.kit.db import Database
from agyn.organizations.service import OrganizationsService
from agyn.settings import Settings
from agyn.users.service import UsersService


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database = Database(settings.effective_database_url)
        self.cipher: Cipher | None = None  # set at start, once the key is loaded or created
        self.authz = AuthorizationService.from_settings(settings)
        self.redis = redis.from_url(settings.redis_url) if settings.redis_url else None
        self.oidc = OIDCVerifier(settings.oidc) if settings.oidc.enabled else None
        self.identity = IdentityService()
        self.users = UsersService(self.identity, self.authz)
        self.organizations = OrganizationsService(self.identity, self.authz, self.users)

    async def aclose(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        if self.oidc is not None:
            await self.oidc.aclose()
        await self.authz.backend.close()
        await self.database.dispose()
