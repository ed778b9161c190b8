"""The organization's @nicknames (`GET /api/v1/organizations/{id}/nicknames`): what the web page suggests
when a person picks participants, and how it names senders."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, User, assert_problem

ORGS = "/api/v1/organizations"


async def _handles(api: Api, caller: User, org_id: str, **params: Any) -> list[tuple[str, str]]:
    response = await api.client.get(f"{ORGS}/{org_id}/nicknames", headers=caller.headers, params=params)
    assert response.status_code == 200, response.text
    return [(i["nickname"], i["identity_type"]) for i in response.json()["items"]]


async def _organization_with(api: Api, owner: User, *members: User) -> str:
    created = await api.client.post(ORGS, headers=owner.headers, json={"name": f"org-{owner.username}"})
    assert created.status_code == 201, created.text
    for member in members:  # the cluster admin's grant is active at once, which gives the member a handle
        added = await api.client.post("/api/v1/memberships", headers=api.admin, json={
            "organization_id": created.json()["id"], "identity_id": member.id})
        assert added.status_code == 201, added.text
    org_id: str = created.json()["id"]
    return org_id


async def test_members_find_handles_by_prefix_and_by_identity(api: Api) -> None:
    alice, bob, boxer = await api.user("alice"), await api.user("bo_b"), await api.user("boxb")
    org_id = await _organization_with(api, alice, bob, boxer)
    assert await _handles(api, alice, org_id) == [("alice", "user"), ("bo_b", "user"), ("boxb", "user")]
    assert await _handles(api, bob, org_id, prefix="bo") == [("bo_b", "user"), ("boxb", "user")]
    # "_" is a character of handles here, not LIKE's wildcard
    assert await _handles(api, bob, org_id, prefix="bo_") == [("bo_b", "user")]
    assert await _handles(api, alice, org_id, identity_id=[bob.id, alice.id]) == [("alice", "user"), ("bo_b", "user")]


async def test_outsiders_and_bad_prefixes_are_refused(api: Api) -> None:
    alice, outsider = await api.user("alice"), await api.user("mallory")
    org_id = await _organization_with(api, alice)
    assert_problem(await api.client.get(f"{ORGS}/{org_id}/nicknames", headers=outsider.headers), 404, "not_found")
    refused = await api.client.get(f"{ORGS}/{org_id}/nicknames", headers=alice.headers, params={"prefix": "A%"})
    assert_problem(refused, 400, "invalid_argument")
