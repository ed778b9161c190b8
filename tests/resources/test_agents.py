"""Agents through the HTTP API: lifecycle, identity and @nickname, availability, who sees and changes
what, the model reference, and `agent.updated`."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from agyn.authorization.engine import TupleKey
from agyn.identity.models import Identity, OrgNickname
from agyn.identity.service import IdentityService
from tests.conftest import Api, assert_problem
from tests.resources.agents_support import AGENTS, AgentUpdates, make_org, may, tuples

CONFIGURATION = {"image", "init_image", "configuration", "idle_timeout", "runner_labels", "capabilities", "resources"}


async def test_agent_lifecycle(api: Api) -> None:
    org = await make_org(api)
    created = await api.client.post(AGENTS, headers=org.owner.headers, json={
        "organization_id": org.id, "name": "Helper", "nickname": "helper", "role": "assistant",
        "model": org.model_id, "image": "ghcr.io/agynio/agent:1", "availability": "internal",
        "configuration": {"system_prompt": "Be brief."}, "runner_labels": {"zone": "eu"},
        "capabilities": ["docker"], "resources": {"requests_cpu": "250m", "limits_memory": "2Gi"}})
    assert created.status_code == 201, created.text
    agent = created.json()
    assert created.headers["etag"] == agent["etag"]
    assert agent["idle_timeout"] == "5m0s" and agent["configuration"] == {"system_prompt": "Be brief."}
    assert agent["resources"] == {"requests_cpu": "250m", "requests_memory": None, "limits_cpu": None,
                                  "limits_memory": "2Gi"}
    agent_id = agent["id"]
    store = tuples(api)
    assert {TupleKey(f"organization:{org.id}", "org", f"agent:{agent_id}"),
            TupleKey(f"identity:{org.owner.id}", "owner", f"agent:{agent_id}"),
            TupleKey(f"organization:{org.id}", "internal_access", f"agent:{agent_id}")} <= store
    async with api.app.state.platform.database.transaction() as session:
        identity = await session.get(Identity, uuid.UUID(agent_id))
        assert identity is not None and identity.type == "agent"
        assert await api.app.state.platform.get(IdentityService).resolve_nickname(session, uuid.UUID(org.id), "helper") \
            == uuid.UUID(agent_id)

    got = await api.client.get(f"{AGENTS}/{agent_id}", headers=org.owner.headers)
    assert got.status_code == 200 and got.json() == agent and got.headers["etag"] == agent["etag"]
    listed = await api.client.get(AGENTS, headers=org.owner.headers, params={"organization_id": org.id,
                                                                             "name": "Helper"})
    assert [a["id"] for a in listed.json()["items"]] == [agent_id]

    stale = await api.client.patch(f"{AGENTS}/{agent_id}", headers={**org.owner.headers, "If-Match": '"old"'},
                                   json={"role": "reviewer"})
    assert_problem(stale, 412, "failed_precondition")
    changed = await api.client.patch(f"{AGENTS}/{agent_id}", headers={**org.owner.headers,
                                                                       "If-Match": agent["etag"]},
                                     json={"role": "reviewer", "idle_timeout": "90s", "capabilities": []})
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "reviewer" and changed.json()["idle_timeout"] == "1m30s"
    assert changed.json()["capabilities"] == [] and changed.headers["etag"] != agent["etag"]
    moved = await api.client.patch(f"{AGENTS}/{agent_id}", headers=org.owner.headers,
                                   json={"organization_id": str(uuid.uuid4())})
    assert assert_problem(moved, 400, "invalid_argument")["errors"][0]["field"] == "organization_id"

    deleted = await api.client.delete(f"{AGENTS}/{agent_id}", headers=org.owner.headers)
    assert deleted.status_code == 204
    assert_problem(await api.client.get(f"{AGENTS}/{agent_id}", headers=org.owner.headers), 404, "not_found")
    assert not [t for t in tuples(api) if agent_id in (t.object + t.user)]
    async with api.app.state.platform.database.transaction() as session:
        assert await session.get(Identity, uuid.UUID(agent_id)) is None
        assert (await session.scalars(select(OrgNickname).where(OrgNickname.identity_id == uuid.UUID(agent_id)))
                ).all() == []


async def test_agent_input_is_checked(api: Api) -> None:
    org = await make_org(api)
    other = await make_org(api, "other-owner")
    base = {"organization_id": org.id, "name": "a", "role": "r", "model": org.model_id, "availability": "private"}

    async def refused(field: str, **changes: object) -> None:
        response = await api.client.post(AGENTS, headers=org.owner.headers, json={**base, **changes})
        assert field in {e["field"] for e in assert_problem(response, 400, "invalid_argument")["errors"]}, field

    await refused("nickname", nickname="Not Valid")
    await refused("nickname", nickname="x" * 33)
    await refused("resources.requests_cpu", resources={"requests_cpu": "lots"})
    await refused("resources.limits_memory", resources={"limits_memory": "-1Gi"})
    await refused("idle_timeout", idle_timeout="5 minutes")
    await refused("idle_timeout", idle_timeout="0s")
    await refused("availability", availability="public")
    await refused("model", model=other.model_id)  # another organization's model is invisible here
    await refused("model", model=str(uuid.uuid4()))
    await refused("configuration", configuration=["not", "an", "object"])
    await refused("unknown", unknown=1)
    missing = await api.client.post(AGENTS, headers=org.owner.headers,
                                    json={k: v for k, v in base.items() if k != "availability"})
    assert_problem(missing, 400, "invalid_argument")

    taken = await org.agent(name="taken")
    duplicate = await api.client.post(AGENTS, headers=org.owner.headers, json={**base, "name": "taken"})
    problem = assert_problem(duplicate, 409, "already_exists")
    assert problem["detail"] == f'an agent with name "taken" already exists in this organization (id {taken["id"]})'
    assert problem["existing_id"] == taken["id"] and [e["field"] for e in problem["errors"]] == ["name"]
    assert (await api.client.post(AGENTS, headers=other.owner.headers, json={
        **base, "organization_id": other.id, "model": other.model_id, "name": "taken"})).status_code == 201


async def test_nickname_is_unique_among_the_organizations_identities(api: Api) -> None:
    org = await make_org(api)
    await org.member("alice")  # alice's nickname in the org is her username
    taken_by_user = await api.client.post(AGENTS, headers=org.owner.headers, json={
        "organization_id": org.id, "name": "a", "role": "r", "model": org.model_id, "availability": "private",
        "nickname": "alice"})
    assert "@alice" in assert_problem(taken_by_user, 409, "already_exists")["detail"]
    first = await org.agent(nickname="bot")
    again = await api.client.post(AGENTS, headers=org.owner.headers, json={
        "organization_id": org.id, "name": "b", "role": "r", "model": org.model_id, "availability": "private",
        "nickname": "bot"})
    assert_problem(again, 409, "already_exists")
    renamed = await api.client.patch(f"{AGENTS}/{first['id']}", headers=org.owner.headers, json={"nickname": "alice"})
    assert_problem(renamed, 409, "already_exists")
    renamed = await api.client.patch(f"{AGENTS}/{first['id']}", headers=org.owner.headers, json={"nickname": "bot2"})
    assert renamed.status_code == 200 and renamed.json()["nickname"] == "bot2"
    second = await org.agent(nickname="bot")  # the old nickname is free again
    cleared = await api.client.patch(f"{AGENTS}/{second['id']}", headers=org.owner.headers, json={"nickname": None})
    assert cleared.status_code == 200 and cleared.json()["nickname"] is None
    await org.agent(nickname="bot")
    other = await make_org(api, "other-owner")
    await other.agent(nickname="bot2")  # nicknames are per organization
    async with api.app.state.platform.database.transaction() as session:
        resolve = api.app.state.platform.get(IdentityService).resolve_nickname
        assert await resolve(session, uuid.UUID(org.id), "bot2") == uuid.UUID(first["id"])


async def test_availability_decides_who_may_start_conversations(api: Api) -> None:
    org = await make_org(api)
    member, maintainer = await org.member("member"), await org.member("maintainer")
    agent = await org.agent(availability="private")
    url, access = f"{AGENTS}/{agent['id']}", TupleKey(f"organization:{org.id}", "internal_access",
                                                      f"agent:{agent['id']}")
    assert access not in tuples(api) and not await may(api, member, "can_initiate", agent["id"])
    granted = await api.client.post("/api/v1/agent-roles", headers=org.owner.headers, json={
        "agent_id": agent["id"], "identity_id": maintainer.id, "role": "maintainer"})
    assert granted.status_code == 201, granted.text

    flip = await api.client.patch(url, headers=maintainer.headers, json={"availability": "internal"})
    assert_problem(flip, 403, "permission_denied")
    assert (await api.client.patch(url, headers=maintainer.headers, json={"availability": "private",
                                                                         "role": "helper"})).status_code == 200
    assert_problem(await api.client.patch(url, headers=member.headers, json={"availability": "internal"}),
                   403, "permission_denied")

    flip = await api.client.patch(url, headers=org.owner.headers, json={"availability": "internal"})
    assert flip.status_code == 200 and flip.json()["availability"] == "internal"
    assert access in tuples(api) and await may(api, member, "can_initiate", agent["id"])
    flip = await api.client.patch(url, headers=org.owner.headers, json={"availability": "private"})
    assert flip.status_code == 200
    assert access not in tuples(api) and not await may(api, member, "can_initiate", agent["id"])


async def test_members_see_metadata_outsiders_nothing(api: Api) -> None:
    org = await make_org(api)
    member, outsider = await org.member("member"), await api.user("outsider")
    agent = await org.agent(nickname="helper", configuration={"system_prompt": "secret sauce"}, image="img")
    url = f"{AGENTS}/{agent['id']}"

    seen = await api.client.get(url, headers=member.headers)
    assert seen.status_code == 200 and "secret sauce" not in seen.text
    body = seen.json()
    assert {k for k, v in body.items() if v is None} >= CONFIGURATION
    assert body["name"] == agent["name"] and body["nickname"] == "helper" and body["availability"] == "internal"
    listed = await api.client.get(AGENTS, headers=member.headers, params={"organization_id": org.id})
    assert [a["id"] for a in listed.json()["items"]] == [agent["id"]] and "secret sauce" not in listed.text
    assert (await api.client.get(url, headers=api.admin)).json()["configuration"] == {"system_prompt": "secret sauce"}
    assert_problem(await api.client.patch(url, headers=member.headers, json={"role": "x"}), 403, "permission_denied")
    assert_problem(await api.client.delete(url, headers=member.headers), 403, "permission_denied")
    create = await api.client.post(AGENTS, headers=member.headers, json={
        "organization_id": org.id, "name": "mine", "role": "r", "model": org.model_id, "availability": "private"})
    assert_problem(create, 403, "permission_denied")

    assert_problem(await api.client.get(url, headers=outsider.headers), 404, "not_found")
    assert_problem(await api.client.patch(url, headers=outsider.headers, json={"role": "x"}), 404, "not_found")
    assert_problem(await api.client.delete(url, headers=outsider.headers), 404, "not_found")
    assert (await api.client.get(AGENTS, headers=outsider.headers)).json()["items"] == []
    assert (await api.client.delete(url, headers=api.admin)).status_code == 204  # cluster admins manage all


async def test_a_model_used_by_an_agent_cannot_be_deleted(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent()
    refused = await api.client.delete(f"/api/v1/models/{org.model_id}", headers=org.owner.headers)
    assert agent["id"] in assert_problem(refused, 409, "failed_precondition")["detail"]
    assert (await api.client.delete(f"{AGENTS}/{agent['id']}", headers=org.owner.headers)).status_code == 204
    assert (await api.client.delete(f"/api/v1/models/{org.model_id}", headers=org.owner.headers)).status_code == 204


async def test_agent_writes_publish_agent_updated(api: Api) -> None:
    org = await make_org(api)
    updates = AgentUpdates(api)
    agent = await org.agent()
    assert updates.take() == [agent["id"]]
    await api.client.patch(f"{AGENTS}/{agent['id']}", headers=org.owner.headers, json={"role": "other"})
    assert updates.take() == [agent["id"]]
    refused = await api.client.patch(f"{AGENTS}/{agent['id']}", headers=org.owner.headers, json={"idle_timeout": "x"})
    assert refused.status_code == 400 and updates.take() == []
    await api.client.delete(f"{AGENTS}/{agent['id']}", headers=org.owner.headers)
    assert updates.take() == [agent["id"]]


async def test_deleting_an_agent_removes_its_grants_and_identity(api: Api) -> None:
    org = await make_org(api)
    maintainer = await org.member("maintainer")
    agent = await org.agent(nickname="bot")
    await api.client.post("/api/v1/agent-roles", headers=org.owner.headers, json={
        "agent_id": agent["id"], "identity_id": maintainer.id, "role": "maintainer"})
    membership = await api.client.post("/api/v1/memberships", headers=api.admin, json={
        "organization_id": org.id, "identity_id": agent["id"], "role": "member"})
    assert membership.status_code == 201, membership.text
    assert TupleKey(f"identity:{agent['id']}", "member", f"organization:{org.id}") in tuples(api)
    skill = await api.client.post("/api/v1/skills", headers=org.owner.headers, json={
        "agent_id": agent["id"], "name": "triage", "body": "Sort it."})

    assert (await api.client.delete(f"{AGENTS}/{agent['id']}", headers=org.owner.headers)).status_code == 204
    assert not [t for t in tuples(api) if agent["id"] in (t.object + t.user)]
    assert_problem(await api.client.get(f"/api/v1/memberships/{membership.json()['id']}", headers=api.admin),
                   404, "not_found")
    assert_problem(await api.client.get(f"/api/v1/skills/{skill.json()['id']}", headers=api.admin), 404, "not_found")
    reused = await org.agent(nickname="bot")
    assert reused["nickname"] == "bot"
