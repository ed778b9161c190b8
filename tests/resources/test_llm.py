"""LLM providers and models through the generic collection machinery."""

from __future__ import annotations

import uuid

from agyn.authorization.engine import TupleKey
from agyn.llm.models import LLMProvider
from tests.conftest import Api, assert_problem

PROVIDERS, MODELS = "/api/v1/llm-providers", "/api/v1/models"


async def test_provider_and_model_lifecycle(api: Api) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    created = await api.client.post(PROVIDERS, headers=owner.headers, json={
        "organization_id": org["id"], "name": "openai", "endpoint": "https://api.openai.com/v1",
        "auth_method": "bearer", "token": "sk-secret-value"})
    assert created.status_code == 201, created.text
    provider = created.json()
    assert provider["protocol"] == "responses"  # the default
    assert "token" not in provider and "sk-secret-value" not in created.text
    async with api.app.state.platform.database.transaction() as session:
        stored = await session.get(LLMProvider, uuid.UUID(provider["id"]))
    assert stored is not None and "sk-secret-value" not in stored.token

    model = await api.client.post(MODELS, headers=owner.headers, json={
        "organization_id": org["id"], "name": "gpt-4o", "llm_provider_id": provider["id"], "remote_name": "gpt-4o"})
    assert model.status_code == 201, model.text
    model_id = model.json()["id"]
    store = api.app.state.platform.authz._store
    assert TupleKey(f"organization:{org['id']}", "org", f"model:{model_id}") in store

    in_use = await api.client.delete(f"{PROVIDERS}/{provider['id']}", headers=owner.headers)
    assert model_id in assert_problem(in_use, 409, "failed_precondition")["detail"]

    renamed = await api.client.patch(f"{MODELS}/{model_id}", headers=owner.headers, json={"remote_name": "gpt-4o-mini"})
    assert renamed.status_code == 200 and renamed.json()["remote_name"] == "gpt-4o-mini"
    assert renamed.headers["etag"] != model.headers["etag"]
    immutable = await api.client.patch(f"{MODELS}/{model_id}", headers=owner.headers,
                                       json={"llm_provider_id": org["id"]})
    assert_problem(immutable, 400, "invalid_argument")

    assert (await api.client.delete(f"{MODELS}/{model_id}", headers=owner.headers)).status_code == 204
    assert TupleKey(f"organization:{org['id']}", "org", f"model:{model_id}") not in store
    assert (await api.client.delete(f"{PROVIDERS}/{provider['id']}", headers=owner.headers)).status_code == 204


async def test_provider_credential_rules(api: Api) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    base = {"organization_id": org["id"], "endpoint": "https://llm.example"}
    no_token = await api.client.post(PROVIDERS, headers=owner.headers, json={**base, "auth_method": "bearer"})
    assert assert_problem(no_token, 400, "invalid_argument")["errors"][0]["field"] == "token"
    bad_header = await api.client.post(PROVIDERS, headers=owner.headers, json={
        **base, "auth_method": "custom_headers", "headers": {"bad header": "x"}})
    assert_problem(bad_header, 400, "invalid_argument")
    ok = await api.client.post(PROVIDERS, headers=owner.headers, json={
        **base, "auth_method": "custom_headers", "headers": {"X-Api-Key": "k1", "X-Org": "o"}})
    assert ok.status_code == 201 and "k1" not in ok.text
    bad_url = await api.client.post(PROVIDERS, headers=owner.headers, json={
        **base, "endpoint": "ftp://x", "auth_method": "x_api_key", "token": "t"})
    assert assert_problem(bad_url, 400, "invalid_argument")["errors"][0]["field"] == "endpoint"


async def test_members_read_outsiders_do_not_see(api: Api) -> None:
    owner, member, outsider = await api.user("owner"), await api.user("member"), await api.user("outsider")
    org = await api.organization(owner)
    await api.add_member(org["id"], member)
    created = await api.client.post(PROVIDERS, headers=owner.headers, json={
        "organization_id": org["id"], "endpoint": "https://llm.example", "auth_method": "x_api_key", "token": "t"})
    url = f"{PROVIDERS}/{created.json()['id']}"
    assert (await api.client.get(url, headers=member.headers)).status_code == 200
    assert_problem(await api.client.patch(url, headers=member.headers, json={"name": "x"}), 403, "permission_denied")
    assert_problem(await api.client.get(url, headers=outsider.headers), 404, "not_found")
    listed = await api.client.get(PROVIDERS, headers=outsider.headers)
    assert listed.json()["items"] == []
    listed = await api.client.get(PROVIDERS, headers=member.headers, params={"organization_id": org["id"]})
    assert [p["id"] for p in listed.json()["items"]] == [created.json()["id"]]
    # an outsider cannot create in an org they cannot see
    denied = await api.client.post(PROVIDERS, headers=outsider.headers, json={
        "organization_id": org["id"], "endpoint": "https://x", "auth_method": "x_api_key", "token": "t"})
    assert assert_problem(denied, 400, "invalid_argument")["errors"][0]["field"] == "organization_id"
