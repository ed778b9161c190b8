"""SPEC §5 API conventions on the foundation's endpoints, and D4: one transaction per request.

Errors are RFC 9457 problem details with a stable code; bad input is a 4xx, never a 500 and never
a partial write; ETags and If-Match; Idempotency-Key; cursor pagination; request ids; health,
readiness, metrics and the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event, func, select

from agyn.identity.models import Identity
from agyn.kit.audit import AuditEvent
from agyn.organizations.models import Organization
from agyn.users.models import ApiToken, User
from tests.conftest import Api, assert_problem, running_api
from tests.support.clock import FakeClock

ORGS = "/api/v1/organizations"
MEMBERSHIPS = "/api/v1/memberships"
USERS = "/api/v1/users"
TOKENS = "/api/v1/api-tokens"



def _fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


async def _count(api: Api, model: Any, *where: Any) -> int:
    async with api.app.state.platform.database.transaction() as session:
        value = await session.scalar(select(func.count()).select_from(model).where(*where))
    return int(value or 0)


async def _org_count(api: Api) -> int:
    return await _count(api, Organization)


# --- problem details --------------------------------------------------------------------------


async def test_every_error_is_a_problem_document(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    await api.add_member(org["id"], bob)
    cases: list[tuple[httpx.Response, int, str]] = [
        (await api.client.post(ORGS, headers=alice.headers, json={}), 400, "invalid_argument"),
        (await api.client.get("/me"), 401, "unauthenticated"),
        (await api.client.delete(f"{ORGS}/{org['id']}", headers=bob.headers), 403, "permission_denied"),
        (await api.client.get(f"{ORGS}/{uuid.uuid4()}", headers=alice.headers), 404, "not_found"),
        (await api.client.get("/api/v1/no-such-collection", headers=alice.headers), 404, "not_found"),
        (await api.client.put(ORGS, headers=alice.headers, json={}), 405, "invalid_argument"),
        (await api.client.post(ORGS, headers=alice.headers, json={"name": "acme"}), 409, "already_exists"),
        (await api.client.patch(f"{ORGS}/{org['id']}", headers={**alice.headers, "If-Match": '"stale"'},
                                json={"name": "x"}), 412, "failed_precondition"),
        (await api.client.post(ORGS, headers={**alice.headers, "content-type": "application/json"},
                               content=b" " * (api.settings.max_body_bytes + 1)), 413, "resource_exhausted"),
    ]
    key = {"Idempotency-Key": "k1"}
    await api.client.post(ORGS, headers={**alice.headers, **key}, json={"name": "one"})
    cases.append((await api.client.post(ORGS, headers={**alice.headers, **key}, json={"name": "two"}),
                  422, "invalid_argument"))
    for response, status, code in cases:
        body = assert_problem(response, status, code)
        assert response.headers.get("x-request-id"), response.request.url
        assert body["type"] == "about:blank"
    unauthenticated = cases[1][0]
    assert unauthenticated.headers["www-authenticate"].startswith("Bearer")


async def test_malformed_json_is_invalid_argument(api: Api) -> None:
    for raw in (b'{"name": ', b"{'name': 'single quotes'}", b'{"name": "x",}'):
        response = await api.client.post(ORGS, headers={**api.admin, "content-type": "application/json"},
                                         content=raw)
        body = assert_problem(response, 400, "invalid_argument")
        assert "malformed JSON" in body["detail"]
        assert _fields(body) == ["body"]
    for raw in (b"[1, 2]", b'"acme"', b"null", b""):
        response = await api.client.post(ORGS, headers={**api.admin, "content-type": "application/json"},
                                         content=raw)
        assert _fields(assert_problem(response, 400, "invalid_argument")) == ["body"]
    assert await _org_count(api) == 1  # only the system org


async def test_unknown_field_is_named(api: Api) -> None:
    response = await api.client.post(ORGS, headers=api.admin, json={"name": "acme", "colour": "red"})
    body = assert_problem(response, 400, "invalid_argument")
    assert body["errors"] == [{"field": "colour", "message": "unknown field"}]
    assert "colour" in body["detail"]
    alice = await api.user("alice")
    patched = await api.client.patch(f"{USERS}/{alice.id}", headers=api.admin, json={"nickname": "al"})
    assert _fields(assert_problem(patched, 400, "invalid_argument")) == ["nickname"]
    assert await _org_count(api) == 1


async def test_mistyped_and_missing_fields(api: Api) -> None:
    alice = await api.user("alice")
    org = await api.organization(alice, "acme")
    cases: list[tuple[str, dict[str, Any], str]] = [
        (ORGS, {"name": 5}, "name"),
        (ORGS, {"name": ""}, "name"),
        (ORGS, {"name": "x" * 101}, "name"),
        (ORGS, {}, "name"),
        (MEMBERSHIPS, {"organization_id": "not-a-uuid", "identity_id": alice.id}, "organization_id"),
        (MEMBERSHIPS, {"organization_id": org["id"], "identity_id": 42}, "identity_id"),
        (MEMBERSHIPS, {"organization_id": org["id"], "identity_id": alice.id, "role": "boss"}, "role"),
        (MEMBERSHIPS, {"identity_id": alice.id}, "organization_id"),
        (USERS, {"oidc_subject": ["a"], "username": "zed"}, "oidc_subject"),
        (USERS, {"oidc_subject": "s", "cluster_role": "root"}, "cluster_role"),
        (TOKENS, {"name": "t", "expires_at": "tomorrow"}, "expires_at"),
        (TOKENS, {"name": "t", "expires_at": "2099-01-01T00:00:00"}, "expires_at"),  # no timezone
        (TOKENS, {}, "name"),
    ]
    for path, payload, field in cases:
        response = await api.client.post(path, headers=api.admin, json=payload)
        body = assert_problem(response, 400, "invalid_argument")
        assert field in _fields(body), (path, payload, body)
        assert field in body["detail"]
        assert all(e["message"] for e in body["errors"])
    assert_problem(await api.client.get(f"{ORGS}/not-a-uuid", headers=api.admin), 400, "invalid_argument")
    assert await _org_count(api) == 2
    assert await _count(api, User) == 2
    assert await _count(api, ApiToken) == 2  # the admin's and alice's


async def test_over_limit_body_is_413_and_writes_nothing(api: Api) -> None:
    limit = api.settings.max_body_bytes
    # a valid request padded with JSON whitespace past the limit: only the size is wrong
    padded = b'{"name": "big-org"' + b" " * limit + b"}"
    json.loads(padded)
    headers = {**api.admin, "content-type": "application/json"}

    declared = await api.client.post(ORGS, headers=headers, content=padded)
    assert str(limit) in assert_problem(declared, 413, "resource_exhausted")["detail"]

    async def stream(payload: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start:start + 64 * 1024]

    streamed = await api.client.post(ORGS, headers=headers, content=stream(padded))
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    assert streamed.request.headers["transfer-encoding"] == "chunked"
    assert str(limit) in assert_problem(streamed, 413, "resource_exhausted")["detail"]

    idempotent = await api.client.post(ORGS, headers={**headers, "Idempotency-Key": "big"}, content=stream(padded))
    assert_problem(idempotent, 413, "resource_exhausted")

    user_body = b'{"oidc_subject": "big|1", "username": "big"' + b" " * limit + b"}"
    assert_problem(await api.client.post(USERS, headers=headers, content=stream(user_body)), 413, "resource_exhausted")

    listed = await api.client.get(ORGS, headers=api.admin, params={"name": "big-org"})
    assert listed.json()["items"] == []
    assert await _org_count(api) == 1
    assert (await api.client.get(USERS, headers=api.admin, params={"username": "big"})).json()["items"] == []
    # a body within the limit still works on the same endpoint, streamed or not
    small = await api.client.post(ORGS, headers=headers, content=stream(b'{"name": "big-org"}'))
    assert small.status_code == 201, small.text


async def test_unknown_route_and_wrong_method(api: Api) -> None:
    missing = await api.client.get("/api/v1/nothing-here", headers=api.admin)
    assert_problem(missing, 404, "not_found")
    wrong = await api.client.put(ORGS, headers=api.admin, json={"name": "x"})
    body = assert_problem(wrong, 405, "invalid_argument")
    assert set(wrong.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert "PUT" in body["detail"]
    item = await api.client.post(f"{ORGS}/{uuid.uuid4()}", headers=api.admin, json={})
    assert_problem(item, 405, "invalid_argument")
    assert set(item.headers["allow"].replace(" ", "").split(",")) == {"GET", "PATCH", "DELETE"}
    assert_problem(await api.client.delete("/healthz"), 405, "invalid_argument")
    assert await _org_count(api) == 1


# --- ETags and If-Match -----------------------------------------------------------------------


async def test_etags_on_get_post_patch_and_changes_after_update(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    created = await api.client.post(ORGS, headers=alice.headers, json={"name": "acme"})
    org = created.json()
    assert created.headers["etag"] == org["etag"] and re.fullmatch(r'"[^"]+"', org["etag"])
    got = await api.client.get(f"{ORGS}/{org['id']}", headers=alice.headers)
    assert got.headers["etag"] == org["etag"]
    patched = await api.client.patch(f"{ORGS}/{org['id']}", headers=alice.headers, json={"name": "acme-2"})
    assert patched.headers["etag"] == patched.json()["etag"] != org["etag"]
    assert (await api.client.get(f"{ORGS}/{org['id']}", headers=alice.headers)).headers["etag"] == \
        patched.headers["etag"]

    membership = await api.client.post(MEMBERSHIPS, headers=api.admin, json={
        "organization_id": org["id"], "identity_id": bob.id})
    assert membership.headers["etag"] == membership.json()["etag"]
    m_got = await api.client.get(f"{MEMBERSHIPS}/{membership.json()['id']}", headers=bob.headers)
    assert m_got.headers["etag"] == membership.json()["etag"]
    m_patched = await api.client.patch(f"{MEMBERSHIPS}/{membership.json()['id']}", headers=alice.headers,
                                       json={"role": "owner"})
    assert m_patched.headers["etag"] == m_patched.json()["etag"] != membership.json()["etag"]

    user = await api.client.get(f"{USERS}/{alice.id}", headers=api.admin)
    assert user.headers["etag"] == user.json()["etag"]
    u_patched = await api.client.patch(f"{USERS}/{alice.id}", headers=api.admin, json={"name": "Alice"})
    assert u_patched.headers["etag"] == u_patched.json()["etag"] != user.json()["etag"]
    # listing shows the same etags as the items' own GETs
    listed = await api.client.get(ORGS, headers=alice.headers)
    assert [o["etag"] for o in listed.json()["items"]] == [patched.headers["etag"]]


async def test_if_match_on_organizations(api: Api) -> None:
    alice = await api.user("alice")
    org = await api.organization(alice, "acme")
    url = f"{ORGS}/{org['id']}"
    first = await api.client.patch(url, headers={**alice.headers, "If-Match": org["etag"]}, json={"name": "v2"})
    assert first.status_code == 200, first.text
    # the old ETag is stale now: 412 and nothing changes
    stale = await api.client.patch(url, headers={**alice.headers, "If-Match": org["etag"]}, json={"name": "v3"})
    assert first.headers["etag"] in assert_problem(stale, 412, "failed_precondition")["detail"]
    current = await api.client.get(url, headers=alice.headers)
    assert current.json()["name"] == "v2" and current.headers["etag"] == first.headers["etag"]
    assert_problem(await api.client.delete(url, headers={**alice.headers, "If-Match": org["etag"]}),
             412, "failed_precondition")
    assert (await api.client.get(url, headers=alice.headers)).status_code == 200
    # a list of tags matches if any does; `*` matches whatever the current tag is
    listed = await api.client.patch(url, headers={**alice.headers, "If-Match": f'"nope", {first.headers["etag"]}'},
                                    json={"name": "v3"})
    assert listed.status_code == 200 and listed.json()["name"] == "v3"
    # If-Match uses strong comparison: a weak tag never matches, even with the current value
    weak = await api.client.patch(url, headers={**alice.headers, "If-Match": f'W/{listed.headers["etag"]}'},
                                  json={"name": "weak"})
    assert_problem(weak, 412, "failed_precondition")
    star = await api.client.patch(url, headers={**alice.headers, "If-Match": "*"}, json={"name": "v4"})
    assert star.status_code == 200 and star.json()["name"] == "v4"
    deleted = await api.client.delete(url, headers={**alice.headers, "If-Match": star.headers["etag"]})
    assert deleted.status_code == 204
    assert (await api.client.get(url, headers=alice.headers)).status_code == 404


async def test_if_match_on_users_and_memberships(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    membership = await api.add_member(org["id"], bob)
    m_url = f"{MEMBERSHIPS}/{membership['id']}"
    moved = await api.client.patch(m_url, headers={**alice.headers, "If-Match": membership["etag"]},
                                   json={"role": "owner"})
    assert moved.status_code == 200
    assert_problem(await api.client.patch(m_url, headers={**alice.headers, "If-Match": membership["etag"]},
                                    json={"role": "member"}), 412, "failed_precondition")
    assert_problem(await api.client.delete(m_url, headers={**alice.headers, "If-Match": membership["etag"]}),
             412, "failed_precondition")
    assert (await api.client.get(m_url, headers=alice.headers)).json()["role"] == "owner"
    assert (await api.client.delete(m_url, headers={**alice.headers, "If-Match": "*"})).status_code == 204

    user = (await api.client.get(f"{USERS}/{bob.id}", headers=api.admin)).json()
    u_url = f"{USERS}/{bob.id}"
    renamed = await api.client.patch(u_url, headers={**api.admin, "If-Match": user["etag"]}, json={"name": "B"})
    assert renamed.status_code == 200
    assert_problem(await api.client.patch(u_url, headers={**api.admin, "If-Match": user["etag"]},
                                    json={"name": "C", "cluster_role": "admin"}), 412, "failed_precondition")
    after = (await api.client.get(u_url, headers=api.admin)).json()
    assert after["name"] == "B" and after["cluster_role"] == "none"
    assert (await api.client.get("/me", headers=bob.headers)).json()["cluster_role"] == "none"
    assert_problem(await api.client.delete(u_url, headers={**api.admin, "If-Match": user["etag"]}),
             412, "failed_precondition")
    assert (await api.client.get("/me", headers=bob.headers)).status_code == 200
    assert (await api.client.delete(u_url, headers={**api.admin, "If-Match": renamed.headers["etag"]})).status_code \
        == 204
    assert_problem(await api.client.get("/me", headers=bob.headers), 401, "unauthenticated")


# --- Idempotency-Key --------------------------------------------------------------------------


async def test_idempotent_retry_returns_the_first_response(api: Api) -> None:
    alice = await api.user("alice")
    headers = {**alice.headers, "Idempotency-Key": "create-acme"}
    first = await api.client.post(ORGS, headers=headers, json={"name": "acme"})
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    second = await api.client.post(ORGS, headers=headers, json={"name": "acme"})
    assert second.status_code == 201, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-type"] == "application/json"
    assert await _count(api, Organization, Organization.name == "acme") == 1

    other_body = await api.client.post(ORGS, headers=headers, json={"name": "acme-else"})
    assert "Idempotency-Key" in assert_problem(other_body, 422, "invalid_argument")["detail"]
    assert await _count(api, Organization, Organization.name == "acme-else") == 0

    # tokens are secrets: a replay must hand back the same token, not mint another
    tok_headers = {**alice.headers, "Idempotency-Key": "token-1"}
    t1 = await api.client.post(TOKENS, headers=tok_headers, json={"name": "ci"})
    t2 = await api.client.post(TOKENS, headers=tok_headers, json={"name": "ci"})
    assert t1.status_code == t2.status_code == 201
    assert t1.json()["id"] == t2.json()["id"] and t1.json()["token"] == t2.json()["token"]
    assert await _count(api, ApiToken, ApiToken.name == "ci") == 1


async def test_failed_requests_are_not_recorded_for_idempotency(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    await api.organization(bob, "taken")
    headers = {**alice.headers, "Idempotency-Key": "retry-me"}
    refused = await api.client.post(ORGS, headers=headers, json={"name": "taken"})
    assert_problem(refused, 409, "already_exists")
    # the refused attempt was not stored: the same key may now carry a corrected body
    fixed = await api.client.post(ORGS, headers=headers, json={"name": "free"})
    assert fixed.status_code == 201 and "idempotent-replayed" not in fixed.headers


async def test_idempotency_records_expire_after_a_day(database_url: str, tmp_path: Path) -> None:
    """A key replays its first response for 24 hours; after that it is a new request (and records anew)."""
    clock = FakeClock()
    async with running_api(database_url, tmp_path / "data", clock=clock) as api:
        headers = {**api.admin, "Idempotency-Key": "daily"}
        first = await api.client.post(TOKENS, headers=headers, json={"name": "daily"})
        assert first.status_code == 201 and "idempotent-replayed" not in first.headers
        clock.advance(24 * 3600 - 1)  # the promise is spelled out: the constant could drift with the code
        replayed = await api.client.post(TOKENS, headers=headers, json={"name": "daily"})
        assert replayed.headers.get("idempotent-replayed") == "true" and replayed.json() == first.json()

        clock.advance(2)
        fresh = await api.client.post(TOKENS, headers=headers, json={"name": "daily"})
        assert fresh.status_code == 201 and "idempotent-replayed" not in fresh.headers
        assert fresh.json()["id"] != first.json()["id"]
        again = await api.client.post(TOKENS, headers=headers, json={"name": "daily"})
        assert again.headers.get("idempotent-replayed") == "true" and again.json()["id"] == fresh.json()["id"]
        assert await _count(api, ApiToken, ApiToken.name == "daily") == 2


async def test_idempotency_keys_are_per_caller(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    key = {"Idempotency-Key": "shared-key"}
    a = await api.client.post(ORGS, headers={**alice.headers, **key}, json={"name": "alice-org"})
    b = await api.client.post(ORGS, headers={**bob.headers, **key}, json={"name": "bob-org"})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"] and "idempotent-replayed" not in b.headers
    # the same key and the same body from another caller is that caller's own request, not a replay
    c = await api.client.post(ORGS, headers={**bob.headers, "Idempotency-Key": "k2"}, json={"name": "same"})
    d = await api.client.post(ORGS, headers={**alice.headers, "Idempotency-Key": "k2"}, json={"name": "same"})
    assert c.status_code == 201
    assert_problem(d, 409, "already_exists")
    assert "idempotent-replayed" not in d.headers
    names = {o["name"] for o in (await api.client.get(ORGS, headers=alice.headers)).json()["items"]}
    assert names == {"alice-org"}


async def test_concurrent_requests_with_one_key_create_once(api: Api) -> None:
    """Retries that overlap the first request get its response too, whichever step they lose at."""
    alice = await api.user("alice")
    await api.client.get("/me", headers=alice.headers)
    for round_ in range(3):
        headers = {**alice.headers, "Idempotency-Key": f"race-{round_}"}
        # an org: the losers collide on the unique name (or see it taken)
        orgs = await asyncio.gather(*(api.client.post(ORGS, headers=headers, json={"name": f"raced-{round_}"})
                                      for _ in range(4)))
        assert [r.status_code for r in orgs] == [201] * 4, [r.text for r in orgs]
        assert len({r.json()["id"] for r in orgs}) == 1
        assert await _count(api, Organization, Organization.name == f"raced-{round_}") == 1
        # a token: nothing unique to collide on but the idempotency record itself
        token_headers = {**alice.headers, "Idempotency-Key": f"token-race-{round_}"}
        tokens = await asyncio.gather(*(api.client.post(TOKENS, headers=token_headers, json={"name": f"t{round_}"})
                                        for _ in range(4)))
        assert [r.status_code for r in tokens] == [201] * 4, [r.text for r in tokens]
        assert len({r.json()["token"] for r in tokens}) == 1
        assert await _count(api, ApiToken, ApiToken.name == f"t{round_}") == 1


async def test_bad_idempotency_key_is_invalid_argument(api: Api) -> None:
    response = await api.client.post(ORGS, headers={**api.admin, "Idempotency-Key": "x" * 256}, json={"name": "k"})
    assert _fields(assert_problem(response, 400, "invalid_argument")) == ["Idempotency-Key"]
    assert await _org_count(api) == 1


# --- pagination -------------------------------------------------------------------------------


async def _walk(api: Api, path: str, headers: dict[str, str], page_size: int, **params: Any) -> list[str]:
    ids: list[str] = []
    token: str | None = None
    for _ in range(1000):
        query: dict[str, Any] = {**params, "page_size": page_size}
        if token:
            query["page_token"] = token
        response = await api.client.get(path, headers=headers, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= page_size
        ids += [item["id"] for item in body["items"]]
        token = body["next_page_token"]
        if token is None:
            return ids
        assert body["items"], "a page with a next_page_token must not be empty"
    raise AssertionError("pagination did not end")


async def test_pagination_defaults_limits_and_walk(api: Api) -> None:
    alice = await api.user("alice")
    created = [(await api.client.post(ORGS, headers=alice.headers, json={"name": f"org-{i:03d}"})).json()["id"]
               for i in range(57)]
    first = await api.client.get(ORGS, headers=alice.headers)
    assert len(first.json()["items"]) == 50 and first.json()["next_page_token"]
    rest = await api.client.get(ORGS, headers=alice.headers, params={"page_token": first.json()["next_page_token"]})
    assert len(rest.json()["items"]) == 7 and rest.json()["next_page_token"] is None
    assert [o["id"] for o in first.json()["items"] + rest.json()["items"]] == created

    walked = await _walk(api, ORGS, alice.headers, 8)
    assert walked == created  # every item exactly once, in creation order
    assert await _walk(api, ORGS, alice.headers, 8) == walked  # and the order is stable
    assert await _walk(api, ORGS, alice.headers, 100) == created

    # a cursor survives the deletion of the item it points after
    page = (await api.client.get(ORGS, headers=alice.headers, params={"page_size": 10})).json()
    last = page["items"][-1]["id"]
    assert (await api.client.delete(f"{ORGS}/{last}", headers=alice.headers)).status_code == 204
    after = await api.client.get(ORGS, headers=alice.headers, params={"page_size": 10,
                                                                     "page_token": page["next_page_token"]})
    assert [o["id"] for o in after.json()["items"]] == created[10:20]


async def test_page_size_bounds(api: Api) -> None:
    for _ in range(101):
        assert (await api.client.post(TOKENS, headers=api.admin, json={"name": "t"})).status_code == 201
    full = await api.client.get(TOKENS, headers=api.admin, params={"page_size": 100})
    assert len(full.json()["items"]) == 100 and full.json()["next_page_token"]
    default = await api.client.get(TOKENS, headers=api.admin)
    assert len(default.json()["items"]) == 50
    for bad in ("101", "0", "-1", "ten"):
        response = await api.client.get(TOKENS, headers=api.admin, params={"page_size": bad})
        assert _fields(assert_problem(response, 400, "invalid_argument")) == ["page_size"], bad
    ids = await _walk(api, TOKENS, api.admin, 100)
    assert len(ids) == len(set(ids)) == 102  # 101 + the bootstrap token


async def test_garbage_page_tokens_are_invalid_argument(api: Api) -> None:
    def token(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    garbage = ["!!!", "abc", "null", token({"after": 123}), token({"after": [1]}), token({"after": None}),
               token({"after": "not-a-uuid"}), token([1, 2]), token("x"), token({}),
               base64.urlsafe_b64encode(b"\xff\xfe\x00").decode()]
    for path in (ORGS, MEMBERSHIPS, USERS, TOKENS):
        for value in garbage:
            response = await api.client.get(path, headers=api.admin, params={"page_token": value})
            body = assert_problem(response, 400, "invalid_argument")
            assert _fields(body) == ["page_token"], (path, value)


# --- request ids, health, readiness, metrics, OpenAPI -----------------------------------------


async def test_request_ids(api: Api) -> None:
    echoed = await api.client.get("/healthz", headers={"X-Request-ID": "trace-abc.123:x_y"})
    assert echoed.headers["x-request-id"] == "trace-abc.123:x_y"
    also_on_errors = await api.client.get("/me", headers={"X-Request-ID": "err-1"})
    assert also_on_errors.status_code == 401 and also_on_errors.headers["x-request-id"] == "err-1"
    generated: set[str] = set()
    for incoming in (None, "has spaces in it", "x" * 129, "<script>", ""):
        headers = {"X-Request-ID": incoming} if incoming is not None else {}
        response = await api.client.get("/healthz", headers=headers)
        rid = response.headers["x-request-id"]
        assert rid != incoming and re.fullmatch(r"[0-9a-f]{32}", rid), rid
        generated.add(rid)
    assert len(generated) == 5


async def test_health_readiness_and_metrics(api: Api) -> None:
    health = await api.client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok" and ready.json()["checks"]["database"] == "ok"

    org_id = uuid.uuid4()
    await api.client.get(f"{ORGS}/{org_id}", headers=api.admin)
    metrics = await api.client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert "# TYPE agyn_http_requests_total counter" in text
    assert 'agyn_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    # requests are labelled by their route template, never by the concrete path
    assert 'agyn_http_requests_total{method="GET",route="/api/v1/organizations/{organization_id}",status="404"}' \
        in text
    assert str(org_id) not in text
    assert "agyn_http_request_duration_seconds_bucket" in text


async def test_openapi_document(api: Api) -> None:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    expected = {
        "/api/v1/api-tokens": {"get", "post"},
        "/api/v1/api-tokens/{token_id}": {"delete"},
        "/api/v1/users": {"get", "post"},
        "/api/v1/users/{user_id}": {"get", "patch", "delete"},
        "/api/v1/users/{user_id}/api-tokens": {"post"},
        "/api/v1/organizations": {"get", "post"},
        "/api/v1/organizations/{organization_id}": {"get", "patch", "delete"},
        "/api/v1/memberships": {"get", "post"},
        "/api/v1/memberships/{membership_id}": {"get", "patch", "delete"},
        "/api/v1/memberships/{membership_id}/accept": {"post"},
        "/api/v1/memberships/{membership_id}/decline": {"post"},
        "/me": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    parameters = {p["name"] for p in paths["/api/v1/organizations"]["get"]["parameters"]}
    assert {"page_size", "page_token"} <= parameters
    assert (await api.client.get("/docs")).status_code == 200


# --- D4: one transaction per request ----------------------------------------------------------


class _WriteGate:
    """Holds the database's write lock so that concurrent requests pass their checks and then wait
    at their first write; releasing it lets them race to commit.

    SQLite: an IMMEDIATE transaction on another connection (readers go on under WAL). PostgreSQL:
    an EXCLUSIVE lock on `identities` (reads go on, inserts wait).
    """

    def __init__(self, api: Api) -> None:
        self.url = api.app.state.platform.database.url
        self.engine = api.app.state.platform.database.engine.sync_engine
        self.sqlite: sqlite3.Connection | None = None
        self.pg: asyncpg.Connection | None = None
        self.writes_begun = 0

    def _count_write(self, _connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            self.writes_begun += 1

    async def hold(self) -> None:
        if self.url.startswith("sqlite"):
            path = self.url.split(":///", 1)[1]
            self.sqlite = sqlite3.connect(path, isolation_level=None)
            self.sqlite.execute("BEGIN IMMEDIATE")
            event.listen(self.engine, "before_cursor_execute", self._count_write)
        else:
            self.pg = await asyncpg.connect(self.url.replace("postgresql+asyncpg://", "postgresql://"))
            await self.pg.execute("BEGIN")
            await self.pg.execute("LOCK TABLE identities IN EXCLUSIVE MODE")

    async def wait_for_waiters(self, count: int) -> None:
        if self.pg is None:  # SQLite cannot show its waiters: count the writes the platform began
            for _ in range(1200):
                if self.writes_begun >= count:
                    return
                await asyncio.sleep(0.025)
            raise AssertionError("the requests never reached their first write")
        for _ in range(200):
            await self.pg.execute("SELECT pg_stat_clear_snapshot()")  # statistics are cached per transaction
            waiting = await self.pg.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
            if waiting >= count:
                return
            await asyncio.sleep(0.025)
        raise AssertionError("the requests never reached their first write")

    async def release(self) -> None:
        if self.sqlite is not None:
            event.remove(self.engine, "before_cursor_execute", self._count_write)
            self.sqlite.rollback()
            self.sqlite.close()
        if self.pg is not None:
            await self.pg.execute("ROLLBACK")
            await self.pg.close()


async def test_a_request_that_fails_after_its_first_write_leaves_nothing(api: Api) -> None:
    """Two admins create users with one username at once. Both pass the service's uniqueness check,
    both register an identity (the request's first write), and the loser's user row then violates
    the unique constraint. Its identity and audit record must vanish with it."""
    await api.client.get("/me", headers=api.admin)  # token's last_used_at is fresh: no write at auth
    identities_before = await _count(api, Identity)
    audits_before = await _count(api, AuditEvent, AuditEvent.action == "user.create")
    gate = _WriteGate(api)
    await gate.hold()
    try:
        requests = [asyncio.ensure_future(api.client.post(USERS, headers=api.admin, json={
            "oidc_subject": f"race|{i}", "username": "racer", "name": f"Racer {i}"})) for i in range(2)]
        await gate.wait_for_waiters(2)
        assert not any(r.done() for r in requests), "the requests did not wait at their first write"
    finally:
        await gate.release()
    responses = await asyncio.gather(*requests)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 201).json()
    loser = next(r for r in responses if r.status_code == 409)
    body = assert_problem(loser, 409, "already_exists")
    # the loser got past the service's own check (whose message names the username): it failed
    # at the database constraint, after its first write
    assert "racer" not in body["detail"]

    users = (await api.client.get(USERS, headers=api.admin, params={"username": "racer"})).json()["items"]
    assert [u["id"] for u in users] == [winner["id"]]
    assert await _count(api, Identity) == identities_before + 1
    assert await _count(api, Identity, Identity.id.not_in(select(User.id))) == 0
    assert await _count(api, AuditEvent, AuditEvent.action == "user.create") == audits_before + 1
    loser_subject = "race|1" if winner["oidc_subject"] == "race|0" else "race|0"
    assert (await api.client.get(USERS, headers=api.admin, params={"oidc_subject": loser_subject})).json()["items"] \
        == []
    # the platform is fine afterwards: the loser's retry under another name succeeds
    retry = await api.client.post(USERS, headers=api.admin, json={"oidc_subject": loser_subject, "username": "racer2"})
    assert retry.status_code == 201, retry.text


async def test_replayed_secrets_are_stored_encrypted(api: Api) -> None:
    """A first response can hold a value shown once (a token): its stored copy is encrypted."""
    from sqlalchemy import select

    from agyn.kit.http import IdempotencyRecord

    headers = {**api.admin, "Idempotency-Key": "token-once"}
    first = await api.client.post("/api/v1/api-tokens", headers=headers, json={"name": "ci"})
    again = await api.client.post("/api/v1/api-tokens", headers=headers, json={"name": "ci"})
    assert first.status_code == again.status_code == 201
    assert again.json()["token"] == first.json()["token"] and again.headers["idempotent-replayed"] == "true"
    async with api.app.state.platform.database.transaction() as session:
        stored = (await session.scalars(select(IdempotencyRecord.body))).all()
    assert stored and all(first.json()["token"] not in body for body in stored)
