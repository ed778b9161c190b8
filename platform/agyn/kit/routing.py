"""Route matching that skips a module's router with one string test.

The app's router asks every included router in turn whether it matches a request, and each of those
asks every route of its own: a path near the end of the list (the threads, say) was tried against
some 130 routes before it was found. A `ModuleRouter` answers "no" at once when the path does not
start with the literal part (up to its first `{`) of any of its routes, which no path such a route
matches can fail to do; otherwise it matches as any router does.

Every module's router is one, rather than a plain router wrapped in a guard: FastAPI builds each
route's dependency analysis again for every level of routers it is included through.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


def literal_prefix(route: BaseRoute) -> str:
    """What every path the route matches starts with ("" when the route does not match by path)."""
    path = getattr(route, "path", None)
    return path.split("{", 1)[0] if isinstance(path, str) else ""


class ModuleRouter(APIRouter):
    _prefixes: tuple[str, ...] = ()
    _prefixes_of = -1  # the number of routes they were taken from

    def prefixes(self) -> tuple[str, ...]:
        if self._prefixes_of != len(self.routes):  # a route added later is not skipped wrongly
            self._prefixes = tuple(sorted({literal_prefix(route) for route in self.routes}))
            self._prefixes_of = len(self.routes)
        return self._prefixes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path and path.startswith(root_path):  # as the routes see it (Starlette's route path)
            path = path[len(root_path):]
        if not path.startswith(self.prefixes()):
            return Match.NONE, {}
        return super().matches(scope)
