"""SPEC §5 conventions on every table-backed registry collection, generated from the registry:
If-Match, Idempotency-Key, pagination, unknown and mistyped fields, immutable fields, and deletes
refused while referenced (restrict) or carried through (cascade).

The foundation's own endpoints (users, organizations, memberships, tokens) are covered by
`tests/platform/test_conventions.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from agyn.kit.resources import Field, Kind
from tests.conftest import Api, assert_problem
from tests.resources.fixtures_all import (
    REGISTRY,
    SPECS,
    TABLE_COLLECTIONS,
    World,
    build_world,
    object_path,
    unique,
)

STALE_ETAG = '"00000000000000000000"'
WRONG_TYPES: dict[Kind, Any] = {
    Kind.string: 12345,
    Kind.integer: "12",
    Kind.boolean: "yes",
    Kind.enum: "no-such-choice",
    Kind.reference: "not-a-uuid",
    Kind.json: ["not", "an", "object"],
    Kind.duration: 300,
    Kind.string_list: "not-a-list",
    Kind.string_map: ["not", "a", "map"],
    Kind.object: "not-an-object",
}


@pytest_asyncio.fixture(scope="module")
async def world(module_api: Api) -> AsyncIterator[World]:
    yield await build_world(module_api)


def _fields(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


COLLECTIONS = [pytest.param(c, id=c) for c in TABLE_COLLECTIONS]


def test_every_table_collection_has_a_builder() -> None:
    assert set(TABLE_COLLECTIONS) <= set(SPECS)


# --- If-Match ------------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_a_stale_if_match_is_412_and_changes_nothing(world: World, collection: str) -> None:
    spec, owner = SPECS[collection], world.owner.headers
    created = await world.make(collection)
    url = object_path(collection, created["id"])
    stale = STALE_ETAG
    if not spec.resource.fully_immutable:
        changed = await world.client.patch(url, headers={**owner, "If-Match": created["etag"]},
                                           json=spec.change(unique))
        assert changed.status_code == 200, changed.text
        stale = created["etag"]  # a real ETag, from before that change
    current = (await world.get(collection, created["id"])).json()

    refused = await world.client.patch(url, headers={**owner, "If-Match": stale}, json=spec.change(unique))
    assert_problem(refused, 412, "failed_precondition")
    assert_problem(await world.client.delete(url, headers={**owner, "If-Match": stale}), 412,
                   "failed_precondition")
    assert (await world.get(collection, created["id"])).json() == current

    deleted = await world.client.delete(url, headers={**owner, "If-Match": current["etag"]})
    assert deleted.status_code == 204, deleted.text


# --- Idempotency-Key ------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_a_repeated_idempotency_key_returns_the_first_result(world: World, collection: str) -> None:
    spec = SPECS[collection]
    body, other_body = await world.body(collection), await world.body(collection)
    before = set(await world.ids(collection))
    headers = {**world.headers(spec.creator), "Idempotency-Key": f"create-{uuid.uuid4()}"}

    first = await world.client.post(spec.path, headers=headers, json=body)
    assert first.status_code == 201, first.text
    again = await world.client.post(spec.path, headers=headers, json=body)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.headers["etag"] == first.headers["etag"]

    other = await world.client.post(spec.path, headers=headers, json=other_body)
    assert "Idempotency-Key" in assert_problem(other, 422, "invalid_argument")["detail"]
    assert set(await world.ids(collection)) - before == {first.json()["id"]}


# --- pagination ----------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_pagination_walks_every_object_once(world: World, collection: str) -> None:
    created = [(await world.make(collection))["id"] for _ in range(3)]
    everything = await world.ids(collection)
    assert everything == sorted(everything, key=uuid.UUID)  # a stable order: creation order
    walked = await world.ids(collection, page_size=2)
    assert walked == everything and set(created) <= set(walked)
    # filtered by what the first of them belongs to, one at a time, as the owner
    resource = REGISTRY[collection]
    by = next(f.name for f in resource.filters if f.kind == Kind.reference)
    parent = (await world.get(collection, created[0])).json()[by]
    one_by_one = await world.ids(collection, "owner", page_size=1, **{by: parent})
    assert one_by_one == await world.ids(collection, "owner", **{by: parent})
    assert created[0] in one_by_one


# --- unknown and mistyped fields -----------------------------------------------------------------


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_unknown_fields_are_refused(world: World, collection: str) -> None:
    spec = SPECS[collection]
    before = await world.ids(collection)
    created = await world.client.post(spec.path, headers=world.headers(spec.creator),
                                      json={**await world.body(collection), "colour": "blue"})
    assert _fields(assert_problem(created, 400, "invalid_argument")) == ["colour"]
    assert await world.ids(collection) == before
    target = await world.shared(collection)
    changed = await world.client.patch(object_path(collection, target["id"]), headers=world.headers(spec.creator),
                                       json={"colour": "blue"})
    assert _fields(assert_problem(changed, 400, "invalid_argument")) == ["colour"]


def _input_fields() -> list[Any]:
    return [pytest.param(c, f.name, id=f"{c}.{f.name}") for c in TABLE_COLLECTIONS
            for f in REGISTRY[c].input_fields]


@pytest.mark.parametrize(("collection", "name"), _input_fields())
async def test_mistyped_fields_are_refused_by_name(world: World, collection: str, name: str) -> None:
    spec, field = SPECS[collection], REGISTRY[collection].field(name)
    headers = world.headers(spec.creator)
    before = await world.ids(collection)
    body = {**await world.body(collection), name: WRONG_TYPES[field.kind]}
    created = await world.client.post(spec.path, headers=headers, json=body)
    assert _fields(assert_problem(created, 400, "invalid_argument")) == [name]
    assert await world.ids(collection) == before

    target = await world.shared(collection)
    current = (await world.get(collection, target["id"])).json()
    changed = await world.client.patch(object_path(collection, target["id"]), headers=headers,
                                       json={name: WRONG_TYPES[field.kind]})
    assert _fields(assert_problem(changed, 400, "invalid_argument")) == [name]
    assert (await world.get(collection, target["id"])).json() == current


# --- immutable fields ----------------------------------------------------------------------------


def _immutable_fields() -> list[Any]:
    """Every immutable input field that has another value to change to (not a one-choice enum)."""
    return [pytest.param(c, f.name, id=f"{c}.{f.name}") for c in TABLE_COLLECTIONS
            for f in REGISTRY[c].input_fields if f.immutable and not (f.kind == Kind.enum and len(f.choices) < 2)]


async def _another_value(world: World, collection: str, field: Field, current: Any) -> Any:
    """A valid value of `field` other than `current`."""
    if field.kind == Kind.reference:
        target = await world.organization() if field.references == "organizations" else \
            await world.make(str(field.references))
        return target["id"]
    if field.kind == Kind.string_list and field.choices:
        return [next(choice for choice in field.choices if [choice] != current)]
    return (await world.body(collection))[field.name]


@pytest.mark.parametrize(("collection", "name"), _immutable_fields())
async def test_immutable_fields_cannot_change(world: World, collection: str, name: str) -> None:
    resource, spec = REGISTRY[collection], SPECS[collection]
    created = await world.make(collection)
    value = await _another_value(world, collection, resource.field(name), created.get(name))
    assert value != created.get(name)
    response = await world.client.patch(object_path(collection, created["id"]), headers=world.headers(spec.creator),
                                        json={name: value})
    body = assert_problem(response, 400, "invalid_argument")
    if resource.fully_immutable:
        assert "cannot be changed" in body["detail"]
    else:
        assert _fields(body) == [name]
    assert (await world.get(collection, created["id"])).json()["etag"] == created["etag"]


# --- deleting what is referred to ----------------------------------------------------------------


def _references(on_delete: str) -> list[Any]:
    """(target collection, referrer, field) for every reference of a table-backed collection (restrict),
    or of any collection to another collection (cascade)."""
    return [pytest.param(target.collection, referrer.collection, field.name,
                         id=f"{target.collection}<-{referrer.collection}.{field.name}")
            for target in REGISTRY for referrer, field in REGISTRY.referrers(target.collection)
            if field.on_delete == on_delete and (on_delete == "cascade" or referrer.storage == "table")]


async def _target_and_referrer(world: World, target: str, referrer: str, name: str
                               ) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """In a new organization: an object of `target`, and one of `referrer` naming it in `name`."""
    organization = await world.organization()
    made = organization if target == "organizations" else await world.make(target, organization["id"])
    referring = await world.make(referrer, organization["id"], **{name: made["id"]})
    assert referring[name] == made["id"]
    return organization["id"], made, referring


def test_every_restrict_reference_comes_from_a_table_collection() -> None:
    """The generic refusal (`ensure_unreferenced`) looks only at table-backed referrers, and the test
    below only at those: a restrict reference from a custom collection would go unchecked."""
    referrers = [(r, f) for target in REGISTRY for r, f in REGISTRY.referrers(target.collection)
                 if f.on_delete == "restrict"]
    assert referrers and all(r.storage == "table" for r, _ in referrers), \
        [f"{r.collection}.{f.name}" for r, f in referrers if r.storage != "table"]


@pytest.mark.parametrize(("target", "referrer", "name"), _references("restrict"))
async def test_deleting_a_referenced_object_is_refused_naming_the_referrer(
        world: World, target: str, referrer: str, name: str) -> None:
    organization_id, made, referring = await _target_and_referrer(world, target, referrer, name)
    url = object_path(target, made["id"])
    refused = await world.client.delete(url, headers=world.owner.headers)
    detail = assert_problem(refused, 409, "failed_precondition")["detail"]
    # the referrer named is the first, in registry order, of the objects that refer to the target: the
    # one made here unless one of its own parents refers to the target too (a model needs a provider
    # of its organization, so deleting the organization names the provider)
    restrict = [(r, f) for r, f in REGISTRY.referrers(target) if f.on_delete == "restrict" and r.storage == "table"]
    referring_now = [(r, [o["id"] for c, o in world.made if c == r.collection and o.get(f.name) == made["id"]])
                     for r, f in restrict]
    resource, candidates = next((r, ids) for r, ids in referring_now if ids)
    assert any(f"{resource.name} {candidate}" in detail for candidate in candidates), detail
    if resource.collection == referrer:
        assert referring["id"] in detail
    assert (await world.get(target, made["id"])).status_code == 200

    # once what refers to it is gone, the target goes
    since = next(i for i, (_, created) in enumerate(world.made) if created["id"] == made["id"])
    for collection, created in reversed(world.made[since + 1:]):  # children first; configuration goes with agents
        if created.get("organization_id") == organization_id:
            gone = await world.client.delete(object_path(collection, created["id"]), headers=world.api.admin)
            assert gone.status_code in (204, 404), gone.text
    assert (await world.client.delete(url, headers=world.owner.headers)).status_code == 204


@pytest.mark.parametrize(("target", "referrer", "name"), [
    p for p in _references("cascade") if p.values[0] != "identities"])
async def test_deleting_an_object_deletes_what_belongs_to_it(
        world: World, target: str, referrer: str, name: str) -> None:
    _, made, referring = await _target_and_referrer(world, target, referrer, name)
    deleted = await world.client.delete(object_path(target, made["id"]), headers=world.owner.headers)
    assert deleted.status_code == 204, deleted.text
    assert (await world.get(referrer, referring["id"])).status_code == 404

