"""Schemathesis over the platform's whole OpenAPI document, in process.

Every operation gets a bounded number of generated requests, valid and invalid, sent as the cluster
admin against a world of real objects (path ids are sometimes those of real objects, so updates and
deletes reach the services, not only their 404s). Nothing may answer 5xx, and every answer must match
the response schema the document declares for it. Generation is derandomized: every run sends the
same requests.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from tests.conftest import Api, assert_problem
from tests.resources.fixtures_all import REGISTRY, SPECS, World, build_world

CONFIG = SchemathesisConfig.from_str("""
[checks.positive_data_acceptance]
# a request the schema allows may still break a rule the schema cannot state (a date in the past, a
# reference to an object that does not exist, fields that go together): the API answers those 400
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "412", "413"]

[checks.negative_data_rejection]
# the defaults, and 413: a body past a schema's maxItems can also be past the body limit, which refuses
# it before any parser reads it
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
""")
"""Every check runs (`--checks all`); these are the settings that differ from the defaults."""
MAX_EXAMPLES = 24
"""Generated requests per operation: for about a hundred operations, some twenty-five seconds a backend."""
COLLECTION_PATH = re.compile(r"^/api/v1/(?P<collection>[a-z-]+)/\{(?P<parameter>[a-z_]+)\}")


@pytest_asyncio.fixture(scope="module")
async def world(module_api: Api) -> AsyncIterator[World]:
    world = await build_world(module_api)
    for kind in SPECS:
        await world.shared(kind)
    yield world


def _known_ids(world: World) -> dict[str, list[str]]:
    """The ids of the world's objects by collection (path ids that exist)."""
    known: dict[str, list[str]] = {r.collection: [] for r in REGISTRY}
    for collection, created in world.made:
        known[collection].append(str(created["id"]))
    known["users"] += [world.owner.id, world.member.id]
    return known


def _strategy(operation: Any, known: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """Valid and invalid requests; where the path names an object, sometimes a real one."""
    modes = [operation.as_strategy(generation_mode=mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    match = COLLECTION_PATH.match(operation.path)
    if match and known.get(match["collection"]):
        modes += [operation.as_strategy(path_parameters={match["parameter"]: object_id}).map(_current)
                  for object_id in known[match["collection"]][:3]]
    return st.one_of(modes)


def _current(case: Any) -> Any:
    """The case without a generated If-Match, which would only ever be stale (412) for a real object."""
    if case.headers:
        case.headers.pop("If-Match", None)
    return case


def _fields(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


async def _send(client: httpx.AsyncClient, request: dict[str, Any]) -> httpx.Response:
    """A request as Schemathesis prepares it for `requests`, sent with the in-process client."""
    content = request.get("data")
    if "json" in request:
        content = json.dumps(request["json"]).encode()
    return await client.request(request["method"], request["url"], headers=request["headers"],
                                params=request.get("params"), content=content)


# --- what it found (runs first, on a world the exploration has not touched) ----------------------


async def test_text_with_nul_is_refused_on_every_backend(world: World) -> None:
    """PostgreSQL text cannot hold NUL: a body or query string carrying one was a 500 there (and stored
    on SQLite). Now it is a 400 naming the parameter, before anything is written, on both."""
    client, owner = world.client, world.owner.headers
    before = await world.ids("organizations")
    created = await client.post("/api/v1/organizations", headers=owner, json={"name": "nul\u0000org"})
    assert _fields(assert_problem(created, 400, "invalid_argument")) == ["name"]
    assert "NUL" in created.json()["detail"]
    assert await world.ids("organizations") == before

    model = await world.shared("models")
    url = f"/api/v1/models/{model['id']}"
    for change in ({"remote_name": "gpt\u0000"}, {"name": "m\u0000"}):
        changed = await client.patch(url, headers=owner, json=change)
        assert _fields(assert_problem(changed, 400, "invalid_argument")) == list(change)
    nested = await client.post("/api/v1/secret-providers", headers=owner, json={
        "organization_id": world.organization_id, "name": "vault-nul", "type": "vault",
        "vault": {"address": "http://127.0.0.1:8200", "token": "hvs.\u0000"}})
    assert _fields(assert_problem(nested, 400, "invalid_argument")) == ["vault.token"]
    in_a_map = await client.post("/api/v1/runners", headers=owner, json={
        "organization_id": world.organization_id, "name": "runner-nul", "labels": {"zone\u0000": "eu"}})
    assert _fields(assert_problem(in_a_map, 400, "invalid_argument")) == ["labels"]
    assert (await client.get(url, headers=owner)).json()["etag"] == model["etag"]

    for path, parameter in (("/api/v1/agents", "name"), ("/api/v1/users", "username"),
                            ("/api/v1/organizations", "name")):
        listed = await client.get(path, headers=world.api.admin, params={parameter: "a\u0000b"})
        assert _fields(assert_problem(listed, 400, "invalid_argument")) == [parameter]


# --- the exploration ------------------------------------------------------------------------------


async def test_no_operation_answers_5xx_or_off_schema(world: World) -> None:
    api = world.api
    schema = schemathesis.openapi.from_dict(api.app.openapi(), config=CONFIG)
    known, loop = _known_ids(world), asyncio.get_running_loop()
    failures: list[str] = []

    def explore(operation: Any) -> None:  # runs in a worker thread; requests go to the test's event loop
        @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=_strategy(operation, known))
        def check(case: Any) -> None:
            request = case.as_transport_kwargs(base_url=str(api.client.base_url), headers=api.admin)
            response = asyncio.run_coroutine_threadsafe(_send(api.client, request), loop).result()
            case.validate_response(response)

        check()

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 90
    for operation in operations:
        try:
            await asyncio.to_thread(explore, operation)
        except (Exception, BaseExceptionGroup) as failure:  # several checks failing: a BaseExceptionGroup
            failures.append(f"{operation.label}: {failure!r}\n{failure}")
    assert not failures, "\n\n".join(failures)
