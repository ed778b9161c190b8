"""Service identities (runners, apps) act through their tokens with least privilege: they never found
an organization nor manage memberships; and deleting an identity never removes an organization's last
owner, whatever kind of identity it is."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from agyn.authorization.engine import TupleKey
from agyn.authorization.service import AuthorizationService
from agyn.organizations.models import Membership
from tests.conftest import Api, User, assert_problem

MEMBERSHIPS = "/api/v1/memberships"


async def service_identities(api: Api, owner: User, organization_id: str) -> dict[str, dict[str, Any]]:
    """A runner and an app of the organization, with their service tokens."""
    runner = await api.client.post("/api/v1/runners", headers=owner.headers,
                                   json={"organization_id": organization_id, "name": f"r-{uuid.uuid4().hex[:6]}"})
    app = await api.client.post("/api/v1/apps", headers=owner.headers, json={
        "organization_id": organization_id, "slug": f"app-{uuid.uuid4().hex[:6]}", "name": "An app",
        "permissions": ["thread:create"]})
    assert runner.status_code == 201 and app.status_code == 201, (runner.text, app.text)
    return {"runner": runner.json(), "app": app.json()}


async def make_owner(api: Api, organization_id: str, identity_id: str) -> None:
    """An identity that owns an organization from before service identities were refused (data as found)."""
    platform = api.app.state.platform
    async with platform.database.transaction() as session:
        session.add(Membership(organization_id=uuid.UUID(organization_id), identity_id=uuid.UUID(identity_id),
                               role="owner", status="active"))
        await session.flush()
        await platform.get(AuthorizationService).write(session, [TupleKey(
            f"identity:{identity_id}", "owner", f"organization:{organization_id}")])


async def test_service_tokens_cannot_found_organizations_or_manage_members(api: Api) -> None:
    owner, member = await api.user("owner"), await api.user("member")
    organization = await api.organization(owner)
    membership = await api.add_member(organization["id"], member)
    before = (await api.client.get("/api/v1/organizations", headers=api.admin)).json()["items"]
    for kind, identity in (await service_identities(api, owner, organization["id"])).items():
        headers = api.auth(identity["service_token"])
        created = await api.client.post("/api/v1/organizations", headers=headers, json={"name": f"by-{kind}"})
        assert kind in assert_problem(created, 403, "permission_denied")["detail"]
        # even one that owns the organization (data from before the rule) cannot invite, promote or remove
        await make_owner(api, organization["id"], identity["id"])
        invited = await api.client.post(MEMBERSHIPS, headers=headers, json={
            "organization_id": organization["id"], "identity_id": (await api.user()).id, "role": "owner"})
        assert_problem(invited, 403, "permission_denied")
        promoted = await api.client.patch(f"{MEMBERSHIPS}/{membership['id']}", headers=headers, json={"role": "owner"})
        assert_problem(promoted, 403, "permission_denied")
        removed = await api.client.delete(f"{MEMBERSHIPS}/{membership['id']}", headers=headers)
        assert_problem(removed, 403, "permission_denied")
        own = (await api.client.get(MEMBERSHIPS, headers=api.admin, params={
            "organization_id": organization["id"], "identity_id": identity["id"]})).json()["items"][0]
        assert_problem(await api.client.delete(f"{MEMBERSHIPS}/{own['id']}", headers=headers), 403,
                       "permission_denied")
    after = (await api.client.get("/api/v1/organizations", headers=api.admin)).json()["items"]
    assert [o["id"] for o in after] == [o["id"] for o in before]
    current = await api.client.get(f"{MEMBERSHIPS}/{membership['id']}", headers=api.admin)
    assert current.json()["role"] == "member"
    # a person still does all of it
    assert (await api.client.patch(f"{MEMBERSHIPS}/{membership['id']}", headers=owner.headers,
                                   json={"role": "owner"})).status_code == 200


async def test_deleting_a_service_identity_that_is_the_last_owner_is_refused(api: Api) -> None:
    owner = await api.user("owner")
    home = await api.organization(owner)
    identities = await service_identities(api, owner, home["id"])
    for kind, identity in identities.items():
        orphanable = await api.organization(owner)
        await make_owner(api, orphanable["id"], identity["id"])
        mine = (await api.client.get(MEMBERSHIPS, headers=api.admin, params={
            "organization_id": orphanable["id"], "identity_id": owner.id})).json()["items"][0]
        assert (await api.client.delete(f"{MEMBERSHIPS}/{mine['id']}", headers=owner.headers)).status_code == 204
        path = f"/api/v1/{kind}s/{identity['id']}"
        refused = await api.client.delete(path, headers=owner.headers)
        detail = assert_problem(refused, 409, "failed_precondition")["detail"]
        assert "last owner" in detail and orphanable["id"] in detail
        async with api.app.state.platform.database.transaction() as session:
            owners = list(await session.scalars(select(Membership.identity_id).where(
                Membership.organization_id == uuid.UUID(orphanable["id"]), Membership.role == "owner")))
        assert owners == [uuid.UUID(identity["id"])]
        assert (await api.client.get(path, headers=owner.headers)).status_code == 200
        # with another owner in place, the identity goes, and its membership with it
        await api.add_member(orphanable["id"], owner, "owner")
        assert (await api.client.delete(path, headers=owner.headers)).status_code == 204
        remaining = (await api.client.get(MEMBERSHIPS, headers=api.admin,
                                          params={"organization_id": orphanable["id"]})).json()["items"]
        assert [m["identity_id"] for m in remaining] == [owner.id]


async def test_deleting_the_last_owner_user_is_refused(api: Api) -> None:
    owner = await api.user("solo")
    organization = await api.organization(owner)
    refused = await api.client.delete(f"/api/v1/users/{owner.id}", headers=api.admin)
    assert organization["id"] in assert_problem(refused, 409, "failed_precondition")["detail"]
    assert (await api.client.get(f"/api/v1/users/{owner.id}", headers=api.admin)).status_code == 200
