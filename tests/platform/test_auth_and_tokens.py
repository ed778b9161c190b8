"""/me and API tokens: the authentication paths every other call relies on."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Api


async def test_me_requires_a_valid_token(api: Api) -> None:
    assert (await api.client.get("/me")).status_code == 401
    bad = await api.client.get("/me", headers=api.auth("agyn_invalid"))
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["code"] == "unauthenticated"
    ok = await api.client.get("/me", headers=api.admin)
    assert ok.status_code == 200
    body = ok.json()
    assert body["identity_type"] == "user" and body["cluster_role"] == "admin"


async def test_non_bearer_scheme_is_rejected(api: Api) -> None:
    response = await api.client.get("/me", headers={"Authorization": f"Basic {api.admin_token}"})
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


async def test_token_lifecycle_create_use_list_revoke(api: Api) -> None:
    created = await api.client.post("/api/v1/api-tokens", headers=api.admin, json={"name": "ci"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("agyn_") and len(token) == 49
    assert created.json()["token_prefix"] == token[5:13]

    me = await api.client.get("/me", headers=api.auth(token))
    assert me.status_code == 200

    listed = await api.client.get("/api/v1/api-tokens", headers=api.admin)
    assert listed.status_code == 200
    assert token not in listed.text
    names = [t["name"] for t in listed.json()["items"]]
    assert "ci" in names
    assert all("token" not in t for t in listed.json()["items"])

    revoked = await api.client.delete(f"/api/v1/api-tokens/{created.json()['id']}", headers=api.admin)
    assert revoked.status_code == 204
    assert (await api.client.get("/me", headers=api.auth(token))).status_code == 401


async def test_tokens_are_private_to_their_owner(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    created = await api.client.post("/api/v1/api-tokens", headers=alice.headers, json={"name": "mine"})
    token_id = created.json()["id"]
    assert (await api.client.delete(f"/api/v1/api-tokens/{token_id}", headers=bob.headers)).status_code == 404
    bob_list = await api.client.get("/api/v1/api-tokens", headers=bob.headers)
    assert token_id not in [t["id"] for t in bob_list.json()["items"]]


async def test_expired_token_is_refused(api: Api) -> None:
    past = await api.client.post("/api/v1/api-tokens", headers=api.admin,
                                 json={"name": "old", "expires_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 400
    assert past.json()["errors"][0]["field"] == "expires_at"


async def test_admin_mints_token_for_user_and_it_is_audited(api: Api) -> None:
    from sqlalchemy import select

    from agyn.kit.audit import AuditEvent

    carol = await api.user("carol")
    me = await api.client.get("/me", headers=carol.headers)
    assert me.json()["identity_id"] == carol.id and me.json()["cluster_role"] == "none"
    async with api.app.state.platform.database.transaction() as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.mint"))).all()
    assert [e.target_id for e in events] == [carol.id]
    # a user who is not a cluster admin cannot mint tokens for others
    other = await api.client.post(f"/api/v1/users/{carol.id}/api-tokens", headers=carol.headers, json={"name": "x"})
    assert other.status_code == 403


async def test_token_value_is_stored_only_as_a_hash(api: Api) -> None:
    from sqlalchemy import select

    from agyn.users.models import ApiToken

    created = await api.client.post("/api/v1/api-tokens", headers=api.admin, json={"name": "hash"})
    token = created.json()["token"]
    async with api.app.state.platform.database.transaction() as session:
        stored = await session.scalar(select(ApiToken).where(ApiToken.name == "hash"))
    assert stored is not None
    assert token not in (stored.token_hash, stored.token_prefix)
    import hashlib

    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()


async def test_token_checks_are_cached_for_a_bounded_time(database_url: str, tmp_path: Path) -> None:
    """A replica trusts a token it checked for `token_cache_seconds`: a revocation made elsewhere (the
    row deleted behind its back) reaches it within that time; its own revocations at once."""
    from sqlalchemy import delete

    from agyn.users.models import ApiToken
    from tests.conftest import running_api
    from tests.support.clock import FakeClock

    clock = FakeClock()
    async with running_api(database_url, tmp_path / "data", clock=clock, token_cache_seconds=5) as api:
        created = await api.client.post("/api/v1/api-tokens", headers=api.admin, json={"name": "cached"})
        token = created.json()["token"]
        assert (await api.client.get("/me", headers=api.auth(token))).status_code == 200
        async with api.app.state.platform.database.transaction() as session:  # another replica revokes it
            await session.execute(delete(ApiToken).where(ApiToken.name == "cached"))
        assert (await api.client.get("/me", headers=api.auth(token))).status_code == 200  # still trusted here
        clock.advance(4.9)
        assert (await api.client.get("/me", headers=api.auth(token))).status_code == 200  # for the whole window
        clock.advance(0.2)
        assert (await api.client.get("/me", headers=api.auth(token))).status_code == 401  # within the bound

        second = (await api.client.post("/api/v1/api-tokens", headers=api.admin, json={"name": "own"})).json()
        assert (await api.client.get("/me", headers=api.auth(second["token"]))).status_code == 200
        revoked = await api.client.delete(f"/api/v1/api-tokens/{second['id']}", headers=api.admin)
        assert revoked.status_code == 204
        assert (await api.client.get("/me", headers=api.auth(second["token"]))).status_code == 401  # at once
