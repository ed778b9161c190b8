"""Workload tokens: the agent, confined to one thread and one workload. It reads its own configuration,
its thread and its unacked messages, writes and acks there, calls the proxy with its own model, and
nothing else: every other route of the API answers 403 or 404."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from agyn.users import workload_tokens
from tests.conftest import Api, assert_problem
from tests.threads.support import make_team

ALLOWED = {
    ("GET", "/api/v1/agents/{id}"), ("GET", "/api/v1/threads/{thread_id}"),
    ("GET", "/api/v1/threads/{thread_id}/messages"), ("POST", "/api/v1/threads/{thread_id}/messages"),
    ("GET", "/api/v1/me/unacked-messages"), ("POST", "/api/v1/me/ack"),
    ("POST", "/api/v1/workloads/{workload_id}/touch"), ("GET", "/api/v1/events"),
    ("GET", "/api/v1/files/{file_id}"), ("GET", "/api/v1/files/{file_id}/content"),
    *(("GET", f"/api/v1/{c}") for c in ("skills", "init-scripts", "mcps", "hooks", "envs")),
    *(("GET", f"/api/v1/{c}/{{id}}") for c in ("skills", "init-scripts", "mcps", "hooks", "envs")),
}


async def mint(api: Api, agent_id: str, thread_id: str, organization_id: str, *,
               workload_id: uuid.UUID | None = None, ttl: timedelta = timedelta(minutes=5)) -> str:
    platform = api.app.state.platform
    async with platform.database.transaction() as session:
        return await workload_tokens.issue(session, platform, agent_id=uuid.UUID(agent_id),
                                           thread_id=uuid.UUID(thread_id), workload_id=workload_id or uuid.uuid4(),
                                           organization_id=uuid.UUID(organization_id), ttl=ttl)


async def test_a_workload_token_reaches_its_thread_and_its_agent_only(api: Api) -> None:
    team = await make_team(api)
    helper = await team.org.agent(nickname="helper", configuration={"system_prompt": "Be brief."})
    other = await team.org.agent(nickname="other")
    skill = await api.client.post("/api/v1/skills", headers=team.owner.headers, json={
        "agent_id": helper["id"], "name": "greet", "body": "Say hello."})
    assert skill.status_code == 201, skill.text
    other_skill = await api.client.post("/api/v1/skills", headers=team.owner.headers, json={
        "agent_id": other["id"], "name": "greet", "body": "Say hello."})
    mine = await team.thread(team.bob, "@helper")
    elsewhere = await team.thread(team.carol, "@helper")  # the same agent, another thread
    asked = await team.sent(team.bob, mine["id"], "hello")
    asked_elsewhere = await team.sent(team.carol, elsewhere["id"], "other question")
    token = await mint(api, helper["id"], mine["id"], team.org.id)
    as_workload = api.auth(token)

    me = await api.client.get(f"/api/v1/agents/{helper['id']}", headers=as_workload)
    assert me.status_code == 200, me.text
    assert me.json()["configuration"] == {"system_prompt": "Be brief."}  # its configuration, not just metadata
    skills = await api.client.get("/api/v1/skills", headers=as_workload, params={"agent_id": helper["id"]})
    assert [s["name"] for s in skills.json()["items"]] == ["greet"]
    assert (await api.client.get(f"/api/v1/skills/{skill.json()['id']}", headers=as_workload)).status_code == 200
    assert (await api.client.get(f"/api/v1/skills/{other_skill.json()['id']}", headers=as_workload)).status_code == 404
    assert_problem(await api.client.get(f"/api/v1/agents/{other['id']}", headers=as_workload), 404, "not_found")

    assert (await api.client.get(f"/api/v1/threads/{mine['id']}", headers=as_workload)).status_code == 200
    assert_problem(await api.client.get(f"/api/v1/threads/{elsewhere['id']}", headers=as_workload), 404,
                   "not_found")
    assert_problem(await api.client.get(f"/api/v1/threads/{elsewhere['id']}/messages", headers=as_workload), 404,
                   "not_found")
    unacked = await api.client.get("/api/v1/me/unacked-messages", headers=as_workload)
    assert [m["id"] for m in unacked.json()["items"]] == [asked["id"]]  # not the other thread's message
    assert_problem(await api.client.get("/api/v1/me/unacked-messages", headers=as_workload,
                                        params={"thread_id": elsewhere["id"]}), 404, "not_found")
    acked = await api.client.post("/api/v1/me/ack", headers=as_workload,
                                  json={"message_ids": [asked["id"], asked_elsewhere["id"]]})
    assert acked.json() == {"acked": 1}  # the other thread's delivery stays unacknowledged
    assert (await team.api.client.post(f"/api/v1/threads/{mine['id']}/messages", headers=as_workload,
                                       json={"body": "hi bob"})).status_code == 201
    assert_problem(await api.client.post(f"/api/v1/threads/{elsewhere['id']}/messages", headers=as_workload,
                                         json={"body": "leak"}), 404, "not_found")
    assert_problem(await api.client.post(f"/api/v1/workloads/{uuid.uuid4()}/touch", headers=as_workload,
                                         json={"agent_state": "idle"}), 404, "not_found")


async def test_a_workload_token_is_refused_everywhere_else(api: Api) -> None:
    """Walks every route of the OpenAPI document with the token: outside the allow-list, 403 or 404."""
    team = await make_team(api)
    helper = await team.org.agent(nickname="helper")
    thread = await team.thread(team.bob, "@helper")
    workload_id = uuid.uuid4()
    token = await mint(api, helper["id"], thread["id"], team.org.id, workload_id=workload_id)
    own = {"id": helper["id"], "thread_id": thread["id"], "workload_id": str(workload_id),
           "agent_id": helper["id"], "organization_id": team.org.id, "conversation_id": thread["id"],
           "user_id": team.bob.id}
    document = (await api.client.get("/openapi.json")).json()
    walked = 0
    for path, operations in document["paths"].items():
        for method in operations:
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            if (method.upper(), path) in ALLOWED:
                continue
            anonymous = await api.client.request(method.upper(), fill(path, {}))
            if anonymous.status_code != 401:
                continue  # a public route (health, docs) answers everyone alike
            for values in (own, {}):  # the workload's own ids, and strangers' ids
                response = await api.client.request(method.upper(), fill(path, values), headers=api.auth(token),
                                                    json={}, params={"organization_id": team.org.id})
                assert response.status_code in (403, 404), (method, path, response.status_code, response.text)
                walked += 1
    assert walked > 100


def fill(path: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), uuid.uuid4())), path)


async def test_the_proxy_serves_a_workload_its_agents_model_only(api: Api) -> None:
    team = await make_team(api)
    helper = await team.org.agent(nickname="helper")
    thread = await team.thread(team.bob, "@helper")
    provider = (await api.client.get("/api/v1/models/" + team.org.model_id, headers=team.owner.headers)).json()
    second = await api.client.post("/api/v1/models", headers=team.owner.headers, json={
        "organization_id": team.org.id, "name": "other", "llm_provider_id": provider["llm_provider_id"],
        "remote_name": "gpt-4o-mini"})
    assert second.status_code == 201, second.text
    token = await mint(api, helper["id"], thread["id"], team.org.id)

    models = await api.client.get("/v1/models", headers=api.auth(token))
    assert models.status_code == 200, models.text
    assert [m["id"] for m in models.json()["data"]] == [team.org.model_id]
    refused = await api.client.post("/v1/responses", headers=api.auth(token),
                                    json={"model": second.json()["id"], "input": "hi"})
    assert refused.status_code == 403, refused.text
    # the owner, a member of the organization, may use both: the limit is the token's
    both = await api.client.get("/v1/models", headers=team.owner.headers)
    assert len(both.json()["data"]) == 2


async def test_a_token_minted_without_its_organization_takes_the_threads(api: Api) -> None:
    team = await make_team(api)
    helper = await team.org.agent(nickname="helper")
    thread = await team.thread(team.bob, "@helper")
    platform = api.app.state.platform
    async with platform.database.transaction() as session:
        token = await workload_tokens.issue(session, platform, agent_id=uuid.UUID(helper["id"]),
                                            thread_id=uuid.UUID(thread["id"]), workload_id=uuid.uuid4(),
                                            ttl=timedelta(minutes=1))
    assert (await api.client.get(f"/api/v1/threads/{thread['id']}", headers=api.auth(token))).status_code == 200


async def test_revoked_and_expired_workload_tokens_stop_working(api: Api) -> None:
    team = await make_team(api)
    helper = await team.org.agent(nickname="helper")
    thread = await team.thread(team.bob, "@helper")
    workload_id = uuid.uuid4()
    token = await mint(api, helper["id"], thread["id"], team.org.id, workload_id=workload_id)
    assert (await api.client.get(f"/api/v1/threads/{thread['id']}", headers=api.auth(token))).status_code == 200
    platform = api.app.state.platform
    async with platform.database.transaction() as session:
        await workload_tokens.revoke(session, platform, workload_id)
    assert_problem(await api.client.get(f"/api/v1/threads/{thread['id']}", headers=api.auth(token)), 401,
                   "unauthenticated")
    expired = await mint(api, helper["id"], thread["id"], team.org.id, ttl=timedelta(seconds=-1))
    assert_problem(await api.client.get(f"/api/v1/threads/{thread['id']}", headers=api.auth(expired)), 401,
                   "unauthenticated")
    assert expired.startswith("agyn_wl_")
