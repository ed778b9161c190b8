"""`GET /api/v1/events?rooms=a,b`: Server-Sent Events.

Authentication and room authorization run first, in the request's short transaction (committed and
closed before the body starts), so a refusal is a plain problem+json response and the stream itself
holds no database session.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from agyn.api.dependencies import PrincipalDep, service
from agyn.kit.http import TransactionalRoute
from agyn.kit.routing import ModuleRouter
from agyn.notifications.rooms import split_rooms
from agyn.notifications.service import NotificationsService
from agyn.notifications.sse import EventStream

router = ModuleRouter(route_class=TransactionalRoute)
Notifications = Annotated[NotificationsService, Depends(service(NotificationsService))]


@router.get(
    "/api/v1/events", tags=["notifications"], summary="Listen to rooms (Server-Sent Events)",
    response_class=EventStream, status_code=200,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "`id:` the envelope id, `event:` its event name, `data:` the envelope "
                                    "`{id, ts, source, event, rooms, payload}`; a comment line every 15 s."}},
)
async def events(
    principal: PrincipalDep,
    notifications: Notifications,
    rooms: Annotated[str, Query(description="Comma-separated rooms, e.g. `thread_participant:me,agent:<id>`.")],
) -> EventStream:
    granted = await notifications.grant(principal, split_rooms(rooms))
    return EventStream(notifications.hub, granted, principal.scope.thread_id if principal.scope else None)
