"""Who is calling: an agyn API token, else an OIDC access token from the configured issuer (the user
is provisioned on first sight)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agyn.gateway.oidc import OIDCVerifier
from agyn.kit.errors import Unauthenticated
from agyn.kit.principal import IdentityType, Principal
from agyn.settings import OIDCSettings
from agyn.users.service import UsersService
from agyn.users.tokens import TOKEN_MARKER
from agyn.users.workload_tokens import WORKLOAD_TOKEN_MARKER


class BearerAuthenticator:
    def __init__(self, users: UsersService, oidc_settings: OIDCSettings) -> None:
        self.users = users
        self.oidc_settings = oidc_settings
        self.oidc = OIDCVerifier(oidc_settings) if oidc_settings.enabled else None

    async def authenticate(self, session: AsyncSession, credential: str) -> Principal:
        if credential.startswith(WORKLOAD_TOKEN_MARKER):
            scoped = await self.users.authenticate_workload_token(session, credential)
            if scoped is None:
                raise Unauthenticated("the workload token is invalid, expired or revoked (its workload stopped)")
            return scoped
        if credential.startswith(TOKEN_MARKER):
            found = await self.users.authenticate_token(session, credential)
            if found is None:
                raise Unauthenticated("the API token is invalid, expired or revoked")
            return found
        if self.oidc is None:
            raise Unauthenticated("the bearer token is not an agyn API token and no OIDC issuer is configured")
        claims = await self.oidc.verify(credential)
        user = await self.users.get_by_subject(session, str(claims["sub"]))
        if user is None:
            user = await self.users.provision(session, str(claims["sub"]), self._profile(claims))
        return Principal(user.id, IdentityType.user)

    def _profile(self, claims: dict[str, object]) -> dict[str, object]:
        oidc = self.oidc_settings
        return {
            "preferred_username": claims.get(oidc.username_claim),
            "name": claims.get(oidc.name_claim),
            "email": claims.get(oidc.email_claim),
        }

    async def aclose(self) -> None:
        if self.oidc is not None:
            await self.oidc.aclose()
