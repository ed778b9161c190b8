"""The REST collection every registry resource gets: POST, GET (list and one), PATCH and DELETE,
typed by its schemas, with ETags and `If-Match`, served by any service with the CRUD shape.

(No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run time.)
"""


import inspect
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Protocol

from fastapi import Depends, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.api.dependencies import PlatformDep, PrincipalDep, SessionDep
from agyn.kit.collections import Schemas, python_type
from agyn.kit.http import IfMatch, TransactionalRoute, check_if_match
from agyn.kit.pagination import Page, key_page_request, page_request, page_response
from agyn.kit.platform import Platform
from agyn.kit.principal import Principal
from agyn.kit.resources import Resource
from agyn.kit.routing import ModuleRouter


class CrudService(Protocol):
    """What the collection router needs from a service: records carry an `etag`."""

    resource: Resource
    schemas: Schemas

    async def create(self, session: AsyncSession, principal: Principal, data: Any) -> tuple[Any, dict[str, Any]]: ...

    async def get(self, session: AsyncSession, principal: Principal, object_id: Any) -> Any: ...

    async def get_readonly(self, session: AsyncSession, principal: Principal, object_id: Any) -> Any:
        """As `get`, for a read-only answer (the object may be a cached copy)."""

    async def list(self, session: AsyncSession, principal: Principal, page: Any,
                   filters: dict[str, Any]) -> tuple[list[Any], str | None]: ...

    async def update(self, session: AsyncSession, principal: Principal, record: Any, data: Any) -> Any: ...

    async def delete(self, session: AsyncSession, principal: Principal, record: Any) -> None: ...

    async def present(self, session: AsyncSession, principal: Principal,
                      records: Sequence[Any]) -> Sequence[dict[str, Any]]: ...

    async def present_json(self, session: AsyncSession, principal: Principal,
                           records: Sequence[Any]) -> Sequence[bytes]:
        """`present` as JSON, each body validated by the read schema."""


def _filters_dependency(resource: Resource) -> Callable[..., Any]:
    parameters = [
        inspect.Parameter(
            field.name, inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[python_type(resource, field, output=True) | None,
                                 Query(description=f"Only those with this {field.name}.")],
            default=None)
        for field in resource.filters
    ]

    async def filters(**values: Any) -> dict[str, Any]:
        return values

    filters.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return filters


def collection_router(service_class: type[CrudService]) -> ModuleRouter:
    """The collection of `service_class.resource`, typed by `service_class.schemas`."""
    resource, schemas = service_class.resource, service_class.schemas

    def service_of(platform: Platform) -> CrudService:
        return platform.get(service_class)

    router = ModuleRouter(prefix=resource.path, tags=[resource.collection], route_class=TransactionalRoute)
    Create, Update, Read, Created = schemas.create, schemas.update, schemas.read, schemas.created
    Filters = Annotated[dict[str, Any], Depends(_filters_dependency(resource))]
    composite = resource.id_kind == "composite"
    PageDep = Annotated[Any, Depends(key_page_request if composite else page_request)]
    ObjectId: Any = str if composite else uuid.UUID
    name = resource.name.replace("_", " ")

    async def respond(service: CrudService, session: AsyncSession, principal: Principal, record: Any,
                      response: Response, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        response.headers["ETag"] = record.etag
        [body] = await service.present(session, principal, [record])
        return {**body, **(extra or {})}

    @router.post("", status_code=status.HTTP_201_CREATED, response_model=Created, summary=f"Create a {name}",
                 operation_id=f"create_{resource.name}")
    async def create(data: Create, principal: PrincipalDep, platform: PlatformDep,  # type: ignore[valid-type]
                     session: SessionDep, response: Response) -> Any:
        service = service_of(platform)
        record, once = await service.create(session, principal, data)
        return await respond(service, session, principal, record, response, once)

    @router.get("", response_model=Page[Read], summary=f"List {resource.collection.replace('-', ' ')}",  # type: ignore[valid-type]
                operation_id=f"list_{resource.name}")
    async def list_(principal: PrincipalDep, platform: PlatformDep, session: SessionDep, page: PageDep,
                    filters: Filters) -> Any:
        service = service_of(platform)
        items, next_token = await service.list(session, principal, page, filters)
        return page_response(await service.present_json(session, principal, items), next_token)

    @router.get("/{object_id}", response_model=Read, summary=f"Get a {name}", operation_id=f"get_{resource.name}")
    async def get(object_id: ObjectId, principal: PrincipalDep, platform: PlatformDep, session: SessionDep,
                  response: Response) -> Any:
        service = service_of(platform)
        return await respond(service, session, principal, await service.get_readonly(session, principal, object_id),
                             response)

    @router.patch("/{object_id}", response_model=Read, summary=f"Update a {name}",
                  operation_id=f"update_{resource.name}")
    async def patch(object_id: ObjectId, data: Update, principal: PrincipalDep,  # type: ignore[valid-type]
                    platform: PlatformDep, session: SessionDep, response: Response, if_match: IfMatch = None) -> Any:
        service = service_of(platform)
        record = await service.get(session, principal, object_id)
        check_if_match(if_match, record.etag)
        record = await service.update(session, principal, record, data)
        return await respond(service, session, principal, record, response)

    @router.delete("/{object_id}", status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete a {name}",
                   operation_id=f"delete_{resource.name}")
    async def delete(object_id: ObjectId, principal: PrincipalDep, platform: PlatformDep, session: SessionDep,
                     if_match: IfMatch = None) -> Response:
        service = service_of(platform)
        record = await service.get(session, principal, object_id)
        check_if_match(if_match, record.etag)
        await service.delete(session, principal, record)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
