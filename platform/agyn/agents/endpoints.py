import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from agyn.agents.resources import AGENT, AGENT_ROLE, ENV, HOOK, INIT_SCRIPT, MCP, SKILL, VOLUME, VOLUME_ATTACHMENT
from agyn.agents.schemas import (
    AgentRoleSchemas,
    AgentSchemas,
    EnvSchemas,
    HookSchemas,
    InitScriptSchemas,
    McpSchemas,
    SkillSchemas,
    VolumeAttachmentSchemas,
    VolumeSchemas,
)
from agyn.agents.service import AgentRolesService
from agyn.gateway.dependencies import PlatformDep, PrincipalDep, SessionDep
from agyn.kit.collections import collection_router
from agyn.kit.http import IfMatch, TransactionalRoute, check_if_match
from agyn.kit.pagination import KeyPageRequest, Page, key_page_request


def agent_roles_router() -> APIRouter:
    """The agent-roles collection, with the usual conventions, over tuples instead of a table."""
    router = APIRouter(prefix=AGENT_ROLE.path, tags=[AGENT_ROLE.collection], route_class=TransactionalRoute)
    Create, Update, Read = AgentRoleSchemas.create, AgentRoleSchemas.update, AgentRoleSchemas.read
    PageDep = Annotated[KeyPageRequest, Depends(key_page_request)]

    @router.post("", status_code=status.HTTP_201_CREATED, response_model=Read,
                 summary="Give an identity a role on an agent", operation_id="create_agent_role")
    async def create(data: Create, principal: PrincipalDep, platform: PlatformDep,  # type: ignore[valid-type]
                     session: SessionDep, response: Response) -> Any:
        role = await AgentRolesService(platform).create(session, principal, data)
        response.headers["ETag"] = role.etag
        return role.to_read()

    @router.get("", response_model=Page[Read], summary="List agent roles",  # type: ignore[valid-type]
                operation_id="list_agent_role")
    async def list_(principal: PrincipalDep, platform: PlatformDep, session: SessionDep, page: PageDep,
                    agent_id: Annotated[uuid.UUID | None, Query(description="Only those on this agent.")] = None,
                    identity_id: Annotated[uuid.UUID | None, Query(description="Only those of this identity.")]
                    = None) -> Any:
        roles, next_token = await AgentRolesService(platform).list(session, principal, page, agent_id, identity_id)
        return {"items": [role.to_read() for role in roles], "next_page_token": next_token}

    @router.get("/{role_id}", response_model=Read, summary="Get an agent role", operation_id="get_agent_role")
    async def get(role_id: str, principal: PrincipalDep, platform: PlatformDep, session: SessionDep,
                  response: Response) -> Any:
        role = await AgentRolesService(platform).get(session, principal, role_id)
        response.headers["ETag"] = role.etag
        return role.to_read()

    @router.patch("/{role_id}", response_model=Read, summary="Change an agent role",
                  operation_id="update_agent_role")
    async def patch(role_id: str, data: Update, principal: PrincipalDep,  # type: ignore[valid-type]
                    platform: PlatformDep, session: SessionDep, response: Response, if_match: IfMatch = None) -> Any:
        roles = AgentRolesService(platform)
        role = await roles.get(session, principal, role_id)
        check_if_match(if_match, role.etag)
        role = await roles.update(session, principal, role, data)
        response.headers["ETag"] = role.etag
        return role.to_read()

    @router.delete("/{role_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an agent role",
                   operation_id="delete_agent_role")
    async def delete(role_id: str, principal: PrincipalDep, platform: PlatformDep, session: SessionDep,
                     if_match: IfMatch = None) -> Response:
        roles = AgentRolesService(platform)
        role = await roles.get(session, principal, role_id)
        check_if_match(if_match, role.etag)
        await roles.delete(session, principal, role)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


routers = [
    collection_router(AGENT, AgentSchemas),
    agent_roles_router(),
    collection_router(MCP, McpSchemas),
    collection_router(SKILL, SkillSchemas),
    collection_router(HOOK, HookSchemas),
    collection_router(ENV, EnvSchemas),
    collection_router(INIT_SCRIPT, InitScriptSchemas),
    collection_router(VOLUME, VolumeSchemas),
    collection_router(VOLUME_ATTACHMENT, VolumeAttachmentSchemas),
]
