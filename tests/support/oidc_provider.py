"""A small OpenID provider for tests: the real discovery and JWKS protocol over HTTP on 127.0.0.1.

It generates RSA signing keys (`cryptography`), serves `/.well-known/openid-configuration` and the
JWKS from a real HTTP server in a background thread (ephemeral port), mints signed access tokens
(PyJWT) with chosen claims, `kid`, algorithm and lifetime, and can rotate its keys. It records the
paths it served, so tests can tell whether discovery or the JWKS were fetched.

For browser sign-in it also speaks the authorization code flow with PKCE (RFC 7636, S256 only): its
authorization endpoint signs in `login_claims` at once (no login form) and redirects back with a code;
its token endpoint trades the code and the verifier for an access token. Answers carry CORS headers,
as a provider's do for single-page apps.

    with OIDCProvider() as idp:
        token = idp.mint(sub="alice", preferred_username="alice")
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import EllipsisType
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

DEFAULT_AUDIENCE = "agyn-test"
AUTHORIZE_PATH = "/protocol/auth"
TOKEN_PATH = "/protocol/token"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    algorithm: str = "RS256"

    @classmethod
    def generate(cls, kid: str | None = None, algorithm: str = "RS256") -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or f"key-{uuid.uuid4().hex[:8]}", key, algorithm)

    def jwk(self, *, include_alg: bool = True) -> dict[str, Any]:
        """The public half as a JWK, as an identity provider publishes it."""
        entry: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        entry.pop("key_ops", None)
        entry.update(kid=self.kid, use="sig")
        if include_alg:
            entry["alg"] = self.algorithm
        return entry


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OIDCProvider:
    """An OpenID provider on an ephemeral port; start it with `with` or `start()` / `stop()`."""

    def __init__(self, *, audience: str = DEFAULT_AUDIENCE, jwks_path: str = "/protocol/keys") -> None:
        self.audience = audience
        self.jwks_path = jwks_path
        self.keys: list[SigningKey] = [SigningKey.generate()]
        self.published_alg = True  # whether JWKs carry the optional "alg" member
        self.extra_jwks: list[dict[str, Any]] = []  # further raw entries (e.g. an encryption key)
        self.requests: Counter[str] = Counter()
        self.login_claims: dict[str, Any] = {"sub": "browser-user", "preferred_username": "browser-user"}
        self._codes: dict[str, dict[str, Any]] = {}  # code → the authorization request it answers
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> OIDCProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with provider._lock:
                    provider.requests[path] += 1
                if path == "/.well-known/openid-configuration":
                    self._json(200, provider.discovery_document())
                elif path == provider.jwks_path:
                    self._json(200, provider.jwks())
                elif path == AUTHORIZE_PATH:
                    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                    status, location = provider.authorize(query)
                    self.send_response(status)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                path = self.path.split("?", 1)[0]
                with provider._lock:
                    provider.requests[path] += 1
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if path == TOKEN_PATH:
                    self._json(*provider.exchange(form))
                else:
                    self._json(404, {"error": "not_found"})

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OIDCProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- protocol -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "start the provider first"
        return int(self._server.server_address[1])

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}{self.jwks_path}"

    def discovery_document(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_url,
            "authorization_endpoint": f"{self.issuer}{AUTHORIZE_PATH}",
            "token_endpoint": f"{self.issuer}{TOKEN_PATH}",
            "code_challenge_methods_supported": ["S256"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": sorted({k.algorithm for k in self.keys}),
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """The authorization endpoint's answer: (status, Location) — back to the client with a code."""
        redirect = query.get("redirect_uri", "")
        if not redirect or query.get("response_type") != "code" or query.get("code_challenge_method") != "S256" \
                or not query.get("code_challenge"):
            return 302, f"{redirect or self.issuer}?error=invalid_request&state={query.get('state', '')}"
        code = uuid.uuid4().hex
        with self._lock:
            self._codes[code] = {**query, "claims": dict(self.login_claims)}
        return 302, f"{redirect}?{urllib.parse.urlencode({'code': code, 'state': query.get('state', '')})}"

    def exchange(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The token endpoint: a code (once), its redirect URI, client and PKCE verifier → an access token."""
        with self._lock:
            request = self._codes.pop(form.get("code", ""), None)
        if request is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        challenge = _b64(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if (form.get("redirect_uri"), form.get("client_id")) != (request["redirect_uri"], request["client_id"]) \
                or not hmac.compare_digest(challenge, request["code_challenge"]):
            return 400, {"error": "invalid_grant", "error_description": "the verifier or client does not match"}
        claims = dict(request["claims"])
        return 200, {"access_token": self.mint(claims.pop("sub"), **claims), "token_type": "Bearer",
                     "expires_in": 300}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk(include_alg=self.published_alg) for k in self.keys] + list(self.extra_jwks)}

    # --- keys ---------------------------------------------------------------------------------

    @property
    def current_key(self) -> SigningKey:
        return self.keys[-1]

    def rotate_keys(self, *, keep_previous: bool = True, algorithm: str = "RS256") -> SigningKey:
        """Publish a new signing key (with a new kid) and sign with it from now on."""
        key = SigningKey.generate(algorithm=algorithm)
        self.keys = ([*self.keys] if keep_previous else []) + [key]
        return key

    # --- tokens -------------------------------------------------------------------------------

    def claims(
        self, sub: str | None | EllipsisType = ..., *, expires_in: float = 300, **claims: Any
    ) -> dict[str, Any]:
        """Standard claims plus `claims`; `sub` defaults to a random subject, None leaves it out."""
        now = int(time.time())
        base: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": f"sub-{uuid.uuid4().hex[:12]}" if sub is ... else sub,
            "iat": now,
            "nbf": now,
            "exp": now + int(expires_in),
            "jti": uuid.uuid4().hex,
        }
        base.update(claims)
        return {k: v for k, v in base.items() if v is not None}

    def mint(
        self,
        sub: str | None | EllipsisType = ...,
        *,
        expires_in: float = 300,
        key: SigningKey | None = None,
        kid: str | None | EllipsisType = ...,
        algorithm: str | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A signed access token. Pass a claim as None to leave it out (e.g. `aud=None`).

        `kid` defaults to the signing key's; pass another value to lie about it, or None to omit it.
        """
        key = key or self.current_key
        header = dict(headers or {})
        if kid is ...:
            header["kid"] = key.kid
        elif kid is not None:
            header["kid"] = kid
        return jwt.encode(self.claims(sub, expires_in=expires_in, **claims), key.private_key,
                          algorithm=algorithm or key.algorithm, headers=header)

    def mint_unsigned(self, sub: str | None | EllipsisType = ..., *, kid: str | None = None, **claims: Any) -> str:
        """A token with `alg: none` and no signature (RFC 7519 §6) — must never be accepted."""
        header: dict[str, Any] = {"alg": "none", "typ": "JWT"}
        if kid is not None:
            header["kid"] = kid
        payload = self.claims(sub, **claims)
        return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."

    def mint_hmac_with_public_key(self, sub: str | None | EllipsisType = ..., **claims: Any) -> str:
        """The algorithm-confusion attack: HS256 keyed with the published public key's PEM."""
        from cryptography.hazmat.primitives import serialization

        pem = self.current_key.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        header = {"alg": "HS256", "typ": "JWT", "kid": self.current_key.kid}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(self.claims(sub, **claims)).encode())}"
        signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"


    def mint_forged_alg(self, algorithm: str, sub: str | None | EllipsisType = ..., **claims: Any) -> str:
        """A token naming `algorithm` and the current kid, with a random signature."""
        header = {"alg": algorithm, "typ": "JWT", "kid": self.current_key.kid}
        payload = _b64(json.dumps(self.claims(sub, **claims)).encode())
        return f"{_b64(json.dumps(header).encode())}.{payload}.{_b64(os.urandom(64))}"


def tamper(token: str) -> str:
    """The same token with one claim changed after signing (so its signature no longer matches)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(claims.get("sub", "")) + "-forged"
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
