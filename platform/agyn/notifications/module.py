from __future__ import annotations

import uuid

from starlette.types import ASGIApp

from agyn.authorization.service import AuthorizationService
from agyn.kit.events import Handler
from agyn.kit.platform import Module, Platform
from agyn.notifications.endpoints import router
from agyn.notifications.rooms import ModelRoomAuthorizer
from agyn.notifications.service import NotificationsService
from agyn.notifications.socketio import SocketIOGateway
from agyn.runners import repository as runners_repository
from agyn.settings import Settings
from agyn.tracing.service import TracingService


def services(platform: Platform) -> list[object]:
    async def workload_organization(workload_id: uuid.UUID) -> uuid.UUID | None:
        async with platform.database.transaction() as session:
            return await runners_repository.workload_organization(session, workload_id)

    notifications = NotificationsService(platform, platform.get(Settings).notifications,
                                         ModelRoomAuthorizer(platform.get(AuthorizationService),
                                                             workload_organization,
                                                             platform.get(TracingService).may_listen_to_trace))
    return [notifications, SocketIOGateway(notifications)]


def mounts(platform: Platform) -> list[tuple[str, ASGIApp]]:
    return [("/socket.io", platform.get(SocketIOGateway).asgi)]


def subscriptions(platform: Platform) -> list[tuple[str, Handler]]:
    return [("*", platform.get(NotificationsService).forward)]


async def start(platform: Platform) -> None:
    notifications = platform.get(NotificationsService)
    await notifications.start()
    platform.on_drain.append(notifications.close_streams)


async def stop(platform: Platform) -> None:
    notifications = platform.get(NotificationsService)
    notifications.close_streams()
    await platform.get(SocketIOGateway).close()
    await notifications.stop()


MODULE = Module(name="notifications", services=services, routers=(router,), mounts=mounts,
                subscriptions=subscriptions, on_start=start, on_stop=stop)
