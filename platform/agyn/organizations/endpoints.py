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
from agyn.kit.http import IfMatch, TransactionalRoute
from agyn.kit.pagination import Page, PageRequest, page_request
from agyn.kit.routing import ModuleRouter
from agyn.organizations.schemas import (
    MembershipCreate,
    MembershipRead,
    MembershipStatus,
    MembershipUpdate,
    NicknameList,
    NicknameRead,
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
)
from agyn.organizations.service import OrganizationsService

router = ModuleRouter(prefix="/api/v1", route_class=TransactionalRoute)
PageDep = Annotated[PageRequest, Depends(page_request)]
Organizations = Annotated[OrganizationsService, Depends(service(OrganizationsService))]


@router.post("/organizations", status_code=status.HTTP_201_CREATED, response_model=OrganizationRead,
             tags=["organizations"], summary="Create an organization (you become its owner)")
async def create_organization(data: OrganizationCreate, principal: PrincipalDep, organizations: Organizations,
                              session: SessionDep, response: Response) -> OrganizationRead:
    organization = await organizations.create(session, principal, data)
    return OrganizationRead.model_validate(with_etag(response, organization))


@router.get("/organizations", response_model=Page[OrganizationRead], tags=["organizations"],
            summary="List the organizations you can see")
async def list_organizations(principal: PrincipalDep, organizations: Organizations, session: SessionDep,
                             page: PageDep, name: Annotated[str | None, Query()] = None) -> Page[OrganizationRead]:
    items, next_token = await organizations.list(session, principal, page, name)
    return Page(items=[OrganizationRead.model_validate(o) for o in items], next_page_token=next_token)


@router.get("/organizations/{organization_id}", response_model=OrganizationRead, tags=["organizations"],
            summary="Get an organization")
async def get_organization(organization_id: uuid.UUID, principal: PrincipalDep, organizations: Organizations,
                           session: SessionDep, response: Response) -> OrganizationRead:
    organization = await organizations.get(session, principal, organization_id)
    return OrganizationRead.model_validate(with_etag(response, organization))


@router.get("/organizations/{organization_id}/nicknames", response_model=NicknameList, tags=["organizations"],
            summary="The organization's @nicknames (people, agents, apps): those starting with a prefix (at "
                    "most 100), or those of the identities named")
async def list_nicknames(
    organization_id: uuid.UUID, principal: PrincipalDep, organizations: Organizations, session: SessionDep,
    prefix: Annotated[str, Query(max_length=32, pattern=r"^[a-z0-9_-]*$")] = "",
    identity_id: Annotated[list[uuid.UUID] | None, Query(max_length=100)] = None,
) -> NicknameList:
    found = await organizations.directory(session, principal, organization_id, prefix, identity_id or [])
    return NicknameList(items=[NicknameRead(nickname=n, identity_id=i, identity_type=t) for n, i, t in found])


@router.patch("/organizations/{organization_id}", response_model=OrganizationRead, tags=["organizations"],
              summary="Update an organization (owner or cluster admin)")
async def update_organization(organization_id: uuid.UUID, data: OrganizationUpdate, principal: PrincipalDep,
                              organizations: Organizations, session: SessionDep, response: Response,
                              if_match: IfMatch = None) -> OrganizationRead:
    organization = await unchanged_since(organizations.get(session, principal, organization_id), if_match)
    organization = await organizations.update(session, principal, organization, data)
    return OrganizationRead.model_validate(with_etag(response, organization))


@router.delete("/organizations/{organization_id}", status_code=status.HTTP_204_NO_CONTENT,
               tags=["organizations"], summary="Delete an organization (owner or cluster admin)")
async def delete_organization(organization_id: uuid.UUID, principal: PrincipalDep, organizations: Organizations,
                              session: SessionDep, if_match: IfMatch = None) -> Response:
    organization = await unchanged_since(organizations.get(session, principal, organization_id), if_match)
    await organizations.delete(session, principal, organization)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/memberships", status_code=status.HTTP_201_CREATED, response_model=MembershipRead,
             tags=["memberships"],
             summary="Add a member (cluster admin: active at once) or invite one (owner: pending)")
async def create_membership(data: MembershipCreate, principal: PrincipalDep, organizations: Organizations,
                            session: SessionDep, response: Response) -> MembershipRead:
    membership = await organizations.create_membership(session, principal, data)
    return MembershipRead.model_validate(with_etag(response, membership))


@router.get("/memberships", response_model=Page[MembershipRead], tags=["memberships"],
            summary="List memberships: yours, and those of organizations you can see")
async def list_memberships(principal: PrincipalDep, organizations: Organizations, session: SessionDep,
                           page: PageDep, organization_id: Annotated[uuid.UUID | None, Query()] = None,
                           identity_id: Annotated[uuid.UUID | None, Query()] = None,
                           status: Annotated[MembershipStatus | None, Query()] = None) -> Page[MembershipRead]:
    items, next_token = await organizations.list_memberships(
        session, principal, page, organization_id, identity_id, status)
    return Page(items=[MembershipRead.model_validate(m) for m in items], next_page_token=next_token)


@router.get("/memberships/{membership_id}", response_model=MembershipRead, tags=["memberships"],
            summary="Get a membership")
async def get_membership(membership_id: uuid.UUID, principal: PrincipalDep, organizations: Organizations,
                         session: SessionDep, response: Response) -> MembershipRead:
    membership = await organizations.get_membership(session, principal, membership_id)
    return MembershipRead.model_validate(with_etag(response, membership))


@router.patch("/memberships/{membership_id}", response_model=MembershipRead, tags=["memberships"],
              summary="Change a member's role (owner or cluster admin)")
async def update_membership(membership_id: uuid.UUID, data: MembershipUpdate, principal: PrincipalDep,
                            organizations: Organizations, session: SessionDep, response: Response,
                            if_match: IfMatch = None) -> MembershipRead:
    membership = await unchanged_since(organizations.get_membership(session, principal, membership_id), if_match)
    membership = await organizations.update_membership_role(session, principal, membership, data.role)
    return MembershipRead.model_validate(with_etag(response, membership))


@router.delete("/memberships/{membership_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["memberships"],
               summary="Remove a member, or leave an organization")
async def delete_membership(membership_id: uuid.UUID, principal: PrincipalDep, organizations: Organizations,
                            session: SessionDep, if_match: IfMatch = None) -> Response:
    membership = await unchanged_since(organizations.get_membership(session, principal, membership_id), if_match)
    await organizations.delete_membership(session, principal, membership)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/memberships/{membership_id}/accept", response_model=MembershipRead, tags=["memberships"],
             summary="Accept an invitation")
async def accept_membership(membership_id: uuid.UUID, principal: PrincipalDep, organizations: Organizations,
                            session: SessionDep, response: Response) -> MembershipRead:
    membership = await organizations.get_membership(session, principal, membership_id)
    membership = await organizations.accept(session, principal, membership)
    return MembershipRead.model_validate(with_etag(response, membership))


@router.post("/memberships/{membership_id}/decline", status_code=status.HTTP_204_NO_CONTENT,
             tags=["memberships"], summary="Decline an invitation")
async def decline_membership(membership_id: uuid.UUID, principal: PrincipalDep, organizations: Organizations,
                             session: SessionDep) -> Response:
    membership = await organizations.get_membership(session, principal, membership_id)
    await organizations.decline(session, principal, membership)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
