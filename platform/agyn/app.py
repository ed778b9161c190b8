"""The all-in-one FastAPI application: every module's router on one process (docs/architecture.md)."""

from __future__ import annotations

import gc
import logging
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp

from agyn import __version__, migrations
from agyn.api.openapi import install_openapi
from agyn.authorization.service import AuthorizationService
from agyn.bootstrap import BootstrapResult, announce_admin_token, bootstrap
from agyn.gateway.docs import install_docs
from agyn.gateway.middleware import (
    BodyLimitMiddleware,
    HotRoutesMiddleware,
    JsonDepthMiddleware,
    RequestContextMiddleware,
    RequestObserver,
)
from agyn.kit.clock import SYSTEM_CLOCK, Clock
from agyn.kit.crypto import Cipher, load_or_create_key
from agyn.kit.errors import install_error_handlers
from agyn.kit.http import reject_nul_in_query
from agyn.kit.platform import HotRoute, Platform
from agyn.modules import build_platform, hot_routes, mounts, routers, streamed_uploads
from agyn.settings import Settings, decryption_keys

log = logging.getLogger("agyn.app")


async def start(platform: Platform) -> BootstrapResult | None:
    """Bring the database to the code's schema (SQLite) or insist it is, start the modules, bootstrap."""
    settings = platform.get(Settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    platform.cipher = Cipher(load_or_create_key(
        settings.encryption_key.get_secret_value() if settings.encryption_key else None,
        settings.encryption_key_path), decryption_keys(settings))
    if platform.database.is_sqlite:
        await migrations.upgrade(platform.database)
    else:
        await migrations.check_schema(platform.database)
    await platform.start()
    try:
        return await bootstrap(platform)
    except BaseException:
        await platform.stop()  # the modules started above would otherwise leak their connections
        raise


class PlatformApp(FastAPI):
    """The FastAPI app with the modules' hot routes served in front of its whole middleware stack."""

    hot_routes: list[HotRoute]
    observer: RequestObserver
    max_body_bytes: int

    def build_middleware_stack(self) -> ASGIApp:
        return HotRoutesMiddleware(super().build_middleware_stack(), self.hot_routes, self.observer,
                                   self.max_body_bytes)


def create_app(settings: Settings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    settings = settings or Settings()
    platform = build_platform(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        result = await start(platform)
        if result is not None:
            announce_admin_token(result.admin_token, result.token_path, sys.stdout)
        embedded = platform.get(AuthorizationService).embedded
        log.info("agyn is ready", extra={"version": __version__, "database": platform.database.engine.dialect.name,
                                         "authorization": "embedded" if embedded else "openfga"})
        try:
            yield
        finally:
            await platform.stop()

    app = PlatformApp(
        title="Agyn API",
        version=__version__,
        summary="Control and data plane of the Agyn agent platform.",
        lifespan=lifespan,
        dependencies=[Depends(reject_nul_in_query)],
        docs_url=None, redoc_url=None,  # install_docs serves them without a CDN
    )
    app.state.platform = platform
    app.state.metrics_registry = CollectorRegistry()
    app.observer = RequestObserver(app.state.metrics_registry)
    app.hot_routes = hot_routes(platform)
    app.max_body_bytes = settings.max_body_bytes
    app.state.metrics_registry.register(platform.database.after_commit_failures)
    app.state.metrics_registry.register(platform.events.handler_failures)
    install_error_handlers(app)
    install_docs(app)
    install_openapi(app)
    for router in routers():
        app.include_router(router)
    for path, mounted in mounts(platform):
        app.mount(path, mounted)
    app.add_middleware(JsonDepthMiddleware, exempt=streamed_uploads())
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes, exempt=streamed_uploads())
    app.add_middleware(RequestContextMiddleware, observer=app.observer)
    return app


class PlatformServer(uvicorn.Server):
    """uvicorn for the platform's app: asked to exit, it first ends the long-lived streams (SSE,
    Socket.IO) that it would otherwise wait for before stopping."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # What start-up built (modules, routes, schemas: some 200,000 objects) lives as long as the
        # process. Left to the collector, every full collection walks all of it: a pause of tens to
        # hundreds of milliseconds, which is what a busy proxy's slowest calls were waiting on.
        gc.freeze()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        if isinstance(app, FastAPI):
            platform: Platform = app.state.platform
            platform.drain()
        await super().shutdown(sockets)
