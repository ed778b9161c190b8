"""Calls to providers: one pooled aiohttp session per process, and the headers that go each way.

aiohttp rather than httpx: on this hot path it adds a fraction of a millisecond where httpx adds
several (measured by `benchmarks/llm_proxy.py`).
"""

from __future__ import annotations

from collections.abc import Iterable

import aiohttp

from agyn.llm.service import ResolvedModel
from agyn.settings import LLMProxySettings

KEEPALIVE_SECONDS = 4.0
"""Below the common 5 s of servers (uvicorn, node), so a pooled connection is rarely reused just as the
server closes it; a POST that still meets a closed connection before any answer is sent once more."""

_NOT_FORWARDED = frozenset({
    b"host", b"content-length", b"connection", b"transfer-encoding", b"keep-alive", b"te", b"trailer",
    b"upgrade", b"expect", b"authorization", b"x-api-key", b"accept-encoding", b"cookie"})
_NOT_RETURNED = frozenset({
    b"content-length", b"connection", b"transfer-encoding", b"keep-alive", b"te", b"trailer", b"upgrade",
    b"content-encoding", b"set-cookie", b"x-request-id", b"server", b"date"})


def forwarded_headers(caller: Iterable[tuple[bytes, bytes]], model: ResolvedModel) -> list[tuple[str, str]]:
    """The caller's headers without hop-by-hop ones, its credentials and `x-agyn-*`, then the provider's
    credentials (which win over any caller header of the same name)."""
    # the body is JSON the proxy wrote; identity encoding because usage is read off the answer
    injected: list[tuple[str, str]] = [("content-type", "application/json"), ("accept-encoding", "identity")]
    if model.auth_method == "bearer":
        injected.append(("authorization", f"Bearer {model.token or ''}"))
    elif model.auth_method == "x_api_key":
        injected.append(("x-api-key", model.token or ""))
    else:
        injected.extend((name.lower(), value) for name, value in model.headers.items())
    overridden = {name.encode() for name, _ in injected}
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in caller
               if name not in _NOT_FORWARDED and name not in overridden and not name.startswith(b"x-agyn-")
               and not name.startswith(b"proxy-")]
    headers.extend(injected)
    return headers


def returned_headers(upstream: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The provider's response headers the caller gets (lengths and encodings are the proxy's own)."""
    return [(name.lower(), value) for name, value in upstream if name.lower() not in _NOT_RETURNED]


class Upstream:
    def __init__(self, settings: LLMProxySettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    def open(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.settings.max_connections, keepalive_timeout=KEEPALIVE_SECONDS,
                                             ttl_dns_cache=60)
            timeout = aiohttp.ClientTimeout(total=None, connect=self.settings.connect_timeout,
                                            sock_read=self.settings.read_timeout)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False,
                                                  skip_auto_headers=("User-Agent",), raise_for_status=False)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the LLM proxy's upstream client opens when the platform starts")
        return self._session

    async def post(self, url: str, body: bytes, headers: list[tuple[str, str]]) -> aiohttp.ClientResponse:
        """The provider's response (headers read, body not yet); raises aiohttp's errors."""
        try:
            return await self.session.post(url, data=body, headers=headers, allow_redirects=False)
        except aiohttp.ServerDisconnectedError:
            return await self.session.post(url, data=body, headers=headers, allow_redirects=False)
