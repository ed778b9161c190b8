"""Agent roles through the HTTP API: a collection over tuples, and what each role may do."""

from __future__ import annotations

import uuid

from agyn.authorization.engine import TupleKey
from tests.conftest import Api, assert_problem
from tests.resources.agents_support import AGENTS, ROLES, make_org, may, tuples


async def test_agent_role_lifecycle(api: Api) -> None:
    org = await make_org(api)
    alice, bob = await org.member("alice"), await org.member("bob")
    agent = await org.agent()
    creator_role = f"{agent['id']}:{org.owner.id}"

    listed = await api.client.get(ROLES, headers=org.owner.headers, params={"agent_id": agent["id"]})
    assert [(r["id"], r["role"]) for r in listed.json()["items"]] == [(creator_role, "owner")]

    created = await api.client.post(ROLES, headers=org.owner.headers, json={
        "agent_id": agent["id"], "identity_id": alice.id, "role": "maintainer"})
    assert created.status_code == 201, created.text
    role = created.json()
    assert role["id"] == f"{agent['id']}:{alice.id}" and role["role"] == "maintainer"
    assert created.headers["etag"] == role["etag"] and role["created_at"] is None
    assert TupleKey(f"identity:{alice.id}", "maintainer", f"agent:{agent['id']}") in tuples(api)
    await api.client.post(ROLES, headers=org.owner.headers, json={
        "agent_id": agent["id"], "identity_id": bob.id, "role": "participant"})

    url = f"{ROLES}/{role['id']}"
    got = await api.client.get(url, headers=org.owner.headers)
    assert got.json() == role and got.headers["etag"] == role["etag"]
    by_identity = await api.client.get(ROLES, headers=org.owner.headers, params={"identity_id": alice.id})
    assert [r["id"] for r in by_identity.json()["items"]] == [role["id"]]
    pages, token = [], None
    while True:
        page = await api.client.get(ROLES, headers=org.owner.headers, params={
            "agent_id": agent["id"], "page_size": 1, **({"page_token": token} if token else {})})
        pages.append(page.json()["items"])
        token = page.json()["next_page_token"]
        if token is None:
            break
    assert [len(p) for p in pages] == [1, 1, 1]
    assert sorted(r["id"] for p in pages for r in p) == sorted([creator_role, role["id"], f"{agent['id']}:{bob.id}"])
    bad_token = await api.client.get(ROLES, headers=org.owner.headers, params={"page_token": "garbage"})
    assert_problem(bad_token, 400, "invalid_argument")

    stale = await api.client.patch(url, headers={**org.owner.headers, "If-Match": '"stale"'},
                                   json={"role": "participant"})
    assert_problem(stale, 412, "failed_precondition")
    changed = await api.client.patch(url, headers={**org.owner.headers, "If-Match": role["etag"]},
                                     json={"role": "participant"})
    assert changed.status_code == 200 and changed.json()["role"] == "participant"
    assert changed.headers["etag"] != role["etag"]
    assert TupleKey(f"identity:{alice.id}", "maintainer", f"agent:{agent['id']}") not in tuples(api)
    assert TupleKey(f"identity:{alice.id}", "participant", f"agent:{agent['id']}") in tuples(api)
    moved = await api.client.patch(url, headers=org.owner.headers, json={"identity_id": bob.id})
    assert assert_problem(moved, 400, "invalid_argument")["errors"][0]["field"] == "identity_id"
    assert_problem(await api.client.patch(url, headers=org.owner.headers, json={"role": None}),
                   400, "invalid_argument")

    assert (await api.client.delete(url, headers=org.owner.headers)).status_code == 204
    assert_problem(await api.client.get(url, headers=org.owner.headers), 404, "not_found")
    # the last owner may go too: the organization's owners keep control of the agent
    assert (await api.client.delete(f"{ROLES}/{creator_role}", headers=org.owner.headers)).status_code == 204
    assert (await api.client.patch(f"{AGENTS}/{agent['id']}", headers=org.owner.headers,
                                   json={"availability": "private"})).status_code == 200


async def test_agent_role_targets_are_active_members(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent()
    outsider, invited = await api.user("outsider"), await api.user("invited")
    invitation = await api.client.post("/api/v1/memberships", headers=org.owner.headers, json={
        "organization_id": org.id, "identity_id": invited.id, "role": "member"})
    assert invitation.json()["status"] == "pending"

    async def refused(status: int, code: str, **body: object) -> dict[str, object]:
        response = await api.client.post(ROLES, headers=org.owner.headers, json={
            "agent_id": agent["id"], "role": "participant", **body})
        return assert_problem(response, status, code)

    for identity in (outsider.id, invited.id, str(uuid.uuid4())):
        assert (await refused(400, "invalid_argument", identity_id=identity))["errors"][0]["field"] == "identity_id"
    assert (await refused(400, "invalid_argument", identity_id=org.owner.id, role="admin"))["errors"][0]["field"] \
        == "role"
    assert (await refused(400, "invalid_argument", identity_id=org.owner.id, agent_id=str(uuid.uuid4()))
            )["errors"][0]["field"] == "agent_id"
    assert "PATCH" in str((await refused(409, "already_exists", identity_id=org.owner.id))["detail"])
    malformed = await api.client.get(f"{ROLES}/not-a-role-id", headers=org.owner.headers)
    assert_problem(malformed, 400, "invalid_argument")


async def test_what_each_agent_role_may_do(api: Api) -> None:
    org = await make_org(api)
    owner, maintainer = await org.member("agent-owner"), await org.member("maintainer")
    participant, member = await org.member("participant"), await org.member("member")
    agent = await org.agent(availability="private", configuration={"system_prompt": "hidden"})
    for user, role in ((owner, "owner"), (maintainer, "maintainer"), (participant, "participant")):
        granted = await api.client.post(ROLES, headers=org.owner.headers, json={
            "agent_id": agent["id"], "identity_id": user.id, "role": role})
        assert granted.status_code == 201, granted.text
    url = f"{AGENTS}/{agent['id']}"
    skill = await api.client.post("/api/v1/skills", headers=maintainer.headers, json={
        "agent_id": agent["id"], "name": "triage", "body": "Sort it."})
    assert skill.status_code == 201, skill.text  # maintainers edit configuration
    skill_url = f"/api/v1/skills/{skill.json()['id']}"

    # participants start conversations and see metadata only
    assert await may(api, participant, "can_initiate", agent["id"])
    assert not await may(api, member, "can_initiate", agent["id"])  # a private agent
    seen = await api.client.get(url, headers=participant.headers)
    assert seen.status_code == 200 and seen.json()["configuration"] is None
    assert_problem(await api.client.get(skill_url, headers=participant.headers), 404, "not_found")
    assert_problem(await api.client.get(f"{ROLES}/{agent['id']}:{owner.id}", headers=participant.headers),
                   404, "not_found")
    assert (await api.client.get(ROLES, headers=participant.headers)).json()["items"] == []
    assert_problem(await api.client.patch(url, headers=participant.headers, json={"role": "x"}),
                   403, "permission_denied")

    # maintainers read and edit configuration, see roles, but neither manage roles, availability nor deletion
    configuration = (await api.client.get(url, headers=maintainer.headers)).json()["configuration"]
    assert configuration == {"system_prompt": "hidden"}
    assert (await api.client.patch(url, headers=maintainer.headers, json={"image": "img:2"})).status_code == 200
    assert (await api.client.get(skill_url, headers=maintainer.headers)).status_code == 200
    listed = await api.client.get(ROLES, headers=maintainer.headers, params={"agent_id": agent["id"]})
    assert len(listed.json()["items"]) == 4
    demote = await api.client.patch(f"{ROLES}/{agent['id']}:{participant.id}", headers=maintainer.headers,
                                    json={"role": "maintainer"})
    assert_problem(demote, 403, "permission_denied")
    grant = await api.client.post(ROLES, headers=maintainer.headers, json={
        "agent_id": agent["id"], "identity_id": member.id, "role": "participant"})
    assert_problem(grant, 403, "permission_denied")
    assert_problem(await api.client.patch(url, headers=maintainer.headers, json={"availability": "internal"}),
                   403, "permission_denied")
    assert_problem(await api.client.delete(url, headers=maintainer.headers), 403, "permission_denied")

    # an agent's owner manages roles and availability, and may delete it
    grant = await api.client.post(ROLES, headers=owner.headers, json={
        "agent_id": agent["id"], "identity_id": member.id, "role": "participant"})
    assert grant.status_code == 201
    assert await may(api, member, "can_initiate", agent["id"])
    revoke = await api.client.delete(f"{ROLES}/{agent['id']}:{member.id}", headers=owner.headers)
    assert revoke.status_code == 204 and not await may(api, member, "can_initiate", agent["id"])
    assert (await api.client.patch(url, headers=owner.headers, json={"availability": "internal"})).status_code == 200
    assert await may(api, member, "can_initiate", agent["id"])
    assert (await api.client.delete(url, headers=owner.headers)).status_code == 204
    assert (await api.client.get(ROLES, headers=org.owner.headers, params={"agent_id": agent["id"]})
            ).json()["items"] == []


async def test_outsiders_see_no_roles_cluster_admins_manage_them(api: Api) -> None:
    org = await make_org(api)
    member, outsider = await org.member("member"), await api.user("outsider")
    agent = await org.agent()
    role_url = f"{ROLES}/{agent['id']}:{org.owner.id}"
    assert_problem(await api.client.get(role_url, headers=outsider.headers), 404, "not_found")
    assert_problem(await api.client.delete(role_url, headers=outsider.headers), 404, "not_found")
    assert (await api.client.get(ROLES, headers=outsider.headers)).json()["items"] == []
    assert (await api.client.get(ROLES, headers=outsider.headers, params={"identity_id": org.owner.id})
            ).json()["items"] == []
    denied = await api.client.post(ROLES, headers=outsider.headers, json={
        "agent_id": agent["id"], "identity_id": outsider.id, "role": "owner"})
    assert assert_problem(denied, 400, "invalid_argument")["errors"][0]["field"] == "agent_id"
    denied = await api.client.post(ROLES, headers=member.headers, json={
        "agent_id": agent["id"], "identity_id": member.id, "role": "owner"})
    assert_problem(denied, 403, "permission_denied")

    granted = await api.client.post(ROLES, headers=api.admin, json={
        "agent_id": agent["id"], "identity_id": member.id, "role": "maintainer"})
    assert granted.status_code == 201
    everything = await api.client.get(ROLES, headers=api.admin)
    assert {r["identity_id"] for r in everything.json()["items"]} == {org.owner.id, member.id}


async def test_leaving_the_organization_ends_agent_roles(api: Api) -> None:
    org = await make_org(api)
    maintainer = await org.member("maintainer")
    agent = await org.agent(availability="private")
    other_org = await make_org(api, "other-owner")
    await api.add_member(other_org.id, maintainer)
    elsewhere = await other_org.agent(availability="private")
    for target in (agent, elsewhere):
        granted = await api.client.post(ROLES, headers=api.admin, json={
            "agent_id": target["id"], "identity_id": maintainer.id, "role": "maintainer"})
        assert granted.status_code == 201, granted.text
    assert await may(api, maintainer, "can_read_config", agent["id"])

    memberships = await api.client.get("/api/v1/memberships", headers=maintainer.headers,
                                       params={"organization_id": org.id, "identity_id": maintainer.id})
    [membership] = memberships.json()["items"]
    assert (await api.client.delete(f"/api/v1/memberships/{membership['id']}", headers=maintainer.headers)
            ).status_code == 204
    assert not await may(api, maintainer, "can_read_config", agent["id"])
    assert not await may(api, maintainer, "can_initiate", agent["id"])
    assert await may(api, maintainer, "can_read_config", elsewhere["id"])  # other orgs' roles stay
