"""An agent's configuration through the HTTP API: MCP servers, skills, hooks, ENVs, init scripts,
volumes and volume attachments — lifecycle, combination rules, cascades and restrictions, write-only
values, who may read and change them, and the agent getting newer with every change."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from agyn.agents.models import Env
from tests.conftest import Api, User, assert_problem
from tests.resources.agents_support import AGENTS, ROLES, AgentUpdates, Org, make_org

MCPS, SKILLS, HOOKS, ENVS = "/api/v1/mcps", "/api/v1/skills", "/api/v1/hooks", "/api/v1/envs"
INIT_SCRIPTS, VOLUMES, ATTACHMENTS = "/api/v1/init-scripts", "/api/v1/volumes", "/api/v1/volume-attachments"


async def post(api: Api, user: User, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.client.post(path, headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def agent_updated_at(api: Api, org: Org, agent_id: str) -> datetime:
    body = (await api.client.get(f"{AGENTS}/{agent_id}", headers=org.owner.headers)).json()
    return datetime.fromisoformat(body["updated_at"])


# (collection, the body of a new one for an agent, a change) for every configuration sub-resource
SUB_RESOURCES: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], dict[str, Any]]] = [
    (MCPS, lambda a: {"agent_id": a["id"], "name": "files", "command": "mcp-files --stdio", "env": {"ROOT": "/w"},
                      "resources": {"limits_cpu": "1"}},
     {"command": "mcp-files --stdio --ro", "image": "ghcr.io/x/mcp:1"}),
    (SKILLS, lambda a: {"agent_id": a["id"], "name": "triage", "body": "# Triage\nSort it."},
     {"body": "Sort it faster.", "description": "for bug reports"}),
    (HOOKS, lambda a: {"agent_id": a["id"], "event": "message.received", "function": "notify"},
     {"function": "notify --loud"}),
    (ENVS, lambda a: {"agent_id": a["id"], "name": "API_KEY", "value": "plain-value-1"},
     {"value": "plain-value-2"}),
    (INIT_SCRIPTS, lambda a: {"agent_id": a["id"], "script": "apt-get install -y jq"},
     {"script": "echo ready"}),
]


@pytest.mark.parametrize(("path", "new", "change"), SUB_RESOURCES, ids=[s[0].rsplit("/", 1)[1] for s in SUB_RESOURCES])
async def test_sub_resource_lifecycle_makes_the_agent_newer(
        api: Api, path: str, new: Callable[[dict[str, Any]], dict[str, Any]], change: dict[str, Any]) -> None:
    org = await make_org(api)
    agent, other_agent = await org.agent(), await org.agent()
    updates = AgentUpdates(api)

    before = await agent_updated_at(api, org, agent["id"])
    created = await api.client.post(path, headers=org.owner.headers, json=new(agent))
    assert created.status_code == 201, created.text
    item = created.json()
    assert created.headers["etag"] == item["etag"] and item["agent_id"] == agent["id"]
    assert updates.take() == [agent["id"]]
    after_create = await agent_updated_at(api, org, agent["id"])
    assert after_create > before

    url = f"{path}/{item['id']}"
    got = await api.client.get(url, headers=org.owner.headers)
    assert got.status_code == 200 and got.json() == item
    await api.client.post(path, headers=org.owner.headers, json=new(other_agent))
    updates.take()
    listed = await api.client.get(path, headers=org.owner.headers, params={"agent_id": agent["id"]})
    assert [i["id"] for i in listed.json()["items"]] == [item["id"]]
    assert len((await api.client.get(path, headers=org.owner.headers)).json()["items"]) == 2

    changed = await api.client.patch(url, headers={**org.owner.headers, "If-Match": item["etag"]}, json=change)
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] != item["etag"]
    assert updates.take() == [agent["id"]]
    after_update = await agent_updated_at(api, org, agent["id"])
    assert after_update > after_create
    moved = await api.client.patch(url, headers=org.owner.headers, json={"agent_id": other_agent["id"]})
    assert assert_problem(moved, 400, "invalid_argument")["errors"][0]["field"] == "agent_id"
    assert updates.take() == []

    assert (await api.client.delete(url, headers=org.owner.headers)).status_code == 204
    assert updates.take() == [agent["id"]]
    assert await agent_updated_at(api, org, agent["id"]) > after_update
    assert_problem(await api.client.get(url, headers=org.owner.headers), 404, "not_found")


async def test_names_are_checked_and_unique_per_owner(api: Api) -> None:
    org = await make_org(api)
    agent, other = await org.agent(), await org.agent()
    mcp = await post(api, org.owner, MCPS, {"agent_id": agent["id"], "name": "files", "command": "x"})
    await post(api, org.owner, SKILLS, {"agent_id": agent["id"], "name": "triage", "body": "b"})
    await post(api, org.owner, ENVS, {"agent_id": agent["id"], "name": "TOKEN", "value": "v"})

    async def refused(path: str, status: int, code: str, body: dict[str, Any]) -> dict[str, Any]:
        return assert_problem(await api.client.post(path, headers=org.owner.headers, json=body), status, code)

    assert "in this agent" in str((await refused(MCPS, 409, "already_exists",
                                                 {"agent_id": agent["id"], "name": "files", "command": "y"}))["detail"])
    await refused(SKILLS, 409, "already_exists", {"agent_id": agent["id"], "name": "triage", "body": "b"})
    await refused(ENVS, 409, "already_exists", {"agent_id": agent["id"], "name": "TOKEN", "value": "w"})
    # the same names are free elsewhere
    await post(api, org.owner, MCPS, {"agent_id": other["id"], "name": "files", "command": "x"})
    await post(api, org.owner, SKILLS, {"agent_id": other["id"], "name": "triage", "body": "b"})
    await post(api, org.owner, ENVS, {"mcp_id": mcp["id"], "name": "TOKEN", "value": "v"})

    for path, body, field in (
        (MCPS, {"agent_id": agent["id"], "name": "Files", "command": "x"}, "name"),
        (MCPS, {"agent_id": agent["id"], "name": "ok", "command": "x", "env": {"1BAD": "v"}}, "env"),
        (MCPS, {"agent_id": agent["id"], "name": "ok", "command": "x", "resources": {"limits_memory": "2GB"}},
         "resources.limits_memory"),
        (SKILLS, {"agent_id": agent["id"], "name": "-triage", "body": "b"}, "name"),
        (SKILLS, {"agent_id": agent["id"], "name": "t" * 65, "body": "b"}, "name"),
        (ENVS, {"agent_id": agent["id"], "name": "9LIVES", "value": "v"}, "name"),
        (ENVS, {"agent_id": agent["id"], "name": "A-B", "value": "v"}, "name"),
        (HOOKS, {"agent_id": agent["id"], "event": "run.start"}, "function"),
        (INIT_SCRIPTS, {"agent_id": agent["id"], "script": ""}, "script"),
    ):
        errors = (await refused(path, 400, "invalid_argument", body))["errors"]
        assert field in {e["field"] for e in errors}, (path, body, errors)


async def test_exactly_one_target_and_one_source(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent()
    mcp = await post(api, org.owner, MCPS, {"agent_id": agent["id"], "name": "files", "command": "x"})
    hook = await post(api, org.owner, HOOKS, {"agent_id": agent["id"], "event": "run.start", "function": "f"})

    async def refused(path: str, body: dict[str, Any]) -> None:
        response = await api.client.post(path, headers=org.owner.headers, json=body)
        assert "exactly one" in str(assert_problem(response, 400, "invalid_argument")["detail"])

    await refused(ENVS, {"name": "A", "value": "v"})
    await refused(ENVS, {"agent_id": agent["id"], "mcp_id": mcp["id"], "name": "A", "value": "v"})
    await refused(ENVS, {"agent_id": agent["id"], "name": "A"})
    await refused(INIT_SCRIPTS, {"script": "s"})
    await refused(INIT_SCRIPTS, {"agent_id": agent["id"], "mcp_id": mcp["id"], "script": "s"})

    on_hook = await post(api, org.owner, ENVS, {"hook_id": hook["id"], "name": "A", "value": "v"})
    assert on_hook["agent_id"] is None and on_hook["hook_id"] == hook["id"]
    url = f"{ENVS}/{on_hook['id']}"
    both = await api.client.patch(url, headers=org.owner.headers, json={"value": "w", "secret_id": str(uuid.uuid4())})
    assert_problem(both, 400, "invalid_argument")
    neither = await api.client.patch(url, headers=org.owner.headers, json={"value": None})
    assert "exactly one" in str(assert_problem(neither, 400, "invalid_argument")["detail"])
    retarget = await api.client.patch(url, headers=org.owner.headers, json={"agent_id": agent["id"]})
    assert assert_problem(retarget, 400, "invalid_argument")["errors"][0]["field"] == "agent_id"
    script = await post(api, org.owner, INIT_SCRIPTS, {"mcp_id": mcp["id"], "script": "s"})
    retarget = await api.client.patch(f"{INIT_SCRIPTS}/{script['id']}", headers=org.owner.headers,
                                      json={"mcp_id": None, "agent_id": agent["id"]})
    assert_problem(retarget, 400, "invalid_argument")


async def test_env_values_are_write_only(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent()
    created = await api.client.post(ENVS, headers=org.owner.headers, json={
        "agent_id": agent["id"], "name": "TOKEN", "value": "hunter2-plain"})
    assert created.status_code == 201 and "value" not in created.json()
    url = f"{ENVS}/{created.json()['id']}"
    changed = await api.client.patch(url, headers=org.owner.headers, json={"value": "hunter3-plain"})
    same = await api.client.patch(url, headers=org.owner.headers, json={"value": "hunter3-plain"})
    assert same.headers["etag"] == changed.headers["etag"]  # re-sending the value changes nothing
    responses = [created, changed, same, await api.client.get(url, headers=org.owner.headers),
                 await api.client.get(ENVS, headers=org.owner.headers, params={"agent_id": agent["id"]})]
    assert all(r.status_code == 200 or r.status_code == 201 for r in responses)
    assert not any("hunter" in r.text for r in responses)
    async with api.app.state.platform.database.transaction() as session:
        stored = await session.get(Env, uuid.UUID(created.json()["id"]))
        assert stored is not None and "hunter" not in stored.value
        assert api.app.state.platform.collections["envs"].decrypt(stored, "value") == "hunter3-plain"


async def test_mcp_configuration_cascades_and_deleting_an_agent_removes_its_configuration(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent()
    volume = await post(api, org.owner, VOLUMES, {"organization_id": org.id, "name": "scratch", "mount_path": "/w"})
    mcp = await post(api, org.owner, MCPS, {"agent_id": agent["id"], "name": "files", "command": "x"})
    hook = await post(api, org.owner, HOOKS, {"agent_id": agent["id"], "event": "run.start", "function": "f"})

    async def url_of_new(path: str, body: dict[str, Any]) -> str:
        return f"{path}/{(await post(api, org.owner, path, body))['id']}"

    of_mcp = [
        await url_of_new(ENVS, {"mcp_id": mcp["id"], "name": "A", "value": "v"}),
        await url_of_new(INIT_SCRIPTS, {"mcp_id": mcp["id"], "script": "s"}),
        await url_of_new(ATTACHMENTS, {"volume_id": volume["id"], "mcp_id": mcp["id"]}),
    ]
    of_agent = [
        f"{HOOKS}/{hook['id']}",
        await url_of_new(ENVS, {"hook_id": hook["id"], "name": "B", "value": "v"}),
        await url_of_new(SKILLS, {"agent_id": agent["id"], "name": "s", "body": "b"}),
        await url_of_new(ENVS, {"agent_id": agent["id"], "name": "C", "value": "v"}),
        await url_of_new(INIT_SCRIPTS, {"agent_id": agent["id"], "script": "s"}),
        await url_of_new(ATTACHMENTS, {"volume_id": volume["id"], "hook_id": hook["id"]}),
    ]
    updates = AgentUpdates(api)
    assert (await api.client.delete(f"{MCPS}/{mcp['id']}", headers=org.owner.headers)).status_code == 204
    assert updates.take() == [agent["id"]]
    for url in of_mcp:
        assert_problem(await api.client.get(url, headers=org.owner.headers), 404, "not_found")
    for url in of_agent:
        assert (await api.client.get(url, headers=org.owner.headers)).status_code == 200, url

    assert (await api.client.delete(f"{AGENTS}/{agent['id']}", headers=org.owner.headers)).status_code == 204
    for url in of_agent:
        assert_problem(await api.client.get(url, headers=api.admin), 404, "not_found")
    assert (await api.client.delete(f"{VOLUMES}/{volume['id']}", headers=org.owner.headers)).status_code == 204


async def test_volumes_and_attachments(api: Api) -> None:
    org = await make_org(api)
    member = await org.member("member")
    agent = await org.agent()
    created = await api.client.post(VOLUMES, headers=org.owner.headers, json={
        "organization_id": org.id, "name": "cache", "persistent": True, "size": "10Gi", "mount_path": "/cache",
        "ttl": "24h"})
    assert created.status_code == 201, created.text
    volume = created.json()
    assert volume["ttl"] == "24h0m0s" and volume["persistent"] is True
    scratch = await post(api, org.owner, VOLUMES, {"organization_id": org.id, "name": "scratch",
                                                   "mount_path": "/tmp/s"})
    assert scratch["persistent"] is False and scratch["size"] is None

    for body, field in (({"persistent": True}, "size"), ({"size": "ten"}, "size"), ({"mount_path": "rel/path"},
                        "mount_path"), ({"name": "Bad_Name"}, "name"), ({"ttl": "-1h"}, "ttl")):
        response = await api.client.post(VOLUMES, headers=org.owner.headers, json={
            "organization_id": org.id, "name": "v", "mount_path": "/v", **body})
        assert field in {e["field"] for e in assert_problem(response, 400, "invalid_argument")["errors"]}, body
    duplicate = await api.client.post(VOLUMES, headers=org.owner.headers, json={
        "organization_id": org.id, "name": "cache", "mount_path": "/c"})
    assert_problem(duplicate, 409, "already_exists")
    unsized = await api.client.patch(f"{VOLUMES}/{volume['id']}", headers=org.owner.headers, json={"size": None})
    assert assert_problem(unsized, 400, "invalid_argument")["errors"][0]["field"] == "size"
    assert (await api.client.get(f"{VOLUMES}/{volume['id']}", headers=member.headers)).status_code == 200
    assert_problem(await api.client.patch(f"{VOLUMES}/{volume['id']}", headers=member.headers,
                                          json={"ttl": "1h"}), 403, "permission_denied")

    updates = AgentUpdates(api)
    before = await agent_updated_at(api, org, agent["id"])
    attached = await api.client.post(ATTACHMENTS, headers=org.owner.headers, json={
        "volume_id": volume["id"], "agent_id": agent["id"]})
    assert attached.status_code == 201, attached.text
    attachment = attached.json()
    assert updates.take() == [agent["id"]]
    assert await agent_updated_at(api, org, agent["id"]) > before
    twice = await api.client.post(ATTACHMENTS, headers=org.owner.headers, json={
        "volume_id": volume["id"], "agent_id": agent["id"]})
    assert_problem(twice, 409, "already_exists")
    listed = await api.client.get(ATTACHMENTS, headers=org.owner.headers, params={"volume_id": volume["id"]})
    assert [a["id"] for a in listed.json()["items"]] == [attachment["id"]]
    for change in ({"volume_id": scratch["id"]}, {"volume_id": volume["id"]}, {}):
        response = await api.client.patch(f"{ATTACHMENTS}/{attachment['id']}", headers=org.owner.headers,
                                          json=change)
        assert "cannot be changed" in str(assert_problem(response, 400, "invalid_argument")["detail"])

    # changing an attached volume changes the agents it is attached to
    before = await agent_updated_at(api, org, agent["id"])
    resized = await api.client.patch(f"{VOLUMES}/{volume['id']}", headers=org.owner.headers, json={"size": "20Gi"})
    assert resized.status_code == 200 and updates.take() == [agent["id"]]
    assert await agent_updated_at(api, org, agent["id"]) > before

    in_use = await api.client.delete(f"{VOLUMES}/{volume['id']}", headers=org.owner.headers)
    assert attachment["id"] in str(assert_problem(in_use, 409, "failed_precondition")["detail"])
    assert (await api.client.delete(f"{ATTACHMENTS}/{attachment['id']}", headers=org.owner.headers)).status_code == 204
    assert updates.take() == [agent["id"]]
    assert (await api.client.delete(f"{VOLUMES}/{volume['id']}", headers=org.owner.headers)).status_code == 204


async def test_configuration_stays_in_its_organization(api: Api) -> None:
    org, other = await make_org(api), await make_org(api, "other-owner")
    agent = await org.agent()
    foreign = await post(api, other.owner, VOLUMES, {"organization_id": other.id, "name": "v", "mount_path": "/v"})
    response = await api.client.post(ATTACHMENTS, headers=api.admin, json={
        "volume_id": foreign["id"], "agent_id": agent["id"]})
    assert "different organizations" in str(assert_problem(response, 400, "invalid_argument")["detail"])
    response = await api.client.post(ATTACHMENTS, headers=org.owner.headers, json={
        "volume_id": foreign["id"], "agent_id": agent["id"]})
    assert assert_problem(response, 400, "invalid_argument")["errors"][0]["field"] == "volume_id"


async def test_members_do_not_see_configuration_maintainers_edit_it(api: Api) -> None:
    org = await make_org(api)
    member, maintainer, outsider = await org.member("member"), await org.member("maintainer"), await api.user("out")
    agent = await org.agent()
    await api.client.post(ROLES, headers=org.owner.headers, json={
        "agent_id": agent["id"], "identity_id": maintainer.id, "role": "maintainer"})
    items = {path: await post(api, org.owner, path, new(agent)) for path, new, _ in SUB_RESOURCES}
    volume = await post(api, org.owner, VOLUMES, {"organization_id": org.id, "name": "v", "mount_path": "/v"})
    items[ATTACHMENTS] = await post(api, org.owner, ATTACHMENTS, {"volume_id": volume["id"], "agent_id": agent["id"]})

    assert (await api.client.get(f"{AGENTS}/{agent['id']}", headers=member.headers)).status_code == 200
    for path, item in items.items():
        url = f"{path}/{item['id']}"
        for user in (member, outsider):
            assert_problem(await api.client.get(url, headers=user.headers), 404, "not_found")
            assert_problem(await api.client.delete(url, headers=user.headers), 404, "not_found")
            assert (await api.client.get(path, headers=user.headers, params={"agent_id": agent["id"]})
                    ).json()["items"] == []
        assert (await api.client.get(url, headers=maintainer.headers)).status_code == 200
    create = await api.client.post(SKILLS, headers=member.headers, json={
        "agent_id": agent["id"], "name": "mine", "body": "b"})
    assert_problem(create, 403, "permission_denied")  # they see the agent, not the right to configure it
    create = await api.client.post(SKILLS, headers=outsider.headers, json={
        "agent_id": agent["id"], "name": "mine", "body": "b"})
    assert assert_problem(create, 400, "invalid_argument")["errors"][0]["field"] == "agent_id"
    create = await api.client.post(ENVS, headers=member.headers, json={
        "mcp_id": items[MCPS]["id"], "name": "X", "value": "v"})
    assert assert_problem(create, 400, "invalid_argument")["errors"][0]["field"] == "mcp_id"

    await post(api, maintainer, SKILLS, {"agent_id": agent["id"], "name": "theirs", "body": "b"})
    skill_url = f"{SKILLS}/{items[SKILLS]['id']}"
    assert (await api.client.patch(skill_url, headers=maintainer.headers, json={"body": "new"})).status_code == 200
    assert (await api.client.delete(skill_url, headers=maintainer.headers)).status_code == 204


async def test_env_from_a_secret(api: Api) -> None:
    org = await make_org(api)
    other = await make_org(api, "other-owner")
    agent = await org.agent()
    secret = await post(api, org.owner, "/api/v1/secrets", {"organization_id": org.id, "name": "gh",
                                                            "value": "ghp_secret"})
    foreign = await post(api, other.owner, "/api/v1/secrets", {"organization_id": other.id, "name": "gh",
                                                               "value": "x"})
    env = await post(api, org.owner, ENVS, {"agent_id": agent["id"], "name": "GH_TOKEN", "secret_id": secret["id"]})
    assert env["secret_id"] == secret["id"]
    refused = await api.client.post(ENVS, headers=org.owner.headers, json={
        "agent_id": agent["id"], "name": "OTHER", "secret_id": foreign["id"]})
    assert assert_problem(refused, 400, "invalid_argument")["errors"][0]["field"] == "secret_id"

    in_use = await api.client.delete(f"/api/v1/secrets/{secret['id']}", headers=org.owner.headers)
    assert env["id"] in str(assert_problem(in_use, 409, "failed_precondition")["detail"])
    to_value = await api.client.patch(f"{ENVS}/{env['id']}", headers=org.owner.headers, json={"value": "plain"})
    assert to_value.status_code == 200 and to_value.json()["secret_id"] is None
    assert (await api.client.delete(f"/api/v1/secrets/{secret['id']}", headers=org.owner.headers)).status_code == 204
