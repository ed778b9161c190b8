"""Secret providers and secrets: the collections over HTTP, write-only values, and internal resolution
(local values and Vault KV v2, served by the test Vault in `tests.support.vault`)."""

from __future__ import annotations

import json
import logging
import socket
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from agyn.kit.crypto import Cipher, decode_key, generate_key
from agyn.kit.errors import NotFound
from agyn.kit.logging import JSONFormatter
from agyn.secrets.models import Secret, SecretProvider
from agyn.secrets.service import SecretUnavailable
from tests.conftest import Api, User, assert_problem
from tests.resources.conftest import VAULT_PASSWORD, VAULT_TOKEN
from tests.support.vault import VaultServer

PROVIDERS, SECRETS = "/api/v1/secret-providers", "/api/v1/secrets"

async def create_provider(api: Api, owner: User, org_id: str, address: str, token: str = VAULT_TOKEN
                          ) -> dict[str, Any]:
    body = {"organization_id": org_id, "name": f"vault-{uuid.uuid4().hex[:6]}", "type": "vault",
            "vault": {"address": address, "token": token}}
    response = await api.client.post(PROVIDERS, headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def create_secret(api: Api, owner: User, org_id: str, **fields: Any) -> dict[str, Any]:
    response = await api.client.post(SECRETS, headers=owner.headers, json={
        "organization_id": org_id, "name": f"secret-{uuid.uuid4().hex[:6]}", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def resolve(api: Api, secret_id: str) -> str:
    platform = api.app.state.platform
    async with platform.database.transaction() as session:
        return await platform.collections["secrets"].resolve(session, uuid.UUID(secret_id))


async def stored(api: Api, model: Any, object_id: str) -> Any:
    async with api.app.state.platform.database.transaction() as session:
        return await session.get(model, uuid.UUID(object_id))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- collections ---------------------------------------------------------------------------------


async def test_local_secret_lifecycle_never_shows_the_value(api: Api) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    created = await api.client.post(SECRETS, headers=owner.headers, json={
        "organization_id": org["id"], "name": "db-password", "description": "the database", "value": "first-Value-1"})
    assert created.status_code == 201, created.text
    secret = created.json()
    assert "value" not in secret and "first-Value-1" not in created.text
    assert secret["provider_id"] is None and secret["reference"] is None and secret["description"] == "the database"
    url = f"{SECRETS}/{secret['id']}"

    got = await api.client.get(url, headers=owner.headers)
    listed = await api.client.get(SECRETS, headers=owner.headers, params={"organization_id": org["id"]})
    assert got.status_code == 200 and "value" not in got.json() and "first-Value-1" not in got.text
    assert [s["id"] for s in listed.json()["items"]] == [secret["id"]] and "first-Value-1" not in listed.text
    assert await resolve(api, secret["id"]) == "first-Value-1"

    described = await api.client.patch(url, headers=owner.headers, json={"description": "still the database"})
    assert described.status_code == 200 and await resolve(api, secret["id"]) == "first-Value-1"
    same = await api.client.patch(url, headers=owner.headers, json={"value": "first-Value-1"})
    assert same.headers["etag"] == described.headers["etag"]  # re-sending the stored value changes nothing
    changed = await api.client.patch(url, headers={**owner.headers, "If-Match": same.headers["etag"]},
                                     json={"value": "second-Value-2"})
    assert changed.status_code == 200 and changed.headers["etag"] != same.headers["etag"]
    assert "value" not in changed.json() and "second-Value-2" not in changed.text
    assert await resolve(api, secret["id"]) == "second-Value-2"

    duplicate = await api.client.post(SECRETS, headers=owner.headers, json={
        "organization_id": org["id"], "name": "db-password", "value": "third-Value-3"})
    assert "third-Value-3" not in assert_problem(duplicate, 409, "already_exists")["detail"]
    assert (await api.client.delete(url, headers=owner.headers)).status_code == 204
    assert_problem(await api.client.get(url, headers=owner.headers), 404, "not_found")


async def test_values_are_stored_encrypted_each_ciphertext_unique(api: Api) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    first = await create_secret(api, owner, org["id"], value="Same-Plain-Value")
    second = await create_secret(api, owner, org["id"], value="Same-Plain-Value")
    one, other = [await stored(api, Secret, s["id"]) for s in (first, second)]
    for record in (one, other):
        assert record.value.startswith("v1:") and "Same-Plain-Value" not in record.value
    assert one.value != other.value
    # a ciphertext is bound to its row: copied onto another secret it does not open
    async with api.app.state.platform.database.transaction() as session:
        await session.execute(update(Secret).where(Secret.id == other.id).values(value=one.value)
                              .execution_options(synchronize_session=False))
    with pytest.raises(SecretUnavailable, match="cannot be decrypted"):
        await resolve(api, second["id"])


async def test_provider_lifecycle_and_vault_secrets(api: Api, vault: VaultServer) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    created = await api.client.post(PROVIDERS, headers=owner.headers, json={
        "organization_id": org["id"], "name": "vault", "type": "vault",
        "vault": {"address": vault.address, "token": VAULT_TOKEN}})
    assert created.status_code == 201, created.text
    provider = created.json()
    assert provider["vault"] == {"address": vault.address} and VAULT_TOKEN not in created.text
    got = await api.client.get(f"{PROVIDERS}/{provider['id']}", headers=owner.headers)
    assert got.json()["vault"] == {"address": vault.address} and VAULT_TOKEN not in got.text
    record = await stored(api, SecretProvider, provider["id"])
    assert record.vault["token"].startswith("v1:") and VAULT_TOKEN not in json.dumps(record.vault)

    secret = await create_secret(api, owner, org["id"], provider_id=provider["id"], reference="secret/team/db/password")
    assert secret["provider_id"] == provider["id"] and secret["reference"] == "secret/team/db/password"
    assert await resolve(api, secret["id"]) == VAULT_PASSWORD
    port = await create_secret(api, owner, org["id"], provider_id=provider["id"], reference="secret/team/db/port")
    assert await resolve(api, port["id"]) == "5432"  # a non-string value comes as JSON text
    listed = await api.client.get(SECRETS, headers=owner.headers, params={"provider_id": provider["id"]})
    assert {s["id"] for s in listed.json()["items"]} == {secret["id"], port["id"]}

    in_use = await api.client.delete(f"{PROVIDERS}/{provider['id']}", headers=owner.headers)
    detail = assert_problem(in_use, 409, "failed_precondition")["detail"]
    assert secret["id"] in detail or port["id"] in detail

    # a secret switches to a local value: the provider and reference go
    local = await api.client.patch(f"{SECRETS}/{secret['id']}", headers=owner.headers, json={"value": "now-Local"})
    assert local.status_code == 200, local.text
    assert local.json()["provider_id"] is None and local.json()["reference"] is None
    assert await resolve(api, secret["id"]) == "now-Local"
    # and back: the value goes
    remote = await api.client.patch(f"{SECRETS}/{secret['id']}", headers=owner.headers, json={
        "provider_id": provider["id"], "reference": "secret/team/db/password"})
    assert remote.status_code == 200 and (await stored(api, Secret, secret["id"])).value is None
    assert await resolve(api, secret["id"]) == VAULT_PASSWORD

    for dependent in (secret, port):
        assert (await api.client.delete(f"{SECRETS}/{dependent['id']}", headers=owner.headers)).status_code == 204
    assert (await api.client.delete(f"{PROVIDERS}/{provider['id']}", headers=owner.headers)).status_code == 204


async def test_provider_token_updates(api: Api, vault: VaultServer) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    provider = await create_provider(api, owner, org["id"], vault.address, "wrong")
    secret = await create_secret(api, owner, org["id"], provider_id=provider["id"], reference="secret/team/db/password")
    with pytest.raises(SecretUnavailable, match="403"):
        await resolve(api, secret["id"])
    url = f"{PROVIDERS}/{provider['id']}"
    fixed = await api.client.patch(url, headers=owner.headers, json={
        "vault": {"address": vault.address, "token": VAULT_TOKEN}})
    assert fixed.status_code == 200 and fixed.json()["vault"] == {"address": vault.address}
    assert await resolve(api, secret["id"]) == VAULT_PASSWORD
    # Terraform sends the whole vault block with every update: the same one changes nothing
    again = await api.client.patch(url, headers=owner.headers, json={
        "vault": {"address": vault.address, "token": VAULT_TOKEN}})
    assert again.headers["etag"] == fixed.headers["etag"]
    half = await api.client.patch(url, headers=owner.headers, json={"vault": {"address": vault.address}})
    assert assert_problem(half, 400, "invalid_argument")["errors"][0]["field"] == "vault.token"
    renamed = await api.client.patch(url, headers=owner.headers, json={"name": "renamed", "description": "prod"})
    assert renamed.json()["name"] == "renamed" and await resolve(api, secret["id"]) == VAULT_PASSWORD


async def test_bad_input_is_refused(api: Api, vault: VaultServer) -> None:
    owner = await api.user("owner")
    org, other_org = await api.organization(owner), await api.organization(owner)
    provider = await create_provider(api, owner, org["id"], vault.address)
    foreign = await create_provider(api, owner, other_org["id"], vault.address)
    base = {"organization_id": org["id"], "name": "s"}

    def fields(response: httpx.Response) -> set[str]:
        return {e["field"] for e in assert_problem(response, 400, "invalid_argument").get("errors", [])}

    async def post(path: str, body: dict[str, Any]) -> httpx.Response:
        return await api.client.post(path, headers=owner.headers, json=body)

    assert "value" in fields(await post(SECRETS, base))
    assert fields(await post(SECRETS, {**base, "value": "v", "provider_id": provider["id"],
                                       "reference": "secret/a/b"})) == {"provider_id"}  # one error per rule
    assert "reference" in fields(await post(SECRETS, {**base, "provider_id": provider["id"]}))
    assert fields(await post(SECRETS, {**base, "value": "v", "reference": "secret/a/b"})) == {"provider_id"}
    for bad in ("secret/key", "/a/b", "a/b/", "a"):
        assert fields(await post(SECRETS, {**base, "provider_id": provider["id"], "reference": bad})) == {"reference"}
    assert fields(await post(SECRETS, {**base, "value": ""})) == {"value"}
    assert "provider_id" in fields(await post(SECRETS, {**base, "provider_id": foreign["id"],
                                                        "reference": "secret/a/b"}))
    assert "provider_id" in fields(await post(SECRETS, {**base, "provider_id": str(uuid.uuid4()),
                                                        "reference": "secret/a/b"}))

    vault_block = {"address": vault.address, "token": "t"}
    provider_base = {"organization_id": org["id"], "name": "p", "type": "vault"}
    assert fields(await post(PROVIDERS, {**provider_base, "vault": {**vault_block, "address": "ftp://x"}})) == \
        {"vault.address"}
    assert fields(await post(PROVIDERS, {**provider_base, "vault": {"address": vault.address}})) == {"vault.token"}
    assert fields(await post(PROVIDERS, {**provider_base, "type": "aws", "vault": vault_block})) == {"type"}
    assert fields(await post(PROVIDERS, {**provider_base, "type": None, "vault": vault_block})) == {"type"}
    assert "vault" in fields(await post(PROVIDERS, provider_base))
    duplicate = await post(PROVIDERS, {**provider_base, "name": provider["name"], "vault": vault_block})
    assert_problem(duplicate, 409, "already_exists")
    assert (await api.client.get(SECRETS, headers=owner.headers)).json()["items"] == []


async def test_members_read_outsiders_do_not_see(api: Api, vault: VaultServer) -> None:
    owner, member, outsider = await api.user("owner"), await api.user("member"), await api.user("outsider")
    org = await api.organization(owner)
    await api.add_member(org["id"], member)
    provider = await create_provider(api, owner, org["id"], vault.address)
    secret = await create_secret(api, owner, org["id"], value="members-Cannot-Read")
    for path, object_id in ((PROVIDERS, provider["id"]), (SECRETS, secret["id"])):
        url = f"{path}/{object_id}"
        seen = await api.client.get(url, headers=member.headers)
        assert seen.status_code == 200 and "members-Cannot-Read" not in seen.text and VAULT_TOKEN not in seen.text
        assert_problem(await api.client.patch(url, headers=member.headers, json={"description": "x"}),
                       403, "permission_denied")
        assert_problem(await api.client.delete(url, headers=member.headers), 403, "permission_denied")
        assert_problem(await api.client.get(url, headers=outsider.headers), 404, "not_found")
        assert (await api.client.get(path, headers=outsider.headers)).json()["items"] == []
        assert [o["id"] for o in (await api.client.get(path, headers=member.headers)).json()["items"]] == [object_id]
    denied = await api.client.post(SECRETS, headers=member.headers, json={
        "organization_id": org["id"], "name": "mine", "value": "v"})
    assert_problem(denied, 403, "permission_denied")


# --- resolution ----------------------------------------------------------------------------------


async def test_resolution_errors_are_clear_and_never_carry_the_token(api: Api, vault: VaultServer) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    provider = await create_provider(api, owner, org["id"], vault.address)
    await vault.write("kv", "apps/web", {"api_key": "k"})

    async def failure(reference: str, through: dict[str, Any] = provider) -> str:
        secret = await create_secret(api, owner, org["id"], provider_id=through["id"], reference=reference)
        with pytest.raises(SecretUnavailable) as raised:
            await resolve(api, secret["id"])
        message = raised.value.detail
        assert VAULT_TOKEN not in message and secret["id"] in message and through["name"] in message
        return message

    assert "has no secret kv/apps/missing" in await failure("kv/apps/missing/api_key")
    assert "has no key 'token' (its keys: api_key)" in await failure("kv/apps/web/token")
    assert "has no secret nomount/apps/web" in await failure("nomount/apps/web/api_key")
    wrong = await create_provider(api, owner, org["id"], vault.address, "nope")
    assert "403 permission denied" in await failure("kv/apps/web/api_key", wrong)
    gone = await create_provider(api, owner, org["id"], f"http://127.0.0.1:{free_port()}")
    assert "is unreachable" in await failure("kv/apps/web/api_key", gone)
    with pytest.raises(NotFound):
        await resolve(api, str(uuid.uuid4()))

    # a local value encrypted with a key the platform does not have
    local = await create_secret(api, owner, org["id"], value="v")
    foreign = Cipher(decode_key(generate_key())).encrypt("v")
    async with api.app.state.platform.database.transaction() as session:
        await session.execute(update(Secret).where(Secret.id == uuid.UUID(local["id"])).values(value=foreign)
                              .execution_options(synchronize_session=False))
    with pytest.raises(SecretUnavailable, match=f"no key {foreign.split(':')[1]}"):
        await resolve(api, local["id"])


async def test_the_test_vault_speaks_kv_v2(api: Api, vault: VaultServer) -> None:
    """Versions, check-and-set, metadata and soft deletes, as Vault does them; resolve reads the latest."""
    owner = await api.user("owner")
    org = await api.organization(owner)
    provider = await create_provider(api, owner, org["id"], vault.address)
    path = f"rotating/{uuid.uuid4().hex[:8]}"
    url = f"/v1/kv/data/{path}"
    secret = await create_secret(api, owner, org["id"], provider_id=provider["id"], reference=f"kv/{path}/pw")
    assert await vault.write("kv", path, {"pw": "one"}) == 1
    assert await resolve(api, secret["id"]) == "one"
    assert await vault.write("kv", path, {"pw": "two"}, cas=1) == 2
    assert await resolve(api, secret["id"]) == "two"
    platform_reads = [r for r in vault.requests if r.method == "GET" and r.path == url]
    assert len(platform_reads) == 2 and all(r.authorized for r in platform_reads)  # it sent its token
    async with httpx.AsyncClient(base_url=vault.address, headers={"X-Vault-Token": VAULT_TOKEN}) as client:
        stale = await client.post(url, json={"data": {"pw": "x"}, "options": {"cas": 1}})
        assert stale.status_code == 400 and "check-and-set" in stale.json()["errors"][0]
        first = (await client.get(url, params={"version": 1})).json()["data"]
        assert first["data"] == {"pw": "one"} and first["metadata"]["version"] == 1
        metadata = (await client.get(f"/v1/kv/metadata/{path}")).json()["data"]
        assert metadata["current_version"] == 2 and set(metadata["versions"]) == {"1", "2"}
        assert (await client.delete(url)).status_code == 204
        deleted = await client.get(url)
        assert deleted.status_code == 404 and deleted.json()["data"]["data"] is None
        assert deleted.json()["data"]["metadata"]["deletion_time"]
        anonymous = await client.get(url, headers={"X-Vault-Token": ""})
        assert anonymous.status_code == 403 and anonymous.json() == {"errors": ["permission denied"]}
    with pytest.raises(SecretUnavailable, match="latest version is deleted"):
        await resolve(api, secret["id"])


# --- logs ----------------------------------------------------------------------------------------


async def test_no_plain_value_reaches_a_log_line(api: Api, vault: VaultServer, caplog: pytest.LogCaptureFixture
                                                 ) -> None:
    """Everything logged at DEBUG (SQL statements with their parameters included), formatted as the
    server writes it, while secrets and providers are created, updated, refused and resolved."""
    plain = ["Log-Scan-Value-One", "Log-Scan-Value-Two", "hvs.Log-Scan-Provider-Token", VAULT_TOKEN, VAULT_PASSWORD]
    owner = await api.user("owner")
    org = await api.organization(owner)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # statements and their parameters
    provider = await create_provider(api, owner, org["id"], vault.address, "hvs.Log-Scan-Provider-Token")
    await api.client.patch(f"{PROVIDERS}/{provider['id']}", headers=owner.headers,
                           json={"vault": {"address": vault.address, "token": VAULT_TOKEN}})
    local = await create_secret(api, owner, org["id"], value="Log-Scan-Value-One")
    await api.client.patch(f"{SECRETS}/{local['id']}", headers=owner.headers, json={"value": "Log-Scan-Value-Two"})
    refused = await api.client.post(SECRETS, headers=owner.headers, json={
        "organization_id": org["id"], "name": local["name"], "value": "Log-Scan-Value-One"})
    assert refused.status_code == 409
    too_long = await api.client.post(SECRETS, headers=owner.headers, json={
        "organization_id": org["id"], "name": "long", "value": "Log-Scan-Value-Two" * 4000})
    assert too_long.status_code == 400
    remote = await create_secret(api, owner, org["id"], provider_id=provider["id"], reference="secret/team/db/password")
    assert await resolve(api, remote["id"]) == VAULT_PASSWORD
    assert await resolve(api, local["id"]) == "Log-Scan-Value-Two"

    formatter = JSONFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any("INSERT INTO secrets" in line for line in lines)  # the capture saw the writes,
    assert any("'v1:" in line for line in lines)  # with their parameters: ciphertexts only
    for line in lines:
        for value in plain:
            assert value not in line, line
