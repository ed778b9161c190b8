"""The platform of one process: its shared parts and the services its modules bring.

Modules declare themselves with a `Module` (tables, collections, services, routers, event
subscriptions, start and stop hooks); the composition root (`agyn.modules`) builds them in order.
Services find each other by type (`platform.get(UsersService)`), never by name.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from fastapi import Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp

from agyn.kit.access import Authorizer
from agyn.kit.clock import SYSTEM_CLOCK, Clock
from agyn.kit.crypto import Cipher
from agyn.kit.db import Database
from agyn.kit.events import EventBus, Handler
from agyn.kit.principal import Authenticator, Principal
from agyn.kit.readcache import ReadCache
from agyn.kit.routing import ModuleRouter

log = logging.getLogger("agyn.platform")
T = TypeVar("T")
Hook = Callable[["Platform"], Awaitable[None]]


@runtime_checkable
class ReferenceTarget(Protocol):
    """What a reference field can point at: `resolve_reference` checks that the object exists and is
    visible to the caller (else `NotFound`) and returns its organization, if it has one."""

    async def resolve_reference(self, session: AsyncSession, principal: Principal,
                                object_id: uuid.UUID) -> uuid.UUID | None: ...


class Platform:
    """Built once per process from settings by `agyn.modules.build_platform`."""

    def __init__(self, database: Database, events: EventBus, redis: Redis | None = None,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.database = database
        self.clock = clock
        self.events = events
        self.redis = redis
        self.read_cache = ReadCache(0.0, clock=clock)
        """Off until the composition root sets it up (`agyn.modules.build_platform`)."""
        self.cipher: Cipher | None = None  # set at start, once the key is loaded or created
        self.references: dict[str, ReferenceTarget] = {}
        """Collection name (as references are declared in the registry) → the objects it holds."""
        self.collections: dict[str, Any] = {}
        """Collection name → its service (a `CollectionService`, or another with the CRUD shape)."""
        self._authz: Authorizer | None = None
        self._authenticator: Authenticator | None = None
        self._services: dict[type[Any], object] = {}
        self.on_start: list[Hook] = []
        self.on_stop: list[Hook] = []
        self.on_drain: list[Callable[[], None]] = []
        """Called when the server is asked to exit, before it waits for open connections: long-lived
        streams end here, or shutdown would wait on them. Each must return at once."""

    # --- services ---------------------------------------------------------------------------

    def provide(self, service: T, kind: type[T] | None = None) -> T:
        """Make `service` available to the modules after this one, as `kind` (its own class by default)."""
        key = kind or type(service)
        if key in self._services:
            raise RuntimeError(f"{key.__name__} is provided twice")
        self._services[key] = service
        return service

    def get(self, kind: type[T]) -> T:
        service = self._services.get(kind)
        if service is None:
            raise LookupError(f"no module provides {kind.__name__} (check the order of agyn.modules.MODULES)")
        assert isinstance(service, kind)
        return service

    def add_collection(self, service: Any) -> None:
        """A registry collection's service: provided by type, and the target of references to it."""
        self.provide(service)
        self.collections[service.resource.collection] = service
        if isinstance(service, ReferenceTarget):
            self.references[str(service.resource.collection)] = service  # type: ignore[attr-defined]

    @property
    def authz(self) -> Authorizer:
        if self._authz is None:
            raise RuntimeError("no authorization module is installed")
        return self._authz

    @authz.setter
    def authz(self, authorizer: Authorizer) -> None:
        self._authz = authorizer

    @property
    def authenticator(self) -> Authenticator:
        if self._authenticator is None:
            raise RuntimeError("no module authenticates callers")
        return self._authenticator

    @authenticator.setter
    def authenticator(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    def require_cipher(self) -> Cipher:
        if self.cipher is None:
            raise RuntimeError("the encryption key is loaded at start; the platform has not started")
        return self.cipher

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        for hook in self.on_start:
            await hook(self)

    def drain(self) -> None:
        for hook in self.on_drain:
            try:
                hook()
            except Exception:
                log.exception("a drain hook failed", extra={"hook": getattr(hook, "__qualname__", repr(hook))})

    async def stop(self) -> None:
        """Stop hooks run in reverse order, each even if another failed; then the database goes."""
        try:
            for hook in reversed(self.on_stop):
                try:
                    await hook(self)
                except Exception:
                    log.exception("a stop hook failed", extra={"hook": getattr(hook, "__qualname__", repr(hook))})
            if self.redis is not None:
                await self.redis.aclose()
        finally:
            await self.database.dispose()


def platform_of(request: Request) -> Platform:
    """The platform serving this request (set on the app by the composition root)."""
    platform: Platform = request.app.state.platform
    return platform


def _nothing(platform: Platform) -> Iterable[object]:
    return ()


def _no_subscriptions(platform: Platform) -> Iterable[tuple[str, Handler]]:
    return ()


def _no_mounts(platform: Platform) -> Iterable[tuple[str, ASGIApp]]:
    return ()


def _no_hot_routes(platform: Platform) -> Iterable[HotRoute]:
    return ()


@dataclass(frozen=True)
class HotRoute:
    """A route served in front of the framework (its middleware stack, router and dependencies): a plain
    ASGI endpoint at an exact path, for the few paths whose per-request overhead matters (the LLM proxy).
    The gateway still gives it a request id, metrics, the access log and the body limit."""

    path: str
    methods: frozenset[str]
    endpoint: ASGIApp
    limits_body: bool = False
    """The endpoint enforces a body limit of its own and answers in its protocol (OTLP): the gateway's is
    not applied."""


@dataclass(frozen=True)
class Module:
    """What a module brings. Everything is optional but the name.

    - `tables`: its SQLAlchemy models (so migrations see the whole schema);
    - `collections`: its registry collections' services (each gets the generic REST router);
    - `services`: builds its other services; each returned object is provided under its class;
    - `routers`: its own HTTP routes;
    - `mounts`: (path, ASGI app) pairs served beside the API (a protocol of its own, e.g. the test LLM);
    - `hot_routes`: endpoints served in front of the framework (see `HotRoute`);
    - `subscriptions`: (event name, handler) pairs for the in-process event bus;
    - `on_start` / `on_stop`: background work (loops, hubs, purges), started after the database is
      ready and stopped in reverse order.
    """

    name: str
    tables: Sequence[type[Any]] = ()
    collections: Sequence[type[Any]] = ()
    """Classes built as `cls(platform)` with a `resource` and `schemas` (see `agyn.api.collections`)."""
    services: Callable[[Platform], Iterable[object]] = _nothing
    routers: Sequence[ModuleRouter] = ()
    mounts: Callable[[Platform], Iterable[tuple[str, ASGIApp]]] = _no_mounts
    hot_routes: Callable[[Platform], Iterable[HotRoute]] = _no_hot_routes
    subscriptions: Callable[[Platform], Iterable[tuple[str, Handler]]] = _no_subscriptions
    on_start: Hook | None = None
    on_stop: Hook | None = None
    streamed_uploads: Sequence[str] = ()
    """Paths whose endpoints stream their body and enforce their own size limit (not the API's)."""
