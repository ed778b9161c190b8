"""Runners: cluster-wide and organization runners, their identities and service tokens."""

from __future__ import annotations

import uuid

from agyn.authorization.engine import TupleKey
from agyn.identity.service import IdentityService
from tests.conftest import Api, assert_problem

RUNNERS = "/api/v1/runners"


async def test_runner_lifecycle_and_service_token(api: Api) -> None:
    created = await api.client.post(RUNNERS, headers=api.admin, json={
        "name": "shared", "labels": {"zone": "eu"}, "capabilities": ["docker"]})
    assert created.status_code == 201, created.text
    runner = created.json()
    assert runner["organization_id"] is None and runner["labels"] == {"zone": "eu"}
    token = runner["service_token"]
    assert token.startswith("agyn_")

    me = await api.client.get("/me", headers=api.auth(token))
    assert me.status_code == 200, me.text
    assert me.json()["identity_id"] == runner["id"] and me.json()["identity_type"] == "runner"

    url = f"{RUNNERS}/{runner['id']}"
    read = await api.client.get(url, headers=api.admin)
    assert read.status_code == 200 and "service_token" not in read.json() and token not in read.text
    listed = await api.client.get(RUNNERS, headers=api.admin)
    assert [r["id"] for r in listed.json()["items"]] == [runner["id"]] and token not in listed.text
    assert (await api.client.get(url, headers=api.auth(token))).status_code == 200  # a runner reads itself

    changed = await api.client.patch(url, headers=api.admin, json={
        "name": "shared-eu", "labels": {"zone": "eu", "tier": "gpu"}, "capabilities": None})
    assert changed.status_code == 200, changed.text
    assert changed.json()["labels"] == {"zone": "eu", "tier": "gpu"} and changed.json()["capabilities"] == []
    assert "service_token" not in changed.json()

    assert (await api.client.delete(url, headers=api.admin)).status_code == 204
    assert_problem(await api.client.get(url, headers=api.admin), 404, "not_found")
    assert_problem(await api.client.get("/me", headers=api.auth(token)), 401, "unauthenticated")


async def test_cluster_runners_are_for_admins_to_manage_and_everyone_to_see(api: Api) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    denied = await api.client.post(RUNNERS, headers=owner.headers, json={"name": "mine"})
    assert_problem(denied, 403, "permission_denied")

    runner = (await api.client.post(RUNNERS, headers=api.admin, json={"name": "shared"})).json()
    url = f"{RUNNERS}/{runner['id']}"
    outsider = await api.user("outsider")
    for caller in (owner, outsider):
        assert (await api.client.get(url, headers=caller.headers)).status_code == 200
        listed = await api.client.get(RUNNERS, headers=caller.headers)
        assert [r["id"] for r in listed.json()["items"]] == [runner["id"]]
    assert_problem(await api.client.patch(url, headers=owner.headers, json={"name": "x"}), 403, "permission_denied")
    assert_problem(await api.client.delete(url, headers=owner.headers), 403, "permission_denied")
    # names are unique among cluster-wide runners, and apart from an organization's
    again = await api.client.post(RUNNERS, headers=api.admin, json={"name": "shared"})
    assert "shared" in assert_problem(again, 409, "already_exists")["detail"]
    in_org = await api.client.post(RUNNERS, headers=owner.headers, json={"name": "shared", "organization_id": org["id"]})
    assert in_org.status_code == 201, in_org.text


async def test_organization_runners_follow_the_organization(api: Api) -> None:
    owner, member, outsider = await api.user("owner"), await api.user("member"), await api.user("outsider")
    org = await api.organization(owner)
    await api.add_member(org["id"], member)
    shared = (await api.client.post(RUNNERS, headers=api.admin, json={"name": "shared"})).json()

    created = await api.client.post(RUNNERS, headers=owner.headers, json={
        "name": "own", "organization_id": org["id"], "capabilities": ["gpu"]})
    assert created.status_code == 201, created.text
    runner = created.json()
    url = f"{RUNNERS}/{runner['id']}"
    assert (await api.client.get("/me", headers=api.auth(runner["service_token"]))).json()[
        "identity_type"] == "runner"
    assert (await api.client.get(url, headers=api.auth(runner["service_token"]))).status_code == 200

    denied = await api.client.post(RUNNERS, headers=member.headers, json={"name": "m", "organization_id": org["id"]})
    assert_problem(denied, 403, "permission_denied")
    unseen = await api.client.post(RUNNERS, headers=outsider.headers, json={"name": "o", "organization_id": org["id"]})
    assert assert_problem(unseen, 400, "invalid_argument")["errors"][0]["field"] == "organization_id"

    assert (await api.client.get(url, headers=member.headers)).status_code == 200
    assert_problem(await api.client.patch(url, headers=member.headers, json={"name": "x"}), 403, "permission_denied")
    assert_problem(await api.client.get(url, headers=outsider.headers), 404, "not_found")
    assert_problem(await api.client.delete(url, headers=outsider.headers), 404, "not_found")

    listed = await api.client.get(RUNNERS, headers=member.headers)
    assert {r["id"] for r in listed.json()["items"]} == {shared["id"], runner["id"]}
    listed = await api.client.get(RUNNERS, headers=outsider.headers)
    assert [r["id"] for r in listed.json()["items"]] == [shared["id"]]
    by_org = await api.client.get(RUNNERS, headers=member.headers, params={"organization_id": org["id"]})
    assert [r["id"] for r in by_org.json()["items"]] == [runner["id"]]
    by_name = await api.client.get(RUNNERS, headers=member.headers, params={"name": "shared"})
    assert [r["id"] for r in by_name.json()["items"]] == [shared["id"]]

    moved = await api.client.patch(url, headers=owner.headers, json={"organization_id": None})
    assert assert_problem(moved, 400, "invalid_argument")["errors"][0]["field"] == "organization_id"
    in_use = await api.client.delete(f"/api/v1/organizations/{org['id']}", headers=owner.headers)
    assert runner["id"] in assert_problem(in_use, 409, "failed_precondition")["detail"]
    assert (await api.client.delete(url, headers=owner.headers)).status_code == 204
    assert (await api.client.delete(f"/api/v1/organizations/{org['id']}", headers=owner.headers)).status_code == 204


async def test_deleting_a_runner_removes_its_identity_tokens_and_tuples(api: Api) -> None:
    runner = (await api.client.post(RUNNERS, headers=api.admin, json={"name": "r"})).json()
    owner = await api.user("owner")
    org = await api.organization(owner)
    platform = api.app.state.platform
    grant = TupleKey(f"identity:{runner['id']}", "member", f"organization:{org['id']}")
    async with platform.database.transaction() as session:
        await platform.authz.write(session, [grant])
    assert grant in platform.authz._store

    assert (await api.client.delete(f"{RUNNERS}/{runner['id']}", headers=api.admin)).status_code == 204
    assert grant not in platform.authz._store
    async with platform.database.transaction() as session:
        assert await platform.get(IdentityService).get_type(session, uuid.UUID(runner["id"])) is None
    assert_problem(await api.client.get("/me", headers=api.auth(runner["service_token"])), 401,
                   "unauthenticated")
