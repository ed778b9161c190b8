from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from agyn.gateway.dependencies import PlatformDep, PrincipalDep, SessionDep
from agyn.kit.http import IfMatch, TransactionalRoute, check_if_match
from agyn.kit.pagination import Page, PageRequest, page_request
from agyn.organizations.schemas import (
    MembershipCreate,
    MembershipRead,
    MembershipStatus,
    MembershipUpdate,
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
)

router = APIRouter(prefix="/api/v1", route_class=TransactionalRoute)
PageDep = Annotated[PageRequest, Depends(page_request)]


@router.post("/organizations", status_code=status.HTTP_201_CREATED, response_model=OrganizationRead,
             tags=["organizations"], summary="Create an organization (you become its owner)")
async def create_organization(data: OrganizationCreate, principal: PrincipalDep, platform: PlatformDep,
                              session: SessionDep, response: Response) -> OrganizationRead:
    organization = await platform.organizations.create(session, principal, data)
    response.headers["ETag"] = organization.etag
    return OrganizationRead.model_validate(organization)


@router.get("/organizations", response_model=Page[OrganizationRead], tags=["organizations"],
            summary="List the organizations you can see")
async def list_organizations(principal: PrincipalDep, platform: PlatformDep, session: SessionDep, page: PageDep,
                             name: Annotated[str | None, Query()] = None) -> Page[OrganizationRead]:
    items, next_token = await platform.organizations.list(session, principal, page, name)
    return Page(items=[OrganizationRead.model_validate(o) for o in items], next_page_token=next_token)


@router.get("/organizations/{organization_id}", response_model=OrganizationRead, tags=["organizations"],
            summary="Get an organization")
async def get_organization(organization_id: uuid.UUID, principal: PrincipalDep, platform: PlatformDep,
                           session: SessionDep, response: Response) -> OrganizationRead:
    organization = await platform.organizations.get(session, principal, organization_id)
    response.headers["ETag"] = organization.etag
    return OrganizationRead.model_validate(organization)


@router.patch("/organizations/{organization_id}", response_model=OrganizationRead, tags=["organizations"],
              summary="Update an organization (owner or cluster admin)")
async def update_organization(organization_id: uuid.UUID, data: OrganizationUpdate, principal: PrincipalDep,
                              platform: PlatformDep, session: SessionDep, response: Response,
                              if_match: IfMatch = None) -> OrganizationRead:
    organization = await platform.organizations.get(session, principal, organization_id)
    check_if_match(if_match, organization.etag)
    organization = await platform.organizations.update(session, principal, organization, data)
    response.headers["ETag"] = organization.etag
    return OrganizationRead.model_validate(organization)


@router.delete("/organizations/{organization_id}", status_code=status.HTTP_204_NO_CONTENT,
               tags=["organizations"], summary="Delete an organization (owner or cluster admin)")
async def delete_organization(organization_id: uuid.UUID, principal: PrincipalDep, platform: PlatformDep,
                              session: SessionDep, if_match: IfMatch = None) -> Response:
    organization = await platform.organizations.get(session, principal, organization_id)
    check_if_match(if_match, organization.etag)
    await platform.organizations.delete(session, principal, organization)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/memberships", status_code=status.HTTP_201_CREATED, response_model=MembershipRead,
             tags=["memberships"],
             summary="Add a member (cluster admin: active at once) or invite one (owner: pending)")
async def create_membership(data: MembershipCreate, principal: PrincipalDep, platform: PlatformDep,
                            session: SessionDep, response: Response) -> MembershipRead:
    membership = await platform.organizations.create_membership(session, principal, data)
    response.headers["ETag"] = membership.etag
    return MembershipRead.model_validate(membership)


@router.get("/memberships", response_model=Page[MembershipRead], tags=["memberships"],
            summary="List memberships: yours, and those of organizations you can see")
async def list_memberships(principal: PrincipalDep, platform: PlatformDep, session: SessionDep, page: PageDep,
                           organization_id: Annotated[uuid.UUID | None, Query()] = None,
                           identity_id: Annotated[uuid.UUID | None, Query()] = None,
                           status: Annotated[MembershipStatus | None, Query()] = None) -> Page[MembershipRead]:
    items, next_token = await platform.organizations.list_memberships(
        session, principal, page, organization_id, identity_id, status)
    return Page(items=[MembershipRead.model_validate(m) for m in items], next_page_token=next_token)


@router.get("/memberships/{membership_id}", response_model=MembershipRead, tags=["memberships"],
            summary="Get a membership")
async def get_membership(membership_id: uuid.UUID, principal: PrincipalDep, platform: PlatformDep,
                         session: SessionDep, response: Response) -> MembershipRead:
    membership = await platform.organizations.get_membership(session, principal, membership_id)
    response.headers["ETag"] = membership.etag
    return MembershipRead.model_validate(membership)


@router.patch("/memberships/{membership_id}", response_model=MembershipRead, tags=["memberships"],
              summary="Change a member's role (owner or cluster admin)")
async def update_membership(membership_id: uuid.UUID, data: MembershipUpdate, principal: PrincipalDep,
                            platform: PlatformDep, session: SessionDep, response: Response,
                            if_match: IfMatch = None) -> MembershipRead:
    membership = await platform.organizations.get_membership(session, principal, membership_id)
    check_if_match(if_match, membership.etag)
    membership = await platform.organizations.update_membership_role(session, principal, membership, data.role)
    response.headers["ETag"] = membership.etag
    return MembershipRead.model_validate(membership)


@router.delete("/memberships/{membership_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["memberships"],
               summary="Remove a member, or leave an organization")
async def delete_membership(membership_id: uuid.UUID, principal: PrincipalDep, platform: PlatformDep,
                            session: SessionDep, if_match: IfMatch = None) -> Response:
    membership = await platform.organizations.get_membership(session, principal, membership_id)
    check_if_match(if_match, membership.etag)
    await platform.organizations.delete_membership(session, principal, membership)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/memberships/{membership_id}/accept", response_model=MembershipRead, tags=["memberships"],
             summary="Accept an invitation")
async def accept_membership(membership_id: uuid.UUID, principal: PrincipalDep, platform: PlatformDep,
                            session: SessionDep, response: Response) -> MembershipRead:
    membership = await platform.organizations.get_membership(session, principal, membership_id)
    membership = await platform.organizations.accept(session, principal, membership)
    response.headers["ETag"] = membership.etag
    return MembershipRead.model_validate(membership)


@router.post("/memberships/{membership_id}/decline", status_code=status.HTTP_204_NO_CONTENT,
             tags=["memberships"], summary="Decline an invitation")
async def decline_membership(membership_id: uuid.UUID, principal: PrincipalDep, platform: PlatformDep,
                             session: SessionDep) -> Response:
    membership = await platform.organizations.get_membership(session, principal, membership_id)
    await platform.organizations.decline(session, principal, membership)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
