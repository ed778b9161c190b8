"""The openfga-sdk backend against a local server speaking the OpenFGA HTTP API (fake_openfga)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from agyn.authorization import dsl
from agyn.authorization.backends import AuthorizationBackend, MemoryBackend
from agyn.authorization.engine import MODEL_FILE, Engine, InvalidTupleError, TupleKey
from agyn.authorization.openfga import OpenFGABackend, OpenFGAError
from agyn.settings import OpenFGASettings

from .fake_openfga import FakeOpenFga, serve


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeOpenFga, str]]:
    server = FakeOpenFga()
    async with serve(server) as url:
        yield server, url


@pytest.fixture
async def backend(fake: tuple[FakeOpenFga, str]) -> AsyncIterator[OpenFGABackend]:
    _, url = fake
    backend = await OpenFGABackend.create_store(url, "agyn-test")
    yield backend
    await backend.close()


def org_tuples(orgs: int, members: int) -> list[TupleKey]:
    tuples = [TupleKey("identity:root", "admin", "cluster:global")]
    for o in range(orgs):
        org = f"organization:o{o}"
        tuples += [TupleKey("cluster:global", "cluster", org), TupleKey(f"identity:owner{o}", "owner", org),
                   TupleKey(org, "org", f"thread:t{o}"), TupleKey(org, "org", f"agent:a{o}"),
                   TupleKey(f"identity:owner{o}", "owner", f"agent:a{o}")]
        tuples += [TupleKey(f"identity:m{o}-{m}", "member", org) for m in range(members)]
        if o % 2 == 0:
            tuples.append(TupleKey(org, "internal_access", f"agent:a{o}"))
    return tuples


async def test_create_store_uploads_model_fga(fake: tuple[FakeOpenFga, str], backend: OpenFGABackend) -> None:
    server, _ = fake
    assert backend.store_id in server.stores
    assert server.stores[backend.store_id].latest_model_id == backend.model_id
    assert server.calls("/authorization-models") == [dsl.to_json(dsl.parse_file(MODEL_FILE))]


async def test_write_read_check_list_match_the_embedded_backend(
    fake: tuple[FakeOpenFga, str], backend: OpenFGABackend
) -> None:
    server, _ = fake
    assert isinstance(backend, AuthorizationBackend)
    tuples = org_tuples(orgs=5, members=45)  # 251 tuples
    memory = MemoryBackend(Engine.from_file())
    for b in (backend, memory):
        await b.write(tuples)

    writes = server.calls("/write")
    assert len(writes) == 3 and all(len(w["writes"]["tuple_keys"]) <= 100 for w in writes)
    assert all(w["authorization_model_id"] == backend.model_id for w in writes)

    stored = await backend.read()
    assert sorted(map(str, stored)) == sorted(map(str, tuples))
    assert len(server.calls("/read")) == 3  # 251 tuples, 100 per page
    assert await backend.read(object="organization:o1", relation="member") == await memory.read(
        object="organization:o1", relation="member")
    assert await backend.read(user="identity:owner3", object="agent:") == [
        TupleKey("identity:owner3", "owner", "agent:a3")]

    questions = [
        TupleKey(user, relation, obj)
        for user in ("identity:root", "identity:owner0", "identity:m1-3", "identity:m2-0", "identity:nobody")
        for relation, obj in (("can_view", "organization:o1"), ("member", "organization:o1"),
                              ("can_read", "thread:t1"), ("can_read", "thread:t2"), ("can_initiate", "agent:a2"),
                              ("can_initiate", "agent:a1"), ("can_delete", "agent:a0"),
                              ("can_manage_members", "organization:o0"))
    ] * 3  # 120 items: more than one BatchCheck request of 50
    expected = await memory.batch_check(questions)
    assert any(expected) and not all(expected)
    assert await backend.batch_check(questions) == expected
    assert len(server.calls("/batch-check")) == 3
    for q in questions[:40]:
        assert await backend.check(q.user, q.relation, q.object) == await memory.check(q.user, q.relation, q.object)

    for user in ("identity:root", "identity:owner2", "identity:m2-7", "identity:m1-1"):
        for relation, object_type in (("can_read", "thread"), ("can_initiate", "agent"), ("can_view", "organization")):
            assert await backend.list_objects(user, relation, object_type) == await memory.list_objects(
                user, relation, object_type)


async def test_writes_and_deletes_are_idempotent(backend: OpenFGABackend) -> None:
    owner = TupleKey("identity:ann", "owner", "organization:o1")
    await backend.write([owner])
    await backend.write([owner])
    assert await backend.check("identity:ann", "member", "organization:o1")
    member = TupleKey("identity:ann", "member", "organization:o1")
    await backend.write([member], [owner])  # a role swap in one call
    assert not await backend.check("identity:ann", "owner", "organization:o1")
    assert await backend.check("identity:ann", "member", "organization:o1")
    await backend.write(deletes=[member, owner])
    assert await backend.read(object="organization:o1") == []


async def test_large_mixed_write_is_chunked(fake: tuple[FakeOpenFga, str], backend: OpenFGABackend) -> None:
    server, _ = fake
    old = [TupleKey(f"identity:u{i}", "member", "organization:o1") for i in range(80)]
    new = [TupleKey(f"identity:u{i}", "owner", "organization:o1") for i in range(80)]
    await backend.write(old)
    await backend.write(new, old)
    last = server.calls("/write")[-2:]
    assert [len((c.get("writes") or {}).get("tuple_keys", [])) + len((c.get("deletes") or {}).get("tuple_keys", []))
            for c in last] == [100, 60]
    assert sorted(map(str, await backend.read(object="organization:o1"))) == sorted(map(str, new))


async def test_server_rejections_become_invalid_tuple_errors(backend: OpenFGABackend) -> None:
    with pytest.raises(InvalidTupleError, match="computed"):
        await backend.write([TupleKey("identity:ann", "can_view", "organization:o1")])
    with pytest.raises(InvalidTupleError, match="not defined"):
        await backend.check("identity:ann", "nope", "organization:o1")
    with pytest.raises(InvalidTupleError, match="not defined"):
        await backend.batch_check([TupleKey("identity:ann", "member", "organization:o1"),
                                   TupleKey("identity:ann", "nope", "organization:o1")])
    with pytest.raises(InvalidTupleError, match="`user` is required"):
        await backend.read(object="organization:")
    with pytest.raises(InvalidTupleError, match="more than once"):
        t = TupleKey("identity:ann", "member", "organization:o1")
        await backend.write([t], [t])


async def test_write_model_adds_a_version(fake: tuple[FakeOpenFga, str], backend: OpenFGABackend) -> None:
    server, _ = fake
    first = backend.model_id
    second = await backend.write_model(dsl.parse_file(MODEL_FILE))
    assert second != first and backend.model_id == second
    assert set(server.stores[backend.store_id].models) == {first, second}


async def test_unknown_store_is_an_openfga_error(fake: tuple[FakeOpenFga, str], backend: OpenFGABackend) -> None:
    _, url = fake
    other = OpenFGABackend(url, "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    try:
        with pytest.raises(OpenFGAError, match="store"):
            await other.check("identity:ann", "member", "organization:o1")
    finally:
        await other.close()


async def test_unreachable_server_is_an_openfga_error() -> None:
    backend = OpenFGABackend("http://127.0.0.1:9", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    try:
        with pytest.raises(OpenFGAError):
            await backend.check("identity:ann", "member", "organization:o1")
    finally:
        await backend.close()


async def test_from_settings_uses_store_model_and_token(fake: tuple[FakeOpenFga, str], backend: OpenFGABackend) -> None:
    server, url = fake
    await backend.write([TupleKey("identity:ann", "owner", "organization:o1")])
    configured = OpenFGABackend.from_settings(
        OpenFGASettings(api_url=url, store_id=backend.store_id, model_id=backend.model_id, api_token=SecretStr("s3"))
    )
    try:
        assert await configured.check("identity:ann", "can_invite", "organization:o1")
    finally:
        await configured.close()
    assert server.calls("/check")[-1]["authorization_model_id"] == backend.model_id
    assert server.authorization_headers[-1] == "Bearer s3"


def test_from_settings_needs_a_store() -> None:
    with pytest.raises(ValueError, match="AGYN_OPENFGA__STORE_ID"):
        OpenFGABackend.from_settings(OpenFGASettings(api_url="http://127.0.0.1:8080"))
