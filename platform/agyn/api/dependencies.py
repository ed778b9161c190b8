"""Request-scoped dependencies: the platform, the request's session, the authenticated caller, and
a module's service by type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.api.workload_scope import require_allowed
from agyn.kit.errors import Unauthenticated
from agyn.kit.http import check_if_match, request_session
from agyn.kit.platform import Platform, platform_of
from agyn.kit.principal import Principal

T = TypeVar("T")


async def get_platform(request: Request) -> Platform:
    return platform_of(request)


async def get_session(request: Request) -> AsyncSession:
    """The request's session (async, so FastAPI does not hop to a thread); `TransactionalRoute`
    commits or discards it."""
    return request_session(request)


async def authenticate(
    request: Request,
    platform: Annotated[Platform, Depends(get_platform)],
    session: Annotated[AsyncSession, Depends(get_session)],
) -> Principal:
    """Resolve `Authorization: Bearer <token>` through the platform's authenticator."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("missing credentials: send 'Authorization: Bearer <token>'")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise Unauthenticated("use the Bearer scheme: 'Authorization: Bearer <token>'")
    principal = await platform.authenticator.authenticate(session, credential)
    if principal.scope is not None:
        require_allowed(principal.scope, request.method, request.url.path, request.query_params.get("thread_id"))
    request.state.principal = principal
    return principal


async def authenticate_briefly(request: Request) -> Principal:
    """The caller, in a transaction of its own that ends at once: for streaming routes, which hold no
    database session while bytes flow."""
    platform = platform_of(request)
    async with platform.database.transaction() as session:
        return await authenticate(request, platform, session)


def service(kind: type[T]) -> Callable[[Request], Coroutine[Any, Any, T]]:
    """A dependency giving the module service `kind`: `Annotated[UsersService, Depends(service(UsersService))]`."""

    async def provide(request: Request) -> T:
        return platform_of(request).get(kind)

    return provide


PlatformDep = Annotated[Platform, Depends(get_platform)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(authenticate)]


class Versioned(Protocol):
    @property
    def etag(self) -> str: ...


V = TypeVar("V", bound=Versioned)


async def unchanged_since(load: Awaitable[V], if_match: str | None) -> V:
    """The object `load` finds, provided it still has the ETag the caller based its change on."""
    found = await load
    check_if_match(if_match, found.etag)
    return found


def with_etag(response: Response, found: V) -> V:
    response.headers["ETag"] = found.etag
    return found
