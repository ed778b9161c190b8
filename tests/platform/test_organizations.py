"""Organizations and memberships through the HTTP API (SPEC §4 Organizations, Authorization).

Rules pinned here: the creator is the owner; an owner's invitation is pending (the org stays
invisible to the invitee) until accepted; a cluster admin's grant is active at once; callers who
cannot see an org get 404, those who can but may not act get 403; an org never loses its last owner.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from agyn.authorization.models import AuthorizationTuple
from agyn.organizations.models import Membership
from tests.conftest import Api, User, assert_problem

ORGS = "/api/v1/organizations"
MEMBERSHIPS = "/api/v1/memberships"



async def _org_names(api: Api, headers: dict[str, str]) -> set[str]:
    response = await api.client.get(ORGS, headers=headers)
    assert response.status_code == 200, response.text
    return {o["name"] for o in response.json()["items"]}


async def _memberships(api: Api, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = await api.client.get(MEMBERSHIPS, headers=headers, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _invite(api: Api, owner: User, org_id: str, invitee: User, role: str = "member") -> dict[str, Any]:
    response = await api.client.post(MEMBERSHIPS, headers=owner.headers, json={
        "organization_id": org_id, "identity_id": invitee.id, "role": role})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _stored_memberships(api: Api, org_id: str) -> int:
    async with api.app.state.platform.database.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.organization_id == uuid.UUID(org_id)))
    return int(count or 0)


async def _stored_tuples(api: Api, org_id: str) -> list[tuple[str, str]]:
    async with api.app.state.platform.database.transaction() as session:
        rows = await session.execute(select(AuthorizationTuple.user, AuthorizationTuple.relation).where(
            AuthorizationTuple.object == f"organization:{org_id}"))
    return sorted((row.user, row.relation) for row in rows)


# --- creation and the owner -------------------------------------------------------------------


async def test_creator_becomes_active_owner(api: Api) -> None:
    alice = await api.user("alice")
    created = await api.client.post(ORGS, headers=alice.headers, json={"name": "acme"})
    assert created.status_code == 201, created.text
    org = created.json()
    assert org["name"] == "acme"
    uuid.UUID(org["id"])
    assert created.headers["etag"] == org["etag"]
    assert {"created_at", "updated_at"} <= org.keys()

    memberships = await _memberships(api, alice.headers, organization_id=org["id"])
    assert [(m["identity_id"], m["role"], m["status"]) for m in memberships] == [(alice.id, "owner", "active")]
    assert await _stored_tuples(api, org["id"]) == sorted(
        [("cluster:global", "cluster"), (f"identity:{alice.id}", "owner")])

    got = await api.client.get(f"{ORGS}/{org['id']}", headers=alice.headers)
    assert got.status_code == 200 and got.json()["name"] == "acme"
    assert "acme" in await _org_names(api, alice.headers)


async def test_organization_names_are_unique(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    await api.organization(alice, "acme")
    duplicate = await api.client.post(ORGS, headers=bob.headers, json={"name": "acme"})
    body = assert_problem(duplicate, 409, "already_exists")
    assert "acme" in body["detail"]
    # nothing of the refused create remains: bob owns no org, and there is still one "acme"
    admin_list = await api.client.get(ORGS, headers=api.admin, params={"name": "acme"})
    assert len(admin_list.json()["items"]) == 1
    assert await _memberships(api, bob.headers) == []

    other = await api.organization(bob, "beta")
    renamed = await api.client.patch(f"{ORGS}/{other['id']}", headers=bob.headers, json={"name": "acme"})
    assert_problem(renamed, 409, "already_exists")
    assert (await api.client.get(f"{ORGS}/{other['id']}", headers=bob.headers)).json()["name"] == "beta"


async def test_owner_renames_and_deletes(api: Api) -> None:
    alice = await api.user("alice")
    org = await api.organization(alice, "acme")
    renamed = await api.client.patch(f"{ORGS}/{org['id']}", headers=alice.headers, json={"name": "acme-2"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "acme-2"
    assert renamed.json()["etag"] != org["etag"]
    assert (await api.client.get(f"{ORGS}/{org['id']}", headers=alice.headers)).json()["name"] == "acme-2"

    deleted = await api.client.delete(f"{ORGS}/{org['id']}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text
    assert (await api.client.get(f"{ORGS}/{org['id']}", headers=alice.headers)).status_code == 404
    assert "acme-2" not in await _org_names(api, api.admin)
    # the name is free again
    assert (await api.client.post(ORGS, headers=alice.headers, json={"name": "acme-2"})).status_code == 201


# --- invitations ------------------------------------------------------------------------------


async def test_owner_invitation_is_pending_until_accepted(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    invitation = await _invite(api, alice, org["id"], bob)
    assert invitation["status"] == "pending" and invitation["role"] == "member"
    assert invitation["identity_id"] == bob.id and invitation["organization_id"] == org["id"]

    # pending: bob cannot see the org, but sees his own invitation
    assert_problem(await api.client.get(f"{ORGS}/{org['id']}", headers=bob.headers), 404, "not_found")
    assert "acme" not in await _org_names(api, bob.headers)
    mine = await _memberships(api, bob.headers, status="pending")
    assert [m["id"] for m in mine] == [invitation["id"]]
    assert (await api.client.get(f"{MEMBERSHIPS}/{invitation['id']}", headers=bob.headers)).status_code == 200
    assert (f"identity:{bob.id}", "member") not in await _stored_tuples(api, org["id"])

    accepted = await api.client.post(f"{MEMBERSHIPS}/{invitation['id']}/accept", headers=bob.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "active" and accepted.json()["role"] == "member"
    assert accepted.headers["etag"] == accepted.json()["etag"] != invitation["etag"]

    got = await api.client.get(f"{ORGS}/{org['id']}", headers=bob.headers)
    assert got.status_code == 200 and got.json()["name"] == "acme"
    assert "acme" in await _org_names(api, bob.headers)
    assert (f"identity:{bob.id}", "member") in await _stored_tuples(api, org["id"])
    # accepting twice is harmless
    again = await api.client.post(f"{MEMBERSHIPS}/{invitation['id']}/accept", headers=bob.headers)
    assert again.status_code == 200 and again.json()["status"] == "active"


async def test_invitation_as_owner_grants_ownership_on_accept(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    invitation = await _invite(api, alice, org["id"], bob, role="owner")
    assert invitation["status"] == "pending"
    # a pending owner does not count as an owner: alice is still the last one
    alice_membership = (await _memberships(api, alice.headers, identity_id=alice.id))[0]
    assert_problem(await api.client.delete(f"{MEMBERSHIPS}/{alice_membership['id']}", headers=alice.headers),
             409, "failed_precondition")
    assert (await api.client.post(f"{MEMBERSHIPS}/{invitation['id']}/accept", headers=bob.headers)).status_code == 200
    renamed = await api.client.patch(f"{ORGS}/{org['id']}", headers=bob.headers, json={"name": "acme-bob"})
    assert renamed.status_code == 200, renamed.text


async def test_decline_deletes_the_invitation(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    invitation = await _invite(api, alice, org["id"], bob)
    declined = await api.client.post(f"{MEMBERSHIPS}/{invitation['id']}/decline", headers=bob.headers)
    assert declined.status_code == 204, declined.text
    assert_problem(await api.client.get(f"{MEMBERSHIPS}/{invitation['id']}", headers=alice.headers), 404, "not_found")
    assert await _memberships(api, bob.headers) == []
    assert await _stored_memberships(api, org["id"]) == 1
    assert_problem(await api.client.get(f"{ORGS}/{org['id']}", headers=bob.headers), 404, "not_found")
    # the invitation is gone: it can be neither accepted nor declined again, but bob can be re-invited
    assert_problem(await api.client.post(f"{MEMBERSHIPS}/{invitation['id']}/accept", headers=bob.headers),
             404, "not_found")
    again = await _invite(api, alice, org["id"], bob)
    assert again["status"] == "pending" and again["id"] != invitation["id"]


async def test_an_active_membership_cannot_be_declined(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    membership = await api.add_member(org["id"], bob)
    assert_problem(await api.client.post(f"{MEMBERSHIPS}/{membership['id']}/decline", headers=bob.headers),
             409, "failed_precondition")
    assert (await api.client.get(f"{ORGS}/{org['id']}", headers=bob.headers)).status_code == 200


async def test_only_the_invitee_may_accept_or_decline(api: Api) -> None:
    alice, bob, carol, dave = (await api.user("alice"), await api.user("bob"), await api.user("carol"),
                               await api.user("dave"))
    org = await api.organization(alice, "acme")
    await api.add_member(org["id"], carol)  # carol can see the org
    invitation = await _invite(api, alice, org["id"], bob)
    for action in ("accept", "decline"):
        url = f"{MEMBERSHIPS}/{invitation['id']}/{action}"
        # the owner and a member can see the org: 403
        assert_problem(await api.client.post(url, headers=alice.headers), 403, "permission_denied")
        assert_problem(await api.client.post(url, headers=carol.headers), 403, "permission_denied")
        # an outsider cannot even see it: 404
        assert_problem(await api.client.post(url, headers=dave.headers), 404, "not_found")
    still = await api.client.get(f"{MEMBERSHIPS}/{invitation['id']}", headers=bob.headers)
    assert still.status_code == 200 and still.json()["status"] == "pending"
    assert_problem(await api.client.get(f"{ORGS}/{org['id']}", headers=bob.headers), 404, "not_found")


async def test_cluster_admin_grant_is_active_at_once(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    granted = await api.client.post(MEMBERSHIPS, headers=api.admin, json={
        "organization_id": org["id"], "identity_id": bob.id, "role": "member"})
    assert granted.status_code == 201, granted.text
    assert granted.json()["status"] == "active"
    assert granted.headers["etag"] == granted.json()["etag"]
    assert (await api.client.get(f"{ORGS}/{org['id']}", headers=bob.headers)).status_code == 200
    assert "acme" in await _org_names(api, bob.headers)


async def test_members_cannot_invite(api: Api) -> None:
    alice, bob, carol = await api.user("alice"), await api.user("bob"), await api.user("carol")
    org = await api.organization(alice, "acme")
    await api.add_member(org["id"], bob)
    refused = await api.client.post(MEMBERSHIPS, headers=bob.headers, json={
        "organization_id": org["id"], "identity_id": carol.id})
    assert_problem(refused, 403, "permission_denied")
    assert await _stored_memberships(api, org["id"]) == 2
    # an outsider cannot invite into an org it cannot see
    outsider = await api.client.post(MEMBERSHIPS, headers=carol.headers, json={
        "organization_id": org["id"], "identity_id": carol.id})
    assert_problem(outsider, 404, "not_found")
    assert await _stored_memberships(api, org["id"]) == 2


# --- what members and outsiders may do --------------------------------------------------------


async def test_member_reads_but_cannot_rename_or_delete(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    await api.add_member(org["id"], bob)
    got = await api.client.get(f"{ORGS}/{org['id']}", headers=bob.headers)
    assert got.status_code == 200 and got.json()["name"] == "acme"
    assert_problem(await api.client.patch(f"{ORGS}/{org['id']}", headers=bob.headers, json={"name": "mine"}),
             403, "permission_denied")
    assert_problem(await api.client.delete(f"{ORGS}/{org['id']}", headers=bob.headers), 403, "permission_denied")
    after = await api.client.get(f"{ORGS}/{org['id']}", headers=alice.headers)
    assert after.status_code == 200 and after.json()["name"] == "acme" and after.json()["etag"] == org["etag"]


async def test_non_member_gets_404_everywhere(api: Api) -> None:
    alice, eve = await api.user("alice"), await api.user("eve")
    org = await api.organization(alice, "acme")
    url = f"{ORGS}/{org['id']}"
    for response in (await api.client.get(url, headers=eve.headers),
                     await api.client.patch(url, headers=eve.headers, json={"name": "pwned"}),
                     await api.client.delete(url, headers=eve.headers)):
        body = assert_problem(response, 404, "not_found")
        assert org["id"] in body["detail"]
    # the answer for a hidden org is the same as for one that does not exist
    missing = await api.client.get(f"{ORGS}/{uuid.uuid4()}", headers=eve.headers)
    assert_problem(missing, 404, "not_found")
    assert "acme" not in await _org_names(api, eve.headers)
    after = await api.client.get(url, headers=alice.headers)
    assert after.status_code == 200 and after.json()["name"] == "acme"


# --- owners -----------------------------------------------------------------------------------


async def test_last_owner_cannot_be_removed_or_demoted(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    owner = (await _memberships(api, alice.headers, organization_id=org["id"]))[0]
    bob_membership = await api.add_member(org["id"], bob)

    demote = await api.client.patch(f"{MEMBERSHIPS}/{owner['id']}", headers=alice.headers, json={"role": "member"})
    assert "owner" in assert_problem(demote, 409, "failed_precondition")["detail"]
    remove = await api.client.delete(f"{MEMBERSHIPS}/{owner['id']}", headers=alice.headers)
    assert_problem(remove, 409, "failed_precondition")
    # not even the cluster admin can leave an org without an owner
    assert_problem(await api.client.delete(f"{MEMBERSHIPS}/{owner['id']}", headers=api.admin), 409, "failed_precondition")
    assert_problem(await api.client.patch(f"{MEMBERSHIPS}/{owner['id']}", headers=api.admin, json={"role": "member"}),
             409, "failed_precondition")
    still = await api.client.get(f"{MEMBERSHIPS}/{owner['id']}", headers=alice.headers)
    assert still.json()["role"] == "owner" and still.json()["etag"] == owner["etag"]

    # with a second owner both become possible
    promoted = await api.client.patch(f"{MEMBERSHIPS}/{bob_membership['id']}", headers=alice.headers,
                                      json={"role": "owner"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "owner"
    demoted = await api.client.patch(f"{MEMBERSHIPS}/{owner['id']}", headers=alice.headers, json={"role": "member"})
    assert demoted.status_code == 200 and demoted.json()["role"] == "member"
    assert sorted(await _stored_tuples(api, org["id"])) == sorted([
        ("cluster:global", "cluster"), (f"identity:{alice.id}", "member"), (f"identity:{bob.id}", "owner")])
    # alice is a plain member now: she can no longer rename the org
    assert_problem(await api.client.patch(f"{ORGS}/{org['id']}", headers=alice.headers, json={"name": "x"}),
             403, "permission_denied")
    # and bob, now the only owner, cannot leave
    assert_problem(await api.client.delete(f"{MEMBERSHIPS}/{bob_membership['id']}", headers=bob.headers),
             409, "failed_precondition")


async def test_owner_may_leave_when_another_owner_remains(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    owner = (await _memberships(api, alice.headers, organization_id=org["id"]))[0]
    await api.add_member(org["id"], bob, role="owner")
    left = await api.client.delete(f"{MEMBERSHIPS}/{owner['id']}", headers=alice.headers)
    assert left.status_code == 204, left.text
    assert_problem(await api.client.get(f"{ORGS}/{org['id']}", headers=alice.headers), 404, "not_found")
    assert [m["identity_id"] for m in await _memberships(api, bob.headers, organization_id=org["id"])] == [bob.id]


async def test_member_may_leave(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    membership = await api.add_member(org["id"], bob)
    left = await api.client.delete(f"{MEMBERSHIPS}/{membership['id']}", headers=bob.headers)
    assert left.status_code == 204, left.text
    assert_problem(await api.client.get(f"{ORGS}/{org['id']}", headers=bob.headers), 404, "not_found")
    assert "acme" not in await _org_names(api, bob.headers)
    assert (f"identity:{bob.id}", "member") not in await _stored_tuples(api, org["id"])
    assert [m["identity_id"] for m in await _memberships(api, alice.headers, organization_id=org["id"])] == [alice.id]


async def test_members_cannot_remove_or_promote_others(api: Api) -> None:
    alice, bob, carol = await api.user("alice"), await api.user("bob"), await api.user("carol")
    org = await api.organization(alice, "acme")
    await api.add_member(org["id"], bob)
    carol_membership = await api.add_member(org["id"], carol)
    assert_problem(await api.client.delete(f"{MEMBERSHIPS}/{carol_membership['id']}", headers=bob.headers),
             403, "permission_denied")
    assert_problem(await api.client.patch(f"{MEMBERSHIPS}/{carol_membership['id']}", headers=bob.headers,
                                    json={"role": "owner"}), 403, "permission_denied")
    # bob cannot promote himself either
    bob_membership = (await _memberships(api, bob.headers, identity_id=bob.id))[0]
    assert_problem(await api.client.patch(f"{MEMBERSHIPS}/{bob_membership['id']}", headers=bob.headers,
                                    json={"role": "owner"}), 403, "permission_denied")
    roles = {m["identity_id"]: m["role"] for m in await _memberships(api, alice.headers, organization_id=org["id"])}
    assert roles == {alice.id: "owner", bob.id: "member", carol.id: "member"}
    # the owner can remove a member
    removed = await api.client.delete(f"{MEMBERSHIPS}/{carol_membership['id']}", headers=alice.headers)
    assert removed.status_code == 204
    assert_problem(await api.client.get(f"{ORGS}/{org['id']}", headers=carol.headers), 404, "not_found")


# --- membership listing -----------------------------------------------------------------------


async def test_membership_list_filters_and_visibility(api: Api) -> None:
    alice, bob, carol, eve = (await api.user("alice"), await api.user("bob"), await api.user("carol"),
                              await api.user("eve"))
    acme = await api.organization(alice, "acme")
    beta = await api.organization(carol, "beta")
    await api.add_member(acme["id"], bob)
    invitation = await _invite(api, alice, acme["id"], eve)
    await api.add_member(beta["id"], bob)

    by_org = await _memberships(api, alice.headers, organization_id=acme["id"])
    assert sorted((m["identity_id"], m["status"]) for m in by_org) == sorted(
        [(alice.id, "active"), (bob.id, "active"), (eve.id, "pending")])
    pending = await _memberships(api, alice.headers, organization_id=acme["id"], status="pending")
    assert [m["id"] for m in pending] == [invitation["id"]]
    active = await _memberships(api, alice.headers, organization_id=acme["id"], status="active")
    assert sorted(m["identity_id"] for m in active) == sorted([alice.id, bob.id])

    # bob, a member of both, sees both orgs' memberships; filtered by identity only his own
    bob_own = await _memberships(api, bob.headers, identity_id=bob.id)
    assert sorted(m["organization_id"] for m in bob_own) == sorted([acme["id"], beta["id"]])
    # alice is not in beta: she sees none of beta's memberships, not even bob's
    assert await _memberships(api, alice.headers, organization_id=beta["id"]) == []
    alice_sees_bob = await _memberships(api, alice.headers, identity_id=bob.id)
    assert [m["organization_id"] for m in alice_sees_bob] == [acme["id"]]
    everything_alice_sees = await _memberships(api, alice.headers)
    assert {m["organization_id"] for m in everything_alice_sees} == {acme["id"]}
    # eve (pending) sees only her own invitation
    assert [m["id"] for m in await _memberships(api, eve.headers)] == [invitation["id"]]
    # GET of a hidden membership is 404
    carol_membership = (await _memberships(api, carol.headers, organization_id=beta["id"], identity_id=carol.id))[0]
    assert_problem(await api.client.get(f"{MEMBERSHIPS}/{carol_membership['id']}", headers=alice.headers), 404, "not_found")
    # the cluster admin sees everything, including the system org's membership
    all_admin = await _memberships(api, api.admin)
    assert {acme["id"], beta["id"]} <= {m["organization_id"] for m in all_admin}
    assert len(all_admin) == 6  # admin@system, alice, bob, eve @acme, carol, bob @beta
    # bad filter values are 400, not an empty list
    assert_problem(await api.client.get(MEMBERSHIPS, headers=alice.headers, params={"status": "gone"}),
             400, "invalid_argument")
    assert_problem(await api.client.get(MEMBERSHIPS, headers=alice.headers, params={"organization_id": "acme"}),
             400, "invalid_argument")


# --- membership input errors ------------------------------------------------------------------


async def test_duplicate_membership_is_already_exists(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    org = await api.organization(alice, "acme")
    invitation = await _invite(api, alice, org["id"], bob)
    duplicate = await api.client.post(MEMBERSHIPS, headers=alice.headers, json={
        "organization_id": org["id"], "identity_id": bob.id})
    assert invitation["id"] in assert_problem(duplicate, 409, "already_exists")["detail"]
    # the admin's grant for the pending invitee is a duplicate too, and the owner cannot be added again
    assert_problem(await api.client.post(MEMBERSHIPS, headers=api.admin, json={
        "organization_id": org["id"], "identity_id": bob.id}), 409, "already_exists")
    assert_problem(await api.client.post(MEMBERSHIPS, headers=api.admin, json={
        "organization_id": org["id"], "identity_id": alice.id, "role": "owner"}), 409, "already_exists")
    assert await _stored_memberships(api, org["id"]) == 2


async def test_unknown_identity_is_invalid_argument(api: Api) -> None:
    alice = await api.user("alice")
    org = await api.organization(alice, "acme")
    ghost = str(uuid.uuid4())
    for headers in (alice.headers, api.admin):
        response = await api.client.post(MEMBERSHIPS, headers=headers, json={
            "organization_id": org["id"], "identity_id": ghost})
        body = assert_problem(response, 400, "invalid_argument")
        assert body["errors"][0]["field"] == "identity_id"
        assert ghost in body["detail"]
    assert await _stored_memberships(api, org["id"]) == 1


async def test_membership_for_unknown_organization_is_404(api: Api) -> None:
    alice = await api.user("alice")
    response = await api.client.post(MEMBERSHIPS, headers=api.admin, json={
        "organization_id": str(uuid.uuid4()), "identity_id": alice.id})
    assert_problem(response, 404, "not_found")


# --- the system org, deletion and the cluster admin -------------------------------------------


async def test_system_organization_cannot_be_deleted(api: Api) -> None:
    listed = await api.client.get(ORGS, headers=api.admin, params={"name": "system"})
    [system] = listed.json()["items"]
    refused = await api.client.delete(f"{ORGS}/{system['id']}", headers=api.admin)
    assert "system" in assert_problem(refused, 409, "failed_precondition")["detail"]
    after = await api.client.get(f"{ORGS}/{system['id']}", headers=api.admin)
    assert after.status_code == 200 and after.json()["etag"] == system["etag"]
    assert await _stored_memberships(api, system["id"]) == 1


async def test_deleting_an_org_removes_memberships_and_access(api: Api) -> None:
    alice, bob, carol = await api.user("alice"), await api.user("bob"), await api.user("carol")
    org = await api.organization(alice, "acme")
    bob_membership = await api.add_member(org["id"], bob)
    invitation = await _invite(api, alice, org["id"], carol)
    deleted = await api.client.delete(f"{ORGS}/{org['id']}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text
    assert await _stored_memberships(api, org["id"]) == 0
    assert await _stored_tuples(api, org["id"]) == []
    for user in (alice, bob, carol):
        assert_problem(await api.client.get(f"{ORGS}/{org['id']}", headers=user.headers), 404, "not_found")
        assert await _memberships(api, user.headers) == []
        assert "acme" not in await _org_names(api, user.headers)
    assert_problem(await api.client.get(f"{MEMBERSHIPS}/{bob_membership['id']}", headers=api.admin), 404, "not_found")
    assert_problem(await api.client.post(f"{MEMBERSHIPS}/{invitation['id']}/accept", headers=carol.headers),
             404, "not_found")
    assert_problem(await api.client.get(f"{ORGS}/{org['id']}", headers=api.admin), 404, "not_found")


async def test_cluster_admin_sees_and_manages_every_org(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    acme = await api.organization(alice, "acme")
    beta = await api.organization(bob, "beta")
    assert {"system", "acme", "beta"} <= await _org_names(api, api.admin)
    assert (await api.client.get(f"{ORGS}/{acme['id']}", headers=api.admin)).status_code == 200
    renamed = await api.client.patch(f"{ORGS}/{acme['id']}", headers=api.admin, json={"name": "acme-renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "acme-renamed"
    # the admin manages memberships of orgs it is not a member of
    bob_in_acme = await api.add_member(acme["id"], bob)
    promoted = await api.client.patch(f"{MEMBERSHIPS}/{bob_in_acme['id']}", headers=api.admin, json={"role": "owner"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "owner"
    removed = await api.client.delete(f"{MEMBERSHIPS}/{bob_in_acme['id']}", headers=api.admin)
    assert removed.status_code == 204
    assert (await api.client.delete(f"{ORGS}/{beta['id']}", headers=api.admin)).status_code == 204
    assert "beta" not in await _org_names(api, api.admin)
    assert_problem(await api.client.get(f"{ORGS}/{beta['id']}", headers=bob.headers), 404, "not_found")
    # and it never became a member of either
    admin_me = (await api.client.get("/me", headers=api.admin)).json()
    assert await _memberships(api, api.admin, identity_id=admin_me["identity_id"], organization_id=acme["id"]) == []


async def test_org_list_shows_only_visible_orgs(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    await api.organization(alice, "acme")
    await api.organization(bob, "beta")
    assert await _org_names(api, alice.headers) == {"acme"}
    assert await _org_names(api, bob.headers) == {"beta"}
    filtered = await api.client.get(ORGS, headers=alice.headers, params={"name": "beta"})
    assert filtered.status_code == 200 and filtered.json()["items"] == []
