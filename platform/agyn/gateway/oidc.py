"""OIDC access-token (JWT) verification against the issuer's JWKS, fetched without blocking."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt
from jwt import PyJWK

from agyn.kit.errors import Unauthenticated
from agyn.settings import OIDCSettings

JWKS_TTL_SECONDS = 600
MIN_REFRESH_INTERVAL_SECONDS = 10
ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"]


class OIDCVerifier:
    """Caches the JWKS; an unknown `kid` triggers a (rate-limited) refresh for key rotation."""

    def __init__(self, settings: OIDCSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._http = http or httpx.AsyncClient(timeout=5.0)
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
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
        key = await self._key(header.get("kid"))
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
        return claims

    async def _key(self, kid: str | None) -> PyJWK:
        now = time.monotonic()
        if now - self._fetched_at > JWKS_TTL_SECONDS or (kid not in self._keys and
                                                          now - self._fetched_at > MIN_REFRESH_INTERVAL_SECONDS):
            async with self._lock:
                if time.monotonic() - self._fetched_at > MIN_REFRESH_INTERVAL_SECONDS:
                    await self._refresh()
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        if kid not in self._keys:
            raise Unauthenticated("the access token was signed by a key the identity provider does not publish")
        return self._keys[kid]

    async def _refresh(self) -> None:
        try:
            if self._jwks_url is None:
                discovery = await self._http.get(f"{str(self.settings.issuer).rstrip('/')}/.well-known/openid-configuration")
                discovery.raise_for_status()
                self._jwks_url = discovery.json()["jwks_uri"]
            response = await self._http.get(str(self._jwks_url))
            response.raise_for_status()
            keys: dict[str, PyJWK] = {}
            for entry in response.json().get("keys", []):
                if entry.get("use", "sig") != "sig":
                    continue
                try:
                    keys[entry.get("kid", "")] = PyJWK(entry)
                except jwt.PyJWTError:
                    continue
        except (httpx.HTTPError, ValueError, KeyError) as error:
            self._fetched_at = time.monotonic()
            raise Unauthenticated(f"cannot reach the identity provider's keys: {error}") from None
        self._keys = keys
        self._fetched_at = time.monotonic()
