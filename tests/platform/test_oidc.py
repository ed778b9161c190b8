"""OIDC login: access tokens (JWTs) from a real, local OpenID provider log users in (SPEC §4 Users).

The provider (`tests.support.oidc_provider`) serves discovery and a JWKS over HTTP; the platform
fetches them like it would from any identity provider.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio

from agyn.gateway import oidc as oidc_module
from agyn.settings import OIDCSettings
from tests.conftest import Api, running_api
from tests.support.oidc_provider import OIDCProvider, SigningKey, tamper


@pytest.fixture(scope="module")
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


@pytest.fixture(autouse=True)
def _fresh_keys(idp: OIDCProvider) -> Iterator[None]:
    """Every test starts from one published signing key, whatever the previous test rotated."""
    idp.keys = [SigningKey.generate()]
    idp.published_alg = True
    idp.extra_jwks = []
    yield


@pytest_asyncio.fixture
async def oidc_api(database_url: str, tmp_path: Path, idp: OIDCProvider) -> AsyncIterator[Api]:
    """The platform trusting `idp`, with its JWKS URL given explicitly."""
    oidc = OIDCSettings(issuer=idp.issuer, audience=idp.audience, jwks_url=idp.jwks_url)
    async with running_api(database_url, tmp_path / "data", oidc=oidc) as api:
        yield api


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def users_with_subject(api: Api, subject: str) -> list[dict[str, Any]]:
    response = await api.client.get("/api/v1/users", headers=api.admin, params={"oidc_subject": subject})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def login(api: Api, token: str) -> dict[str, Any]:
    response = await api.client.get("/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- first and later logins ----------------------------------------------------------------------


async def test_first_login_provisions_the_user(oidc_api: Api, idp: OIDCProvider) -> None:
    assert await users_with_subject(oidc_api, "auth0|alice") == []
    token = idp.mint("auth0|alice", preferred_username="alice", name="Alice Liddell", email="alice@example.com")
    me = await login(oidc_api, token)
    assert me["identity_type"] == "user"
    assert me["username"] == "alice"
    assert me["name"] == "Alice Liddell" and me["email"] == "alice@example.com"
    assert me["cluster_role"] == "none"
    [stored] = await users_with_subject(oidc_api, "auth0|alice")
    assert stored["id"] == me["identity_id"] and stored["username"] == "alice"
    assert stored["cluster_role"] == "none"


async def test_later_logins_map_to_the_same_user(oidc_api: Api, idp: OIDCProvider) -> None:
    first = await login(oidc_api, idp.mint("sub-bob", preferred_username="bob"))
    # a new token (new jti, new iat), even with changed profile claims, is the same person
    second = await login(oidc_api, idp.mint("sub-bob", preferred_username="robert", email="bob@example.com"))
    assert second["identity_id"] == first["identity_id"]
    assert second["username"] == "bob"
    assert len(await users_with_subject(oidc_api, "sub-bob")) == 1


async def test_concurrent_first_logins_create_one_user(oidc_api: Api, idp: OIDCProvider) -> None:
    """A web app fires several requests at once right after sign-in; all succeed as one user."""
    tokens = [idp.mint("sub-burst", preferred_username="burst") for _ in range(5)]
    responses = await asyncio.gather(*(oidc_api.client.get("/me", headers=bearer(t)) for t in tokens))
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert len({r.json()["identity_id"] for r in responses}) == 1
    assert len(await users_with_subject(oidc_api, "sub-burst")) == 1


async def test_concurrent_first_logins_with_the_same_username_get_distinct_names(
    oidc_api: Api, idp: OIDCProvider
) -> None:
    tokens = [idp.mint(f"sub-twin-{i}", preferred_username="twin") for i in range(3)]
    responses = await asyncio.gather(*(oidc_api.client.get("/me", headers=bearer(t)) for t in tokens))
    assert [r.status_code for r in responses] == [200] * 3, [r.text for r in responses]
    assert sorted(r.json()["username"] for r in responses) == ["twin", "twin-2", "twin-3"]


# --- username derivation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"preferred_username": "Jane.Doe", "email": "jd@example.com", "name": "Jane"}, "jane-doe"),
        ({"email": "Bob.Smith@example.com", "name": "Robert Smith"}, "bob-smith"),
        ({"preferred_username": "!!!", "email": "carol@example.com"}, "carol"),
        ({"name": "Dana Scully"}, "dana-scully"),
        ({"preferred_username": "", "email": "", "name": "***"}, None),
        ({}, None),
    ],
    ids=["preferred_username", "email-local-part", "unusable-preferred-then-email", "name", "unusable-all",
         "no-profile-claims"],
)
async def test_username_is_derived_from_the_claims(
    oidc_api: Api, idp: OIDCProvider, claims: dict[str, str], expected: str | None
) -> None:
    subject = f"sub-derive-{hashlib.sha256(repr(claims).encode()).hexdigest()[:6]}"
    me = await login(oidc_api, idp.mint(subject, **claims))
    if expected is None:
        expected = "user-" + hashlib.sha256(subject.encode()).hexdigest()[:8]
    assert me["username"] == expected


async def test_long_usernames_are_cut_to_32_characters(oidc_api: Api, idp: OIDCProvider) -> None:
    me = await login(oidc_api, idp.mint("sub-long", preferred_username="a" * 40))
    assert me["username"] == "a" * 32
    again = await login(oidc_api, idp.mint("sub-long-2", preferred_username="a" * 40))
    assert again["username"] == "a" * 29 + "-2"


async def test_username_collisions_get_a_numeric_suffix(oidc_api: Api, idp: OIDCProvider) -> None:
    names = [(await login(oidc_api, idp.mint(f"sub-sam-{i}", preferred_username="sam")))["username"]
             for i in range(3)]
    assert names == ["sam", "sam-2", "sam-3"]
    # the bootstrap admin already holds "admin"
    assert (await login(oidc_api, idp.mint("sub-admin", preferred_username="admin")))["username"] == "admin-2"


async def test_username_claim_is_configurable(database_url: str, tmp_path: Path, idp: OIDCProvider) -> None:
    oidc = OIDCSettings(issuer=idp.issuer, audience=idp.audience, jwks_url=idp.jwks_url,
                        username_claim="nickname", email_claim="upn")
    async with running_api(database_url, tmp_path / "data", oidc=oidc) as api:
        me = await login(api, idp.mint("sub-nick", nickname="Nicky", preferred_username="ignored",
                                        upn="nick@corp.example"))
        assert me["username"] == "nicky" and me["email"] == "nick@corp.example"


# --- rejected tokens -----------------------------------------------------------------------------


def _other_key_same_kid(idp: OIDCProvider) -> str:
    impostor = SigningKey.generate(kid=idp.current_key.kid)
    return idp.mint("sub-rejected", key=impostor)


REJECTIONS: dict[str, tuple[Any, str]] = {
    "wrong-audience": (lambda idp: idp.mint("sub-rejected", aud="someone-else"), "audience"),
    "no-audience": (lambda idp: idp.mint("sub-rejected", aud=None), "aud"),
    "wrong-issuer": (lambda idp: idp.mint("sub-rejected", iss="https://evil.example"), "issuer"),
    "expired": (lambda idp: idp.mint("sub-rejected", expires_in=-3600), "expired"),
    "not-yet-valid": (lambda idp: idp.mint("sub-rejected", nbf=idp.claims()["iat"] + 3600), "not yet valid"),
    "no-expiry": (lambda idp: idp.mint("sub-rejected", exp=None), "exp"),
    "no-subject": (lambda idp: idp.mint(None), "sub"),
    "tampered-claims": (lambda idp: tamper(idp.mint("sub-rejected")), "signature"),
    "signed-by-another-key": (_other_key_same_kid, "signature"),
    "unknown-kid": (lambda idp: idp.mint("sub-rejected", kid="no-such-key"), "key"),
    "alg-none": (lambda idp: idp.mint_unsigned("sub-rejected", kid=idp.current_key.kid), "alg"),
    "alg-none-without-kid": (lambda idp: idp.mint_unsigned("sub-rejected"), "alg"),
    "hs256-with-public-key": (lambda idp: idp.mint_hmac_with_public_key("sub-rejected"), "alg"),
    "alg-not-fitting-the-key": (lambda idp: idp.mint_forged_alg("ES256", "sub-rejected"), "alg"),
    "not-a-jwt": (lambda idp: "definitely-not-a-token", "neither an agyn API token nor a JWT"),
}


@pytest.mark.parametrize("published_alg", [True, False], ids=["jwk-with-alg", "jwk-without-alg"])
@pytest.mark.parametrize("case", list(REJECTIONS))
async def test_invalid_tokens_are_rejected(oidc_api: Api, idp: OIDCProvider, case: str, published_alg: bool) -> None:
    idp.published_alg = published_alg
    make, phrase = REJECTIONS[case]
    # the platform has the provider's keys already (a valid login happened first)
    await login(oidc_api, idp.mint("sub-valid"))
    response = await oidc_api.client.get("/me", headers=bearer(make(idp)))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["code"] == "unauthenticated" and body["status"] == 401
    assert phrase.lower() in body["detail"].lower(), body["detail"]
    assert await users_with_subject(oidc_api, "sub-rejected") == []
    assert await users_with_subject(oidc_api, "sub-rejected-forged") == []


async def test_a_subject_longer_than_oidc_allows_is_rejected(oidc_api: Api, idp: OIDCProvider) -> None:
    """OIDC Core §2: `sub` is at most 255 ASCII characters; longer is a bad token, not a 500."""
    response = await oidc_api.client.get("/me", headers=bearer(idp.mint("s" * 256)))
    assert response.status_code == 401, response.text
    assert "sub" in response.json()["detail"]
    assert (await oidc_api.client.get("/me", headers=bearer(idp.mint("s" * 255)))).status_code == 200


# --- keys: rotation, discovery, caching ----------------------------------------------------------


async def test_key_rotation_is_picked_up_when_a_new_kid_appears(
    oidc_api: Api, idp: OIDCProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the refresh on an unknown kid is rate-limited (10 s); let the test rotate without waiting
    monkeypatch.setattr(oidc_module, "MIN_REFRESH_INTERVAL_SECONDS", 0)
    old_key = idp.current_key
    first = await login(oidc_api, idp.mint("sub-rotate"))

    new_key = idp.rotate_keys(keep_previous=True)
    assert new_key.kid != old_key.kid
    fetches = idp.requests[idp.jwks_path]
    after_rotation = await login(oidc_api, idp.mint("sub-rotate"))
    assert after_rotation["identity_id"] == first["identity_id"]
    assert idp.requests[idp.jwks_path] == fetches + 1  # the unknown kid made it fetch the JWKS again
    # tokens signed with the previous, still published key keep working
    await login(oidc_api, idp.mint("sub-rotate", key=old_key))

    # once the provider retires a key, tokens signed with it stop working
    newest = idp.rotate_keys(keep_previous=False)
    await login(oidc_api, idp.mint("sub-rotate", key=newest))
    retired = await oidc_api.client.get("/me", headers=bearer(idp.mint("sub-rotate", key=old_key)))
    assert retired.status_code == 401
    assert "key" in retired.json()["detail"]


async def test_unknown_kids_do_not_hammer_the_identity_provider(oidc_api: Api, idp: OIDCProvider) -> None:
    await login(oidc_api, idp.mint("sub-storm"))
    fetches = idp.requests[idp.jwks_path]
    for i in range(5):
        response = await oidc_api.client.get("/me", headers=bearer(idp.mint("sub-storm", kid=f"bogus-{i}")))
        assert response.status_code == 401
    assert idp.requests[idp.jwks_path] - fetches <= 1
    # the cached keys keep serving valid tokens without another fetch
    await login(oidc_api, idp.mint("sub-storm"))
    assert idp.requests[idp.jwks_path] - fetches <= 1


async def test_keys_are_fetched_on_a_freshly_booted_machine(
    oidc_api: Api, idp: OIDCProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The monotonic clock may start near zero (a new VM or container); the first token still verifies."""
    monkeypatch.setattr(oidc_module, "time", SimpleNamespace(monotonic=lambda: 3.0))
    platform = oidc_api.app.state.platform
    authenticator = platform.authenticator
    original, authenticator.oidc = authenticator.oidc, oidc_module.OIDCVerifier(oidc_api.settings.oidc)
    try:
        await login(oidc_api, idp.mint("sub-early-boot"))
    finally:
        await authenticator.oidc.aclose()
        authenticator.oidc = original


async def test_jwks_is_found_through_discovery_when_no_jwks_url_is_set(
    database_url: str, tmp_path: Path, idp: OIDCProvider
) -> None:
    idp.jwks_path = "/somewhere/else/certs"  # only discovery can tell where the keys are
    try:
        discovery_before = idp.requests["/.well-known/openid-configuration"]
        oidc = OIDCSettings(issuer=idp.issuer, audience=idp.audience)
        async with running_api(database_url, tmp_path / "data", oidc=oidc) as api:
            me = await login(api, idp.mint("sub-discovery", preferred_username="disco"))
            assert me["username"] == "disco"
            assert idp.requests["/.well-known/openid-configuration"] == discovery_before + 1
            assert idp.requests["/somewhere/else/certs"] >= 1
    finally:
        idp.jwks_path = "/protocol/keys"


async def test_issuer_with_trailing_slash_finds_discovery(
    database_url: str, tmp_path: Path, idp: OIDCProvider
) -> None:
    """Issuers such as Auth0's end with '/'; the discovery URL must not get a double slash."""
    issuer = idp.issuer + "/"
    oidc = OIDCSettings(issuer=issuer, audience=idp.audience)
    async with running_api(database_url, tmp_path / "data", oidc=oidc) as api:
        await login(api, idp.mint("sub-slash", iss=issuer))


async def test_explicit_jwks_url_skips_discovery(oidc_api: Api, idp: OIDCProvider) -> None:
    discovery_before = idp.requests["/.well-known/openid-configuration"]
    await login(oidc_api, idp.mint("sub-direct"))
    assert idp.requests["/.well-known/openid-configuration"] == discovery_before


async def test_jwks_without_alg_members_and_encryption_keys(oidc_api: Api, idp: OIDCProvider) -> None:
    """`alg` is optional in a JWK (RFC 7517 §4.4) and `use: enc` keys are not for signatures."""
    idp.published_alg = False
    encryption_key = SigningKey.generate(kid="enc-key")
    idp.extra_jwks = [{**encryption_key.jwk(), "use": "enc"}]
    await login(oidc_api, idp.mint("sub-noalg"))
    # a token signed with the encryption key's private half must not verify
    misused = await oidc_api.client.get("/me", headers=bearer(idp.mint("sub-rejected", key=encryption_key)))
    assert misused.status_code == 401
    assert "key" in misused.json()["detail"]


async def test_other_rsa_algorithms_verify(oidc_api: Api, idp: OIDCProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oidc_module, "MIN_REFRESH_INTERVAL_SECONDS", 0)
    for published_alg in (True, False):
        idp.published_alg = published_alg
        for algorithm in ("RS384", "RS512", "PS256"):
            idp.rotate_keys(keep_previous=False, algorithm=algorithm)
            await login(oidc_api, idp.mint("sub-algorithms"))


async def test_unreachable_identity_provider_is_a_clear_401(
    database_url: str, tmp_path: Path, idp: OIDCProvider
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    oidc = OIDCSettings(issuer=idp.issuer, audience=idp.audience, jwks_url=f"{dead}/keys")
    async with running_api(database_url, tmp_path / "data", oidc=oidc) as api:
        response = await api.client.get("/me", headers=bearer(idp.mint("sub-rejected")))
        assert response.status_code == 401
        assert "cannot reach the identity provider" in response.json()["detail"]
        # API tokens do not depend on the identity provider
        assert (await api.client.get("/me", headers=api.admin)).status_code == 200


async def test_without_oidc_configured_a_jwt_is_refused(api: Api, idp: OIDCProvider) -> None:
    response = await api.client.get("/me", headers=bearer(idp.mint("sub-rejected", preferred_username="x")))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "no OIDC issuer is configured" in response.json()["detail"]


# --- what an OIDC user can do --------------------------------------------------------------------


async def test_oidc_user_creates_an_organization_and_an_api_token(oidc_api: Api, idp: OIDCProvider) -> None:
    jwt_headers = bearer(idp.mint("sub-founder", preferred_username="founder"))
    me = await login(oidc_api, idp.mint("sub-founder"))

    org = await oidc_api.client.post("/api/v1/organizations", headers=jwt_headers, json={"name": "founders"})
    assert org.status_code == 201, org.text
    created = await oidc_api.client.post("/api/v1/api-tokens", headers=jwt_headers, json={"name": "laptop"})
    assert created.status_code == 201, created.text
    api_token = created.json()["token"]
    assert api_token.startswith("agyn_")

    # the API token acts as the same user, who owns the organization
    via_token = await login(oidc_api, api_token)
    assert via_token["identity_id"] == me["identity_id"]
    fetched = await oidc_api.client.get(f"/api/v1/organizations/{org.json()['id']}", headers=bearer(api_token))
    assert fetched.status_code == 200, fetched.text
    listed = await oidc_api.client.get("/api/v1/api-tokens", headers=jwt_headers)
    assert [t["name"] for t in listed.json()["items"]] == ["laptop"]
    assert api_token not in listed.text
