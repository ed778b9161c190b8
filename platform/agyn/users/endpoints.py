from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from agyn.gateway.dependencies import PlatformDep, PrincipalDep, SessionDep
from agyn.kit.http import IfMatch, TransactionalRoute, check_if_match
from agyn.kit.pagination import Page, PageRequest, page_request
from agyn.kit.principal import IdentityType
from agyn.kit.errors import PermissionDenied
from agyn.users.models import User
from agyn.users.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenRead, Me, UserCreate, UserRead, UserUpdate

router = APIRouter(route_class=TransactionalRoute)
PageDep = Annotated[PageRequest, Depends(page_request)]


def user_read(user: User, is_admin: bool) -> UserRead:
    return UserRead.model_validate(
        {**{k: getattr(user, k) for k in ("id", "oidc_subject", "username", "name", "email", "photo_url",
                                          "created_at", "updated_at", "etag")},
         "cluster_role": "admin" if is_admin else "none"})


@router.get("/me", response_model=Me, tags=["users"], summary="Who am I")
async def me(principal: PrincipalDep, platform: PlatformDep, session: SessionDep) -> Me:
    result = Me(identity_id=principal.identity_id, identity_type=principal.identity_type)
    if principal.identity_type == IdentityType.user:
        user = await session.get(User, principal.identity_id)
        if user is not None:
            result.username, result.name, result.email = user.username, user.name, user.email
            result.cluster_role = "admin" if await platform.authz.is_cluster_admin(principal) else "none"
    return result


# --- API tokens of the caller -----------------------------------------------------------------

@router.post("/api/v1/api-tokens", status_code=status.HTTP_201_CREATED, response_model=ApiTokenCreated,
             tags=["api-tokens"], summary="Create an API token for yourself (shown once)")
async def create_api_token(data: ApiTokenCreate, principal: PrincipalDep, platform: PlatformDep,
                           session: SessionDep) -> ApiTokenCreated:
    if principal.identity_type != IdentityType.user:
        raise PermissionDenied("only users have API tokens")
    token, plain = await platform.users.create_token(session, principal, principal.identity_id, data)
    return ApiTokenCreated.model_validate({**ApiTokenRead.model_validate(token).model_dump(), "token": plain})


@router.get("/api/v1/api-tokens", response_model=Page[ApiTokenRead], tags=["api-tokens"],
            summary="List your API tokens (never their values)")
async def list_api_tokens(principal: PrincipalDep, platform: PlatformDep, session: SessionDep,
                          page: PageDep) -> Page[ApiTokenRead]:
    items, next_token = await platform.users.list_tokens(session, principal, page)
    return Page(items=[ApiTokenRead.model_validate(t) for t in items], next_page_token=next_token)


@router.delete("/api/v1/api-tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["api-tokens"],
               summary="Revoke one of your API tokens")
async def revoke_api_token(token_id: uuid.UUID, principal: PrincipalDep, platform: PlatformDep,
                           session: SessionDep) -> Response:
    await platform.users.revoke_token(session, principal, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- users (cluster admin) --------------------------------------------------------------------

@router.post("/api/v1/users", status_code=status.HTTP_201_CREATED, response_model=UserRead, tags=["users"],
             summary="Create a user (cluster admin)")
async def create_user(data: UserCreate, principal: PrincipalDep, platform: PlatformDep, session: SessionDep,
                      response: Response) -> UserRead:
    user, is_admin = await platform.users.create(session, principal, data)
    response.headers["ETag"] = user.etag
    return user_read(user, is_admin)


@router.get("/api/v1/users", response_model=Page[UserRead], tags=["users"], summary="List users (cluster admin)")
async def list_users(principal: PrincipalDep, platform: PlatformDep, session: SessionDep, page: PageDep,
                     oidc_subject: Annotated[str | None, Query()] = None,
                     username: Annotated[str | None, Query()] = None) -> Page[UserRead]:
    users, next_token = await platform.users.list(session, principal, page, oidc_subject, username)
    admins = await platform.users.cluster_admin_ids(users)
    return Page(items=[user_read(u, u.id in admins) for u in users], next_page_token=next_token)


@router.get("/api/v1/users/{user_id}", response_model=UserRead, tags=["users"], summary="Get a user")
async def get_user(user_id: uuid.UUID, principal: PrincipalDep, platform: PlatformDep, session: SessionDep,
                   response: Response) -> UserRead:
    user = await platform.users.get(session, principal, user_id)
    response.headers["ETag"] = user.etag
    return user_read(user, user.id in await platform.users.cluster_admin_ids([user]))


@router.patch("/api/v1/users/{user_id}", response_model=UserRead, tags=["users"],
              summary="Update a user (cluster admin)")
async def update_user(user_id: uuid.UUID, data: UserUpdate, principal: PrincipalDep, platform: PlatformDep,
                      session: SessionDep, response: Response, if_match: IfMatch = None) -> UserRead:
    user = await platform.users.get(session, principal, user_id)
    check_if_match(if_match, user.etag)
    user, is_admin = await platform.users.update(session, principal, user, data)
    response.headers["ETag"] = user.etag
    return user_read(user, is_admin)


@router.delete("/api/v1/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["users"],
               summary="Delete a user (cluster admin)")
async def delete_user(user_id: uuid.UUID, principal: PrincipalDep, platform: PlatformDep, session: SessionDep,
                      if_match: IfMatch = None) -> Response:
    user = await platform.users.get(session, principal, user_id)
    check_if_match(if_match, user.etag)
    await platform.users.delete(session, principal, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/api/v1/users/{user_id}/api-tokens", status_code=status.HTTP_201_CREATED,
             response_model=ApiTokenCreated, tags=["users"],
             summary="Mint an API token for a user (cluster admin; audited)")
async def mint_user_api_token(user_id: uuid.UUID, data: ApiTokenCreate, principal: PrincipalDep,
                              platform: PlatformDep, session: SessionDep) -> ApiTokenCreated:
    token, plain = await platform.users.mint_token_for_user(session, principal, user_id, data)
    return ApiTokenCreated.model_validate({**ApiTokenRead.model_validate(token).model_dump(), "token": plain})
