"""`ModuleRouter`: a module's router is skipped at once for paths none of its routes can match, and routes
exactly as a plain router for the rest (redirects, 405s, a root path, routes added late)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from agyn.kit.routing import ModuleRouter, literal_prefix

asked: list[str] = []


class CountingRoute(APIRoute):
    """Remembers each path it was asked to match."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        asked.append(scope["path"])
        return super().matches(scope)


def app_with_guarded_router() -> tuple[FastAPI, ModuleRouter]:
    """The app, and its router without a prefix."""
    things = ModuleRouter(prefix="/api/things", route_class=CountingRoute)

    @things.get("/{thing_id}")
    def read_thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    @things.post("")
    def create_thing() -> dict[str, str]:
        return {"created": "yes"}

    others = ModuleRouter()

    @others.get("/api/other")
    def other() -> dict[str, str]:
        return {"other": "yes"}

    app = FastAPI()
    app.include_router(things)
    app.include_router(others)
    return app, others


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app, _ = app_with_guarded_router()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


async def test_foreign_paths_never_reach_the_guarded_routes(client: httpx.AsyncClient) -> None:
    asked.clear()
    response = await client.get("/api/other")
    assert response.status_code == 200 and response.json() == {"other": "yes"}
    assert (await client.get("/nowhere")).status_code == 404
    assert asked == []


async def test_the_guarded_routes_answer_as_before(client: httpx.AsyncClient) -> None:
    asked.clear()
    response = await client.get("/api/things/7")
    assert response.status_code == 200 and response.json() == {"id": 7}
    assert asked  # the router was asked
    assert (await client.post("/api/things")).json() == {"created": "yes"}
    assert (await client.delete("/api/things/7")).status_code == 405
    assert (await client.get("/api/things/not-a-number")).status_code == 422
    redirect = await client.post("/api/things/", follow_redirects=False)
    assert redirect.status_code == 307 and redirect.headers["location"].endswith("/api/things")


async def test_a_root_path_is_taken_off_before_the_test() -> None:
    app, _ = app_with_guarded_router()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, root_path="/agyn"),
                                 base_url="http://test") as client:
        response = await client.get("/agyn/api/things/3")
    assert response.status_code == 200 and response.json() == {"id": 3}


async def test_a_route_added_after_the_first_request_is_found() -> None:
    app, others = app_with_guarded_router()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/late/x")).status_code == 404

        @others.get("/late/{name}")
        def late(name: str) -> dict[str, str]:
            return {"late": name}

        response = await client.get("/late/x")
    assert response.status_code == 200 and response.json() == {"late": "x"}


def test_the_literal_prefix_stops_at_the_first_parameter() -> None:
    router = APIRouter()

    @router.get("/a/{x}/b/{y}")
    def both(x: str, y: str) -> None: ...

    @router.get("/plain")
    def plain() -> None: ...

    assert [literal_prefix(route) for route in router.routes] == ["/a/", "/plain"]
