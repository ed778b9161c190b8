"""The composition root's list of modules and how a platform is built from them.

Adding a module is one package with a `module.py` (declaring `MODULE`) and one line in `MODULES`,
in dependency order: a module's services may use those of the modules before it.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from typing import TYPE_CHECKING

from agyn.kit.resources import REGISTRY, Registry

if TYPE_CHECKING:  # the registry alone is loaded by the Terraform provider: keep its start light
    from starlette.types import ASGIApp

    from agyn.kit.clock import Clock
    from agyn.kit.platform import HotRoute, Module, Platform
    from agyn.kit.routing import ModuleRouter
    from agyn.settings import Settings

MODULES = (
    "identity",
    "authorization",
    "users",
    "organizations",
    "gateway",
    "llm",
    "secrets",
    "agents",
    "runners",
    "apps",
    "token_counting",
    "testllm",
    "metering",
    "llm_proxy",
    "files",
    "threads",
    "chat",
    "tracing",
    "notifications",
    "orchestrator",
    "media_proxy",
    "web",
)


def load_registry() -> Registry:
    """The resource registry with every module's declarations (`<module>/resources.py`), nothing else."""
    for name in MODULES:
        if importlib.util.find_spec(f"agyn.{name}.resources") is not None:
            importlib.import_module(f"agyn.{name}.resources")
    return REGISTRY


@cache
def load_modules() -> tuple[Module, ...]:
    """Every module's declaration; importing them declares their tables and registry resources."""
    return tuple(importlib.import_module(f"agyn.{name}.module").MODULE for name in MODULES)


def build_platform(settings: Settings, clock: Clock | None = None) -> Platform:
    """The platform for one process: shared parts from settings, then each module in order."""
    import redis.asyncio as redis

    from agyn.kit.clock import Clock
    from agyn.kit.db import Database
    from agyn.kit.events import EventBus
    from agyn.kit.platform import Platform
    from agyn.kit.readcache import ReadCache

    platform = Platform(Database(settings.effective_database_url), EventBus(),
                        redis.from_url(settings.redis_url) if settings.redis_url else None, clock or Clock())
    platform.provide(settings)
    platform.read_cache = ReadCache(settings.token_cache_seconds, clock=platform.clock, redis=platform.redis,
                                    channel=f"{settings.notifications.redis_channel}.read-cache")
    platform.read_cache.watch(platform.database.session_class)
    platform.on_start.append(_start_read_cache)
    platform.on_stop.append(_stop_read_cache)
    for module in load_modules():
        for service in module.services(platform):
            platform.provide(service)
        for collection in module.collections:
            platform.add_collection(collection(platform))
        for event, handler in module.subscriptions(platform):
            platform.events.subscribe(event, handler)
        if module.on_start is not None:
            platform.on_start.append(module.on_start)
        if module.on_stop is not None:
            platform.on_stop.append(module.on_stop)
    return platform


async def _start_read_cache(platform: Platform) -> None:
    await platform.read_cache.start()


async def _stop_read_cache(platform: Platform) -> None:
    await platform.read_cache.stop()


def mounts(platform: Platform) -> list[tuple[str, ASGIApp]]:
    """ASGI apps served beside the API, at their paths."""
    return [mount for module in load_modules() for mount in module.mounts(platform)]


def hot_routes(platform: Platform) -> list[HotRoute]:
    """Endpoints served in front of the framework, by exact path."""
    return [route for module in load_modules() for route in module.hot_routes(platform)]


def streamed_uploads() -> frozenset[str]:
    """Paths whose endpoints enforce their own body limit."""
    return frozenset(path for module in load_modules() for path in module.streamed_uploads)


@cache
def routers() -> tuple[ModuleRouter, ...]:
    """Every module's routes: its collections' generic routers, then its own. Built once per process, like
    the modules' own routers: each app includes them (a test process builds many apps)."""
    from agyn.api.collections import collection_router

    return tuple(router for module in load_modules()
                 for router in (*(collection_router(c) for c in module.collections), *module.routers))
