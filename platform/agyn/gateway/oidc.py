"""OIDC access-token (JWT) verification against the issuer's JWKS, fetched without blocking."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import httpx
import jwt
from jwt import PyJWK

from agyn.kit.errors import Unauthenticated
from agyn.settings import OIDCSettings

JWKS_TTL_SECONDS = 600
MIN_REFRESH_INTERVAL_SECONDS = 10
MAX_SUBJECT_LENGTH = 255  # OpenID Connect Core §2; also the width of users.oidc_subject
ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"]


class OIDCVerifier:
    """Caches the JWKS; an unknown `kid` triggers a (rate-limited) refresh for key rotation."""

    def __init__(self, settings: OIDCSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._http = http or httpx.AsyncClient(timeout=5.0)
        self._keys: dict[str, PyJWK] = {}
        self._jwks: dict[str, dict[str, Any]] = {}  # the published JWK behind each key
        self._fetched_at = -math.inf  # never: monotonic time may start near zero (a freshly booted machine)
        self._jwks_url = settings.jwks_url
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if its signature, issuer, audience and lifetime are valid."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is neither an agyn API token nor a JWT") from None
        key = await self._key(header.get("kid"), header.get("alg"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALLOWED_ALGORITHMS,
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                options={"require": ["exp", "sub", "iss"], "verify_aud": self.settings.audience is not None},
                leeway=30,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the access token has expired; sign in again") from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the access token is not valid: {error}") from None
        if len(claims["sub"]) > MAX_SUBJECT_LENGTH:
            raise Unauthenticated(f"the access token is not valid: its sub claim is longer than "
                                  f"{MAX_SUBJECT_LENGTH} characters (OpenID Connect Core §2)")
        return claims

    async def _key(self, kid: str | None, alg: str | None) -> PyJWK:
        now = time.monotonic()
        if now - self._fetched_at > JWKS_TTL_SECONDS or (kid not in self._keys and
                                                          now - self._fetched_at > MIN_REFRESH_INTERVAL_SECONDS):
            async with self._lock:
                if time.monotonic() - self._fetched_at > MIN_REFRESH_INTERVAL_SECONDS:
                    await self._refresh()
        if kid is None and len(self._keys) == 1:
            kid = next(iter(self._keys))
        if kid not in self._keys:
            raise Unauthenticated("the access token was signed by a key the identity provider does not publish")
        key = self._keys[kid]
        if "alg" not in self._jwks[kid] and alg in ALLOWED_ALGORITHMS and alg != key.algorithm_name:
            # A JWK need not name its algorithm (RFC 7517 §4.4): use the token's when it fits the key type.
            try:
                return PyJWK(self._jwks[kid], algorithm=alg)
            except jwt.PyJWTError:
                raise Unauthenticated(f"the access token is not valid: its alg {alg} does not fit the "
                                      f"identity provider's key {kid!r}") from None
        return key

    async def _refresh(self) -> None:
        try:
            if self._jwks_url is None:
                issuer = str(self.settings.issuer).rstrip('/')
                discovery = await self._http.get(f"{issuer}/.well-known/openid-configuration")
                discovery.raise_for_status()
                self._jwks_url = discovery.json()["jwks_uri"]
            response = await self._http.get(str(self._jwks_url))
            response.raise_for_status()
            keys: dict[str, PyJWK] = {}
            entries: dict[str, dict[str, Any]] = {}
            for entry in response.json().get("keys", []):
                if entry.get("use", "sig") != "sig":
                    continue
                try:
                    keys[entry.get("kid", "")] = PyJWK(entry)
                except jwt.PyJWTError:
                    continue
                entries[entry.get("kid", "")] = entry
        except (httpx.HTTPError, ValueError, KeyError) as error:
            self._fetched_at = time.monotonic()
            raise Unauthenticated(f"cannot reach the identity provider's keys: {error}") from None
        self._keys, self._jwks = keys, entries
        self._fetched_at = time.monotonic()
