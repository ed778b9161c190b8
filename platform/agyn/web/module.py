from __future__ import annotations

from collections.abc import Iterable

from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from agyn.kit.platform import Module, Platform
from agyn.web.bundle import STATIC
from agyn.web.endpoints import ASSETS_URL, router


class ImmutableAssets(StaticFiles):
    """The bundle's files carry a content hash in their names: a browser may keep them for good."""

    def file_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def mounts(platform: Platform) -> Iterable[tuple[str, ASGIApp]]:
    return [(ASSETS_URL, GZipMiddleware(ImmutableAssets(directory=STATIC / "assets", check_dir=False)))]


MODULE = Module(name="web", routers=(router,), mounts=mounts)
