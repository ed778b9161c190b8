"""The all-in-one FastAPI application (SPEC D1): every module's router on one process."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry

from agyn import __version__, migrations
from agyn.bootstrap import BootstrapResult, bootstrap
from agyn.container import Platform
from agyn.gateway import endpoints as gateway_endpoints
from agyn.gateway.docs import install_docs
from agyn.gateway.middleware import BodyLimitMiddleware, RequestContextMiddleware
from agyn.kit.crypto import Cipher, KeyFiles, decode_key, load_or_create_key
from agyn.kit.db import Database
from agyn.kit.errors import install_error_handlers
from agyn.kit.http import reject_nul_in_query
from agyn.modules import submodules
from agyn.organizations import endpoints as organizations_endpoints
from agyn.settings import Settings
from agyn.users import endpoints as users_endpoints

log = logging.getLogger("agyn.app")


class SchemaOutOfDate(RuntimeError):
    pass


async def check_schema(database: Database) -> None:
    """A server database must already be at the code's schema: `agyn db upgrade` migrates it."""
    current, head = await migrations.current_revision(database), migrations.head_revision()
    if current != head:
        state = f"is at {current}" if current else "is empty"
        raise SchemaOutOfDate(f"the database schema {state}, the code needs {head}: run `agyn db upgrade`")


def decryption_keys(settings: Settings) -> tuple[bytes, ...]:
    """Keys besides the current one that still open stored values: the configured previous keys and
    the data dir's previous and next key files (see `agyn secrets rotate-key`)."""
    configured = tuple(decode_key(key) for key in settings.previous_encryption_keys)
    return configured + KeyFiles(settings.encryption_key_path).decryption_keys()


async def start(platform: Platform) -> BootstrapResult | None:
    """Bring the database to the code's schema (SQLite) or insist it is, then load and bootstrap."""
    platform.settings.data_dir.mkdir(parents=True, exist_ok=True)
    platform.cipher = Cipher(load_or_create_key(
        platform.settings.encryption_key.get_secret_value() if platform.settings.encryption_key else None,
        platform.settings.encryption_key_path), decryption_keys(platform.settings))
    if platform.database.is_sqlite:
        await migrations.upgrade(platform.database)
    else:
        await check_schema(platform.database)
    async with platform.database.transaction() as session:
        await platform.authz.load(session)
    return await bootstrap(platform)


def announce_admin_token(result: BootstrapResult) -> None:
    """Print the first admin token once, to the terminal only (never to the logs)."""
    print(
        f"\nFirst start: created the cluster admin.\n  API token: {result.admin_token}\n"
        f"  (also written to {result.token_path}, mode 0600; it is not shown again)\n",
        file=sys.stdout,
        flush=True,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    platform = Platform(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        result = await start(platform)
        if result is not None:
            announce_admin_token(result)
        log.info("agyn is ready", extra={"version": __version__, "database": platform.database.engine.dialect.name,
                                         "authorization": "embedded" if platform.authz.embedded else "openfga"})
        try:
            yield
        finally:
            await platform.aclose()

    app = FastAPI(
        title="Agyn API",
        version=__version__,
        summary="Control and data plane of the Agyn agent platform.",
        lifespan=lifespan,
        dependencies=[Depends(reject_nul_in_query)],
        docs_url=None, redoc_url=None,  # install_docs serves them without a CDN
    )
    app.state.platform = platform
    app.state.metrics_registry = CollectorRegistry()
    install_error_handlers(app)
    install_docs(app)
    app.include_router(gateway_endpoints.router)
    app.include_router(users_endpoints.router)
    app.include_router(organizations_endpoints.router)
    for module in submodules("endpoints"):
        for router in module.routers:
            app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, registry=app.state.metrics_registry)
    return app
