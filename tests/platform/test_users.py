"""Users administration (`/api/v1/users`, cluster admin) and what a user may see of it (SPEC §4 Users)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from agyn.identity.models import Identity
from agyn.organizations.models import Membership
from agyn.users.models import ApiToken
from tests.conftest import Api, assert_problem

USERS = "/api/v1/users"



async def _count(api: Api, model: Any, *where: Any) -> int:
    async with api.app.state.platform.database.transaction() as session:
        value = await session.scalar(select(func.count()).select_from(model).where(*where))
    return int(value or 0)


async def _admin_id(api: Api) -> str:
    me = await api.client.get("/me", headers=api.admin)
    identity_id: str = me.json()["identity_id"]
    return identity_id


# --- create -----------------------------------------------------------------------------------


async def test_admin_creates_users(api: Api) -> None:
    created = await api.client.post(USERS, headers=api.admin, json={
        "oidc_subject": "idp|1", "username": "alice", "name": "Alice", "email": "alice@example.com",
        "photo_url": "https://example.com/a.png"})
    assert created.status_code == 201, created.text
    user = created.json()
    assert {k: user[k] for k in ("oidc_subject", "username", "name", "email", "photo_url", "cluster_role")} == {
        "oidc_subject": "idp|1", "username": "alice", "name": "Alice", "email": "alice@example.com",
        "photo_url": "https://example.com/a.png", "cluster_role": "none"}
    assert created.headers["etag"] == user["etag"]
    assert await _count(api, Identity, Identity.id == uuid.UUID(user["id"]), Identity.type == "user") == 1

    admin = await api.client.post(USERS, headers=api.admin, json={
        "oidc_subject": "idp|2", "username": "root2", "cluster_role": "admin"})
    assert admin.status_code == 201 and admin.json()["cluster_role"] == "admin"
    got = await api.client.get(f"{USERS}/{admin.json()['id']}", headers=api.admin)
    assert got.json()["cluster_role"] == "admin"
    # without a username one is derived, unique
    derived = await api.client.post(USERS, headers=api.admin, json={"oidc_subject": "idp|3", "email": "alice@x.org"})
    assert derived.status_code == 201, derived.text
    assert derived.json()["username"] not in {"alice", ""}
    assert derived.json()["username"].startswith("alice")


async def test_create_refuses_duplicates_and_bad_input(api: Api) -> None:
    await api.user("alice")
    taken = await api.client.post(USERS, headers=api.admin, json={"oidc_subject": "other", "username": "alice"})
    assert "alice" in assert_problem(taken, 409, "already_exists")["detail"]
    same_subject = await api.client.post(USERS, headers=api.admin, json={"oidc_subject": "test|alice",
                                                                        "username": "alice2"})
    assert_problem(same_subject, 409, "already_exists")
    bad_name = await api.client.post(USERS, headers=api.admin, json={"oidc_subject": "x", "username": "Not Valid!"})
    assert assert_problem(bad_name, 400, "invalid_argument")["errors"][0]["field"] == "username"
    bad_role = await api.client.post(USERS, headers=api.admin, json={"oidc_subject": "x", "cluster_role": "root"})
    assert assert_problem(bad_role, 400, "invalid_argument")["errors"][0]["field"] == "cluster_role"
    missing = await api.client.post(USERS, headers=api.admin, json={"username": "nosubject"})
    assert assert_problem(missing, 400, "invalid_argument")["errors"][0]["field"] == "oidc_subject"
    listed = await api.client.get(USERS, headers=api.admin)
    assert sorted(u["username"] for u in listed.json()["items"]) == ["admin", "alice"]
    assert await _count(api, Identity) == 2


async def test_non_admins_cannot_list_or_create(api: Api) -> None:
    alice = await api.user("alice")
    assert_problem(await api.client.get(USERS, headers=alice.headers), 403, "permission_denied")
    refused = await api.client.post(USERS, headers=alice.headers, json={"oidc_subject": "x", "username": "mallory"})
    assert_problem(refused, 403, "permission_denied")
    assert_problem(await api.client.get(USERS), 401, "unauthenticated")
    listed = await api.client.get(USERS, headers=api.admin, params={"username": "mallory"})
    assert listed.json()["items"] == []


# --- list and get -----------------------------------------------------------------------------


async def test_list_filters_and_pagination(api: Api) -> None:
    names = [f"u{i:02d}" for i in range(7)]
    created = [await api.user(name) for name in names]
    by_name = await api.client.get(USERS, headers=api.admin, params={"username": "u03"})
    assert [u["id"] for u in by_name.json()["items"]] == [created[3].id]
    by_subject = await api.client.get(USERS, headers=api.admin, params={"oidc_subject": "test|u05"})
    assert [u["username"] for u in by_subject.json()["items"]] == ["u05"]
    assert (await api.client.get(USERS, headers=api.admin, params={"username": "nobody"})).json()["items"] == []

    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"page_size": 3}
        if token:
            params["page_token"] = token
        page = await api.client.get(USERS, headers=api.admin, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 3
        seen += [u["username"] for u in body["items"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert pages == 3  # 8 users (admin + 7) in pages of 3
    assert sorted(seen) == sorted(["admin", *names]) and len(seen) == len(set(seen))
    admin_row = next(u for u in (await api.client.get(USERS, headers=api.admin)).json()["items"]
                     if u["username"] == "admin")
    assert admin_row["cluster_role"] == "admin"


async def test_user_sees_only_themself(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    own = await api.client.get(f"{USERS}/{alice.id}", headers=alice.headers)
    assert own.status_code == 200 and own.json()["username"] == "alice" and own.json()["cluster_role"] == "none"
    assert own.headers["etag"] == own.json()["etag"]
    other = await api.client.get(f"{USERS}/{bob.id}", headers=alice.headers)
    assert bob.id in assert_problem(other, 404, "not_found")["detail"]
    # same answer as for a user that does not exist
    assert_problem(await api.client.get(f"{USERS}/{uuid.uuid4()}", headers=alice.headers), 404, "not_found")
    assert_problem(await api.client.get(f"{USERS}/{uuid.uuid4()}", headers=api.admin), 404, "not_found")
    assert (await api.client.get(f"{USERS}/{bob.id}", headers=api.admin)).json()["username"] == "bob"


# --- update -----------------------------------------------------------------------------------


async def test_admin_updates_profile(api: Api) -> None:
    alice = await api.user("alice")
    before = (await api.client.get(f"{USERS}/{alice.id}", headers=api.admin)).json()
    patched = await api.client.patch(f"{USERS}/{alice.id}", headers=api.admin,
                                     json={"name": "Alice A.", "email": "a@example.com", "username": "alice-a"})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["email"], body["username"]) == ("Alice A.", "a@example.com", "alice-a")
    assert body["etag"] != before["etag"] and patched.headers["etag"] == body["etag"]
    me = (await api.client.get("/me", headers=alice.headers)).json()
    assert (me["username"], me["name"], me["email"]) == ("alice-a", "Alice A.", "a@example.com")


async def test_username_must_stay_unique(api: Api) -> None:
    alice, _bob = await api.user("alice"), await api.user("bob")
    clash = await api.client.patch(f"{USERS}/{alice.id}", headers=api.admin, json={"username": "bob", "name": "X"})
    assert "bob" in assert_problem(clash, 409, "already_exists")["detail"]
    after = (await api.client.get(f"{USERS}/{alice.id}", headers=api.admin)).json()
    assert after["username"] == "alice" and after["name"] == ""
    # keeping one's own username is not a clash
    same = await api.client.patch(f"{USERS}/{alice.id}", headers=api.admin, json={"username": "alice"})
    assert same.status_code == 200
    null = await api.client.patch(f"{USERS}/{alice.id}", headers=api.admin, json={"username": None})
    assert assert_problem(null, 400, "invalid_argument")["errors"][0]["field"] == "username"


async def test_users_cannot_change_users(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    assert_problem(await api.client.patch(f"{USERS}/{alice.id}", headers=alice.headers, json={"cluster_role": "admin"}),
             403, "permission_denied")
    assert_problem(await api.client.patch(f"{USERS}/{bob.id}", headers=alice.headers, json={"name": "x"}),
             404, "not_found")
    assert_problem(await api.client.delete(f"{USERS}/{bob.id}", headers=alice.headers), 404, "not_found")
    assert_problem(await api.client.delete(f"{USERS}/{alice.id}", headers=alice.headers), 403, "permission_denied")
    assert (await api.client.get("/me", headers=alice.headers)).json()["cluster_role"] == "none"
    assert (await api.client.get("/me", headers=bob.headers)).status_code == 200


async def test_cluster_role_grant_and_revoke(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(bob, "bobs")
    assert (await api.client.get("/me", headers=alice.headers)).json()["cluster_role"] == "none"
    assert_problem(await api.client.get(USERS, headers=alice.headers), 403, "permission_denied")
    assert_problem(await api.client.get(f"/api/v1/organizations/{org['id']}", headers=alice.headers), 404, "not_found")

    granted = await api.client.patch(f"{USERS}/{alice.id}", headers=api.admin, json={"cluster_role": "admin"})
    assert granted.status_code == 200 and granted.json()["cluster_role"] == "admin"
    assert (await api.client.get("/me", headers=alice.headers)).json()["cluster_role"] == "admin"
    assert (await api.client.get(USERS, headers=alice.headers)).status_code == 200
    assert (await api.client.get(f"/api/v1/organizations/{org['id']}", headers=alice.headers)).status_code == 200
    # as an admin alice can now manage users herself
    made = await api.client.post(USERS, headers=alice.headers, json={"oidc_subject": "x|carol", "username": "carol"})
    assert made.status_code == 201, made.text

    revoked = await api.client.patch(f"{USERS}/{alice.id}", headers=api.admin, json={"cluster_role": "none"})
    assert revoked.status_code == 200 and revoked.json()["cluster_role"] == "none"
    assert (await api.client.get("/me", headers=alice.headers)).json()["cluster_role"] == "none"
    assert_problem(await api.client.get(USERS, headers=alice.headers), 403, "permission_denied")
    assert_problem(await api.client.get(f"/api/v1/organizations/{org['id']}", headers=alice.headers), 404, "not_found")


async def test_admin_cannot_remove_own_admin_role(api: Api) -> None:
    admin_id = await _admin_id(api)
    before = (await api.client.get(f"{USERS}/{admin_id}", headers=api.admin)).json()
    refused = await api.client.patch(f"{USERS}/{admin_id}", headers=api.admin,
                                     json={"name": "Renamed", "cluster_role": "none"})
    assert "own" in assert_problem(refused, 409, "failed_precondition")["detail"]
    # nothing of the refused PATCH was kept: not the role, not the name sent with it
    after = await api.client.get(f"{USERS}/{admin_id}", headers=api.admin)
    assert after.json()["cluster_role"] == "admin"
    assert after.json()["name"] == before["name"] and after.json()["etag"] == before["etag"]
    assert (await api.client.get("/me", headers=api.admin)).json()["cluster_role"] == "admin"
    # another admin may revoke it
    other = await api.user("other", cluster_role="admin")
    revoked = await api.client.patch(f"{USERS}/{admin_id}", headers=other.headers, json={"cluster_role": "none"})
    assert revoked.status_code == 200 and revoked.json()["cluster_role"] == "none"
    assert_problem(await api.client.get(USERS, headers=api.admin), 403, "permission_denied")


# --- delete -----------------------------------------------------------------------------------


async def test_delete_user_revokes_tokens_and_memberships(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    bob_org = await api.organization(bob, "bobs")
    await api.add_member(bob_org["id"], alice, role="owner")
    await api.add_member(org["id"], bob)
    extra = await api.client.post("/api/v1/api-tokens", headers=bob.headers, json={"name": "second"})
    second_token = extra.json()["token"]
    assert (await api.client.get("/me", headers=api.auth(second_token))).status_code == 200

    deleted = await api.client.delete(f"{USERS}/{bob.id}", headers=api.admin)
    assert deleted.status_code == 204, deleted.text
    for token in (bob.token, second_token):
        assert_problem(await api.client.get("/me", headers=api.auth(token)), 401, "unauthenticated")
    assert_problem(await api.client.get(f"{USERS}/{bob.id}", headers=api.admin), 404, "not_found")
    listed = await api.client.get("/api/v1/memberships", headers=alice.headers, params={"organization_id": org["id"]})
    assert [m["identity_id"] for m in listed.json()["items"]] == [alice.id]
    bob_id = uuid.UUID(bob.id)
    assert await _count(api, Membership, Membership.identity_id == bob_id) == 0
    assert await _count(api, ApiToken, ApiToken.identity_id == bob_id) == 0
    assert await _count(api, Identity, Identity.id == bob_id) == 0
    admin_memberships = await api.client.get("/api/v1/memberships", headers=api.admin,
                                             params={"identity_id": bob.id})
    assert admin_memberships.json()["items"] == []
    # bob's own org survives him, with its other owner
    survivors = await api.client.get("/api/v1/memberships", headers=alice.headers,
                                     params={"organization_id": bob_org["id"]})
    assert [(m["identity_id"], m["role"]) for m in survivors.json()["items"]] == [(alice.id, "owner")]
    # the username is free again
    again = await api.client.post(USERS, headers=api.admin, json={"oidc_subject": "new|bob", "username": "bob"})
    assert again.status_code == 201 and again.json()["id"] != bob.id


async def test_admin_cannot_delete_themself(api: Api) -> None:
    admin_id = await _admin_id(api)
    refused = await api.client.delete(f"{USERS}/{admin_id}", headers=api.admin)
    assert_problem(refused, 409, "failed_precondition")
    assert (await api.client.get("/me", headers=api.admin)).status_code == 200
    assert (await api.client.get(f"{USERS}/{admin_id}", headers=api.admin)).status_code == 200


async def test_delete_unknown_user_is_404(api: Api) -> None:
    assert_problem(await api.client.delete(f"{USERS}/{uuid.uuid4()}", headers=api.admin), 404, "not_found")


async def test_last_owner_of_an_org_cannot_be_deleted(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    refused = await api.client.delete(f"{USERS}/{alice.id}", headers=api.admin)
    assert org["id"] in assert_problem(refused, 409, "failed_precondition")["detail"]
    # nothing was removed: alice still signs in and still owns her org
    assert (await api.client.get("/me", headers=alice.headers)).status_code == 200
    assert (await api.client.get(f"/api/v1/organizations/{org['id']}", headers=alice.headers)).status_code == 200
    assert await _count(api, Membership, Membership.identity_id == uuid.UUID(alice.id)) == 1
    # a pending owner invitation does not count; an active second owner does
    invited = await api.client.post("/api/v1/memberships", headers=alice.headers, json={
        "organization_id": org["id"], "identity_id": bob.id, "role": "owner"})
    assert invited.status_code == 201 and invited.json()["status"] == "pending"
    assert_problem(await api.client.delete(f"{USERS}/{alice.id}", headers=api.admin), 409, "failed_precondition")
    accepted = await api.client.post(f"/api/v1/memberships/{invited.json()['id']}/accept", headers=bob.headers)
    assert accepted.status_code == 200
    assert (await api.client.delete(f"{USERS}/{alice.id}", headers=api.admin)).status_code == 204
    renamed = await api.client.patch(f"/api/v1/organizations/{org['id']}", headers=bob.headers, json={"name": "b"})
    assert renamed.status_code == 200


async def test_null_cluster_role_is_refused(api: Api) -> None:
    alice = await api.user("alice", cluster_role="admin")
    refused = await api.client.patch(f"{USERS}/{alice.id}", headers=api.admin, json={"cluster_role": None})
    assert assert_problem(refused, 400, "invalid_argument")["errors"][0]["field"] == "cluster_role"
    assert (await api.client.get("/me", headers=alice.headers)).json()["cluster_role"] == "admin"
