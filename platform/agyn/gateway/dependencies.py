"""Request-scoped dependencies: the platform, the session, and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.container import Platform
from agyn.kit.errors import Unauthenticated
from agyn.kit.http import get_session
from agyn.kit.principal import IdentityType, Principal
from agyn.users.tokens import TOKEN_MARKER


async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def authenticate(
    request: Request,
    platform: Annotated[Platform, Depends(get_platform)],
    session: Annotated[AsyncSession, Depends(get_session)],
) -> Principal:
    """Resolve `Authorization: Bearer <token>`: an agyn API token, else an OIDC access token."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("missing credentials: send 'Authorization: Bearer <token>'")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise Unauthenticated("use the Bearer scheme: 'Authorization: Bearer <token>'")
    if credential.startswith(TOKEN_MARKER):
        found = await platform.users.authenticate_token(session, credential)
        if found is None:
            raise Unauthenticated("the API token is invalid, expired or revoked")
        principal = found
    elif platform.oidc is not None:
        claims = await platform.oidc.verify(credential)
        user = await platform.users.get_by_subject(session, str(claims["sub"]))
        if user is None:
            user = await platform.users.provision(session, str(claims["sub"]), _profile_claims(platform, claims))
        principal = Principal(user.id, IdentityType.user)
    else:
        raise Unauthenticated("the bearer token is not an agyn API token and no OIDC issuer is configured")
    request.state.principal = principal
    return principal


def _profile_claims(platform: Platform, claims: dict[str, object]) -> dict[str, object]:
    oidc = platform.settings.oidc
    return {
        "preferred_username": claims.get(oidc.username_claim),
        "name": claims.get(oidc.name_claim),
        "email": claims.get(oidc.email_claim),
    }


PlatformDep = Annotated[Platform, Depends(get_platform)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(authenticate)]
