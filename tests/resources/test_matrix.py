"""The authorization matrix: every caller × every collection × every verb, one test per cell.

Callers: the cluster admin, the owner of the organization, one of its members, an outsider who
belongs to no organization of the world, and two service identities calling with their tokens: a
runner of the organization and an app installed in it. Neither is a member (least privilege), so
both see and do what an outsider does, except that they may not found an organization nor invite
members (403). A workload token (another agent's, confined to its own thread) reads its agent's
configuration only: everything else is refused (403), and another agent's objects are not there (404,
unlisted). A caller who cannot see an object gets 404; one who sees
it but may not act gets 403; a create naming an object the caller cannot see (the organization, the
agent, the app) is 400 on that field, as any unresolvable reference is. Members read the
organization's resources and its agents' metadata, but not the agents' configuration.

Reads use the world's shared objects; create, update and delete cells use objects of their own, so
no cell depends on another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.conftest import Api, assert_problem
from tests.resources.fixtures_all import REGISTRY, ROLES, SPECS, Role, Spec, World, build_world, unique

LISTED, UNLISTED = "listed", "unlisted"
CODES = {400: "invalid_argument", 403: "permission_denied", 404: "not_found"}
Cell = int | str | tuple[int, str]
Row = tuple[Cell, Cell, Cell, Cell]  # admin, owner, member, outsider
SERVICE_CALLERS = ("runner", "app")


def unseen(field: str) -> tuple[int, str]:
    """A create naming, in `field`, an object the caller cannot see: 400 on that field."""
    return 400, field


@dataclass(frozen=True)
class Expect:
    create: Row
    list: Row
    get: Row
    update: Row
    delete: Row
    services: dict[str, Cell] | None = None
    """What a runner or an app gets where it differs from the outsider, by verb."""

    def cell(self, verb: str, role: str, kind: str = "") -> Cell:
        if role == "workload":
            return workload_cell(kind, verb)
        if role in SERVICE_CALLERS:
            return (self.services or {}).get(verb, getattr(self, verb)[ROLES.index("outsider")])
        row: Row = getattr(self, verb)
        return row[ROLES.index(role)]


def workload_cell(kind: str, verb: str) -> Cell:
    """A workload token (another agent's, in its own thread) reads its agent's configuration and
    nothing else: the configuration collections list empty and their items (another agent's) are not
    there, as is another agent; every other call is refused outright."""
    collection = kind.split(":")[0]
    if collection in WORKLOAD_READS and verb == "list":
        return UNLISTED
    if collection in (*WORKLOAD_READS, "agents") and verb == "get":
        return 404
    return 403


WORKLOAD_READS = ("skills", "init-scripts", "mcps", "hooks", "envs")
ORG = unseen("organization_id")
MATRIX: dict[str, Expect] = {
    # cluster admins manage users; everyone else sees only themself
    "users": Expect(create=(201, 403, 403, 403), list=(LISTED, 403, 403, 403), get=(200, 404, 404, 404),
                    update=(200, 404, 404, 404), delete=(204, 404, 404, 404)),
    # anyone may found an organization; its members see it, its owners run it
    "organizations": Expect(create=(201, 201, 201, 201), list=(LISTED, LISTED, LISTED, UNLISTED),
                            get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404),
                            services={"create": 403}),
    # an owner's grant is an invitation (201, pending); an outsider is told the organization is not there
    "memberships": Expect(create=(201, 201, 403, 404), list=(LISTED, LISTED, LISTED, UNLISTED),
                          get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404),
                          services={"create": 403}),
    "llm-providers": Expect(create=(201, 201, 403, ORG), list=(LISTED, LISTED, LISTED, UNLISTED),
                            get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404)),
    "models": Expect(create=(201, 201, 403, ORG), list=(LISTED, LISTED, LISTED, UNLISTED),
                     get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404)),
    "secret-providers": Expect(create=(201, 201, 403, ORG), list=(LISTED, LISTED, LISTED, UNLISTED),
                               get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404)),
    "secrets": Expect(create=(201, 201, 403, ORG), list=(LISTED, LISTED, LISTED, UNLISTED),
                      get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404)),
    # members read an agent's metadata; its configuration is its owners' and maintainers'
    "agents": Expect(create=(201, 201, 403, ORG), list=(LISTED, LISTED, LISTED, UNLISTED),
                     get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404)),
    "agent-roles": Expect(create=(201, 201, 403, unseen("agent_id")), list=(LISTED, LISTED, UNLISTED, UNLISTED),
                          get=(200, 200, 404, 404), update=(200, 200, 404, 404), delete=(204, 204, 404, 404)),
    "mcps": Expect(create=(201, 201, 403, unseen("agent_id")), list=(LISTED, LISTED, UNLISTED, UNLISTED),
                   get=(200, 200, 404, 404), update=(200, 200, 404, 404), delete=(204, 204, 404, 404)),
    "skills": Expect(create=(201, 201, 403, unseen("agent_id")), list=(LISTED, LISTED, UNLISTED, UNLISTED),
                     get=(200, 200, 404, 404), update=(200, 200, 404, 404), delete=(204, 204, 404, 404)),
    "hooks": Expect(create=(201, 201, 403, unseen("agent_id")), list=(LISTED, LISTED, UNLISTED, UNLISTED),
                    get=(200, 200, 404, 404), update=(200, 200, 404, 404), delete=(204, 204, 404, 404)),
    "envs": Expect(create=(201, 201, 403, unseen("agent_id")), list=(LISTED, LISTED, UNLISTED, UNLISTED),
                   get=(200, 200, 404, 404), update=(200, 200, 404, 404), delete=(204, 204, 404, 404)),
    "init-scripts": Expect(create=(201, 201, 403, unseen("agent_id")), list=(LISTED, LISTED, UNLISTED, UNLISTED),
                           get=(200, 200, 404, 404), update=(200, 200, 404, 404), delete=(204, 204, 404, 404)),
    "volumes": Expect(create=(201, 201, 403, ORG), list=(LISTED, LISTED, LISTED, UNLISTED),
                      get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404)),
    # an attachment cannot be changed at all (400 to those who may edit the agent, after authorization)
    "volume-attachments": Expect(create=(201, 201, 403, unseen("volume_id")),
                                 list=(LISTED, LISTED, UNLISTED, UNLISTED), get=(200, 200, 404, 404),
                                 update=(400, 400, 404, 404), delete=(204, 204, 404, 404)),
    "runners": Expect(create=(201, 201, 403, ORG), list=(LISTED, LISTED, LISTED, UNLISTED),
                      get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404)),
    # cluster-wide runners: everyone's to see, cluster admins' alone to manage
    "runners:cluster": Expect(create=(201, 403, 403, 403), list=(LISTED, LISTED, LISTED, LISTED),
                              get=(200, 200, 200, 200), update=(200, 403, 403, 403), delete=(204, 403, 403, 403)),
    "apps": Expect(create=(201, 201, 403, ORG), list=(LISTED, LISTED, LISTED, UNLISTED),
                   get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404)),
    # a public app: everyone's to see and install, its organization's to manage
    "apps:public": Expect(create=(201, 201, 403, ORG), list=(LISTED, LISTED, LISTED, LISTED),
                          get=(200, 200, 200, 200), update=(200, 200, 403, 403), delete=(204, 204, 403, 403)),
    # installing an internal app: the outsider cannot see the app it names
    "app-installations": Expect(create=(201, 201, 403, unseen("app_id")), list=(LISTED, LISTED, LISTED, UNLISTED),
                                get=(200, 200, 200, 404), update=(200, 200, 403, 404), delete=(204, 204, 403, 404)),
}
VERBS = ("create", "list", "get", "update", "delete")


@pytest_asyncio.fixture(scope="module")
async def world(module_api: Api) -> AsyncIterator[World]:
    world = await build_world(module_api)
    await world.add_service_callers()
    yield world


def assert_refused(response: httpx.Response, expected: Cell) -> None:
    if isinstance(expected, tuple):
        status, field = expected
        body = assert_problem(response, status, CODES[status])
        assert [error["field"] for error in body["errors"]] == [field], body
    else:
        assert isinstance(expected, int)
        assert_problem(response, expected, CODES[expected])


async def check_create(world: World, spec: Spec, role: Role, expected: Cell) -> None:
    body = await world.body(spec.kind)
    before = await world.ids(spec.collection)
    response = await world.client.post(spec.path, headers=world.headers(role), json=body)
    if expected == 201:
        assert response.status_code == 201, response.text
        assert (await world.get(spec.collection, response.json()["id"])).status_code == 200
        return
    assert_refused(response, expected)
    assert await world.ids(spec.collection) == before, "a refused create left an object behind"


async def check_list(world: World, spec: Spec, role: Role, expected: Cell) -> None:
    target = await world.shared(spec.kind)
    if isinstance(expected, int):
        assert_refused(await world.client.get(spec.path, headers=world.headers(role)), expected)
        return
    listed = target["id"] in await world.ids(spec.collection, role)
    assert listed == (expected == LISTED)
    # filtering by what the object belongs to neither hides it nor reveals it
    by = next((f.name for f in spec.resource.filters if target.get(f.name) is not None), None)
    if by is not None:
        assert (target["id"] in await world.ids(spec.collection, role, **{by: target[by]})) == listed


async def check_get(world: World, spec: Spec, role: Role, expected: Cell) -> None:
    target = await world.shared(spec.kind)
    response = await world.get(spec.collection, target["id"], role)
    if expected == 200:
        assert response.status_code == 200, response.text
        assert response.json()["id"] == target["id"]
        return
    assert_refused(response, expected)


async def check_update(world: World, spec: Spec, role: Role, expected: Cell) -> None:
    target = await world.make(spec.kind)
    before = (await world.get(spec.collection, target["id"])).json()
    change = spec.change(unique)
    response = await world.client.patch(f"{spec.path}/{target['id']}", headers=world.headers(role), json=change)
    if expected == 200:
        assert response.status_code == 200, response.text
        assert {name: response.json()[name] for name in change} == change
        assert response.json()["etag"] != before["etag"]
        return
    assert_refused(response, expected)
    assert (await world.get(spec.collection, target["id"])).json() == before, "a refused update changed it"


async def check_delete(world: World, spec: Spec, role: Role, expected: Cell) -> None:
    target = await world.make(spec.kind)
    response = await world.client.delete(f"{spec.path}/{target['id']}", headers=world.headers(role))
    if expected == 204:
        assert response.status_code == 204, response.text
        assert (await world.get(spec.collection, target["id"])).status_code == 404
        return
    assert_refused(response, expected)
    assert (await world.get(spec.collection, target["id"])).status_code == 200, "a refused delete removed it"


CHECKS: dict[str, Callable[[World, Spec, Role, Cell], Awaitable[None]]] = {
    "create": check_create, "list": check_list, "get": check_get, "update": check_update, "delete": check_delete}


def test_the_matrix_covers_every_collection() -> None:
    assert {SPECS[kind].collection for kind in MATRIX} == {r.collection for r in REGISTRY}
    assert set(MATRIX) <= set(SPECS)


@pytest.mark.parametrize(("kind", "role", "verb"), [
    pytest.param(kind, role, verb, id=f"{kind}-{verb}-{role}") for kind in MATRIX for verb in VERBS for role in ROLES])
async def test_cell(world: World, kind: str, role: Role, verb: str) -> None:
    expected: Any = MATRIX[kind].cell(verb, role, kind)
    await CHECKS[verb](world, SPECS[kind], role, expected)
