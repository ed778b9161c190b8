from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response, status

from agyn.api.dependencies import (
    PrincipalDep,
    SessionDep,
    service,
    unchanged_since,
    with_etag,
)
from agyn.authorization.service import AuthorizationService
from agyn.kit.errors import PermissionDenied
from agyn.kit.http import IfMatch, TransactionalRoute
from agyn.kit.pagination import Page, PageRequest, page_request
from agyn.kit.principal import IdentityType
from agyn.kit.routing import ModuleRouter
from agyn.users.models import User
from agyn.users.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    Me,
    UserCreate,
    UserRead,
    UserUpdate,
)
from agyn.users.service import UsersService

router = ModuleRouter(route_class=TransactionalRoute)
PageDep = Annotated[PageRequest, Depends(page_request)]
Users = Annotated[UsersService, Depends(service(UsersService))]
Authorization = Annotated[AuthorizationService, Depends(service(AuthorizationService))]


def user_read(user: User, is_admin: bool) -> UserRead:
    return UserRead.model_validate(
        {**{k: getattr(user, k) for k in ("id", "oidc_subject", "username", "name", "email", "photo_url",
                                          "created_at", "updated_at", "etag")},
         "cluster_role": "admin" if is_admin else "none"})


@router.get("/me", response_model=Me, tags=["users"], summary="Who am I")
async def me(principal: PrincipalDep, authz: Authorization, session: SessionDep) -> Me:
    result = Me(identity_id=principal.identity_id, identity_type=principal.identity_type)
    if principal.identity_type == IdentityType.user:
        user = await session.get(User, principal.identity_id)
        if user is not None:
            result.username, result.name, result.email = user.username, user.name, user.email
            result.cluster_role = "admin" if await authz.is_cluster_admin(principal) else "none"
    return result


# --- API tokens of the caller -----------------------------------------------------------------

@router.post("/api/v1/api-tokens", status_code=status.HTTP_201_CREATED, response_model=ApiTokenCreated,
             tags=["api-tokens"], summary="Create an API token for yourself (shown once)")
async def create_api_token(data: ApiTokenCreate, principal: PrincipalDep, users: Users,
                           session: SessionDep) -> ApiTokenCreated:
    if principal.identity_type != IdentityType.user:
        raise PermissionDenied("only users have API tokens")
    token, plain = await users.create_token(session, principal, principal.identity_id, data)
    return ApiTokenCreated.model_validate({**ApiTokenRead.model_validate(token).model_dump(), "token": plain})


@router.get("/api/v1/api-tokens", response_model=Page[ApiTokenRead], tags=["api-tokens"],
            summary="List your API tokens (never their values)")
async def list_api_tokens(principal: PrincipalDep, users: Users, session: SessionDep,
                          page: PageDep) -> Page[ApiTokenRead]:
    items, next_token = await users.list_tokens(session, principal, page)
    return Page(items=[ApiTokenRead.model_validate(t) for t in items], next_page_token=next_token)


@router.delete("/api/v1/api-tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["api-tokens"],
               summary="Revoke one of your API tokens")
async def revoke_api_token(token_id: uuid.UUID, principal: PrincipalDep, users: Users,
                           session: SessionDep) -> Response:
    await users.revoke_token(session, principal, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- users (cluster admin) --------------------------------------------------------------------

@router.post("/api/v1/users", status_code=status.HTTP_201_CREATED, response_model=UserRead, tags=["users"],
             summary="Create a user (cluster admin)")
async def create_user(data: UserCreate, principal: PrincipalDep, users: Users, session: SessionDep,
                      response: Response) -> UserRead:
    user, is_admin = await users.create(session, principal, data)
    return user_read(with_etag(response, user), is_admin)


@router.get("/api/v1/users", response_model=Page[UserRead], tags=["users"], summary="List users (cluster admin)")
async def list_users(principal: PrincipalDep, users: Users, session: SessionDep, page: PageDep,
                     oidc_subject: Annotated[str | None, Query()] = None,
                     username: Annotated[str | None, Query()] = None) -> Page[UserRead]:
    found, next_token = await users.list(session, principal, page, oidc_subject, username)
    admins = await users.cluster_admin_ids(found)
    return Page(items=[user_read(u, u.id in admins) for u in found], next_page_token=next_token)


@router.get("/api/v1/users/{user_id}", response_model=UserRead, tags=["users"], summary="Get a user")
async def get_user(user_id: uuid.UUID, principal: PrincipalDep, users: Users, session: SessionDep,
                   response: Response) -> UserRead:
    user = with_etag(response, await users.get(session, principal, user_id))
    return user_read(user, user.id in await users.cluster_admin_ids([user]))


@router.patch("/api/v1/users/{user_id}", response_model=UserRead, tags=["users"],
              summary="Update a user (cluster admin)")
async def update_user(user_id: uuid.UUID, data: UserUpdate, principal: PrincipalDep, users: Users,
                      session: SessionDep, response: Response, if_match: IfMatch = None) -> UserRead:
    user = await unchanged_since(users.get(session, principal, user_id), if_match)
    user, is_admin = await users.update(session, principal, user, data)
    return user_read(with_etag(response, user), is_admin)


@router.delete("/api/v1/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["users"],
               summary="Delete a user (cluster admin)")
async def delete_user(user_id: uuid.UUID, principal: PrincipalDep, users: Users, session: SessionDep,
                      if_match: IfMatch = None) -> Response:
    user = await unchanged_since(users.get(session, principal, user_id), if_match)
    await users.delete(session, principal, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/api/v1/users/{user_id}/api-tokens", status_code=status.HTTP_201_CREATED,
             response_model=ApiTokenCreated, tags=["users"],
             summary="Mint an API token for a user (cluster admin; audited)")
async def mint_user_api_token(user_id: uuid.UUID, data: ApiTokenCreate, principal: PrincipalDep,
                              users: Users, session: SessionDep) -> ApiTokenCreated:
    token, plain = await users.mint_token_for_user(session, principal, user_id, data)
    return ApiTokenCreated.model_validate({**ApiTokenRead.model_validate(token).model_dump(), "token": plain})
