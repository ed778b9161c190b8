"""Hostile input never reaches a 500, and never costs the client its connection.

The platform runs under uvicorn; every request of the corpus is sent on one keep-alive HTTP/1.1
connection, written byte by byte, so a response that closes the connection (as a 500 does) breaks
the next request. The corpus: JSON nested past the limit in every field of every request body
(generated from the OpenAPI document), page tokens decoding to deep JSON on every list operation,
malformed JSON, and odd headers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

from agyn.kit.jsonlimits import MAX_JSON_DEPTH, DepthScanner, nesting_depth, within_limit
from tests.notifications.support import Live, live_server
from tests.resources.agents_support import make_org

DEEP = 5000
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Connection:
    """One HTTP/1.1 keep-alive connection, requests written by hand (no client library to reconnect)."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    sent: int = 0
    statuses: list[int] = field(default_factory=list)

    async def request(self, method: str, path: str, headers: dict[str, str] | list[tuple[str, str]] | None = None,
                      body: bytes = b"") -> Response:
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        head = f"{method} {path} HTTP/1.1\r\nHost: agyn.test\r\n".encode()
        for name, value in pairs:
            head += f"{name}: ".encode() + value.encode("latin-1") + b"\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n".encode()
        self.writer.write(head + body)
        await self.writer.drain()
        self.sent += 1
        status_line = await self.reader.readline()
        assert status_line, f"the server closed the connection before answering request {self.sent}: {method} {path}"
        status = int(status_line.split()[1])
        response_headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            response_headers[name.strip().lower()] = value.strip()
        content = await self.reader.readexactly(int(response_headers.get("content-length", "0")))
        assert response_headers.get("connection", "").lower() != "close", (method, path, status, content[:300])
        self.statuses.append(status)
        return Response(status, response_headers, content)


def nested(depth: int) -> str:
    """A JSON array nested `depth` deep, as text (json.dumps itself would recurse)."""
    return "[" * depth + "]" * depth


def nested_object(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def token_for(document: str) -> str:
    return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


@pytest_asyncio.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_server(database_url, tmp_path / "data") as served:
        yield served


@pytest_asyncio.fixture
async def connection(live: Live) -> AsyncIterator[Connection]:
    host, port = live.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        yield Connection(reader, writer)
    finally:
        writer.close()


def assert_refused(response: Response, *, names_limit: bool = False) -> None:
    assert 400 <= response.status < 500, (response.status, response.body[:500])
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == response.status
    if names_limit:
        assert response.status == 400 and body["code"] == "invalid_argument", body
        assert f"deeper than {MAX_JSON_DEPTH}" in body["detail"], body


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def body_operations(document: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(method, path with ids filled in, property names) of every operation taking a JSON body."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content is None:
                continue
            schema = resolve(document, content["schema"])
            names = list(schema.get("properties", {})) or ["value"]
            found.append((method.upper(), PATH_PARAMETER.sub(str(uuid.uuid4()), path), names))
    return found


def list_operations(document: dict[str, Any]) -> list[str]:
    return [PATH_PARAMETER.sub(str(uuid.uuid4()), path) for path, item in document["paths"].items()
            if any(p["name"] == "page_token" for p in item.get("get", {}).get("parameters", []))]


def test_the_depth_scanner_reads_strings_and_escapes_as_json_does() -> None:
    assert within_limit(nested(MAX_JSON_DEPTH)) and not within_limit(nested(MAX_JSON_DEPTH + 1))
    # brackets inside strings, escaped quotes and backslashes do not count
    assert within_limit(json.dumps({"a": "[" * 100 + '\\"' + "{" * 100, "b": ["\\", "]]]"]}))
    text = json.dumps({"s": 'x\\"[[[['}) + nested(MAX_JSON_DEPTH - 1)
    assert within_limit(text.replace("}[", "}, ["), MAX_JSON_DEPTH)
    # fed in chunks split anywhere, even inside an escape, it agrees with the parsed depth
    document = json.dumps({"k": ['a\\"b[', {"x": [[["\\\\"]]]}], "z": "}"})
    for cut in range(1, len(document)):
        scanner = DepthScanner(limit=6)
        assert scanner.feed(document[:cut].encode()) and scanner.feed(document[cut:].encode())
        assert scanner.deepest == nesting_depth(json.loads(document)) == 6
    assert not DepthScanner(limit=5).feed(document.encode())
    assert nesting_depth(json.loads(nested(200))) == 200


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from('ab"\\[]{}/\n\u00e9 ')),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.text(alphabet=st.sampled_from('k"\\[{'), max_size=3), children, max_size=4),
    max_leaves=30)


@settings(max_examples=300, derandomize=True, database=None)
@given(value=JSON_VALUES, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=4))
def test_the_depth_scanner_agrees_with_the_parser_wherever_the_body_is_cut(value: Any, cuts: list[int]) -> None:
    document = json.dumps(value).encode()
    scanner = DepthScanner(limit=1000)
    previous = 0
    for cut in sorted({min(c, len(document)) for c in cuts}) + [len(document)]:
        assert scanner.feed(document[previous:cut])
        previous = cut
    assert scanner.deepest == nesting_depth(value)
    assert scanner.depth == 0


async def test_json_nested_past_the_limit_in_every_field_is_400(live: Live, connection: Connection) -> None:
    admin = {"Authorization": f"Bearer {live.api.admin_token}", "Content-Type": "application/json"}
    document = (await connection.request("GET", "/openapi.json")).json()
    operations = body_operations(document)
    assert len(operations) > 40
    cases = 0
    for method, path, names in operations:
        for name in names:
            for depth in (DEEP, MAX_JSON_DEPTH):  # with the body's own object: one level past the limit
                body = f'{{"{name}": {nested(depth)}}}'.encode()
                assert_refused(await connection.request(method, path, admin, body), names_limit=True)
                cases += 1
        # a body that is itself the deep document, and one streamed without a content type
        assert_refused(await connection.request(method, path, admin, nested(DEEP).encode()), names_limit=True)
        assert_refused(await connection.request(method, path, {"Authorization": admin["Authorization"]},
                                                nested(DEEP).encode()), names_limit=True)
    assert (await connection.request("GET", "/me", admin)).status == 200
    print(f"\n[measured] {cases} nested bodies over {len(operations)} operations on one connection: all 400")


async def test_configuration_nests_up_to_the_limit_and_not_one_level_more(live: Live, connection: Connection) -> None:
    org = await make_org(live.api)
    agent = await org.agent()
    headers = {**org.owner.headers, "Content-Type": "application/json"}
    for path, deepest_allowed in ((f"/api/v1/agents/{agent['id']}", MAX_JSON_DEPTH - 1),):
        # the body's own object is one level: the configuration may nest the rest
        fits = json.dumps({"configuration": nested_object(deepest_allowed)}).encode()
        accepted = await connection.request("PATCH", path, headers, fits)
        assert accepted.status == 200, accepted.body
        assert nesting_depth(accepted.json()["configuration"]) == deepest_allowed
        too_deep = json.dumps({"configuration": nested_object(deepest_allowed + 1)}).encode()
        assert_refused(await connection.request("PATCH", path, headers, too_deep), names_limit=True)
        for depth in (256, 999, DEEP):  # the depths that were a 500 (pydantic, then contains_nul)
            body = b'{"configuration": ' + b'{"a": ' * depth + b"{}" + b"}" * depth + b"}"
            assert_refused(await connection.request("PATCH", path, headers, body), names_limit=True)
    assert (await connection.request("GET", f"/api/v1/agents/{agent['id']}", headers)).json()["configuration"] \
        == nested_object(MAX_JSON_DEPTH - 1)


async def test_deep_page_tokens_are_400_on_every_list(live: Live, connection: Connection) -> None:
    admin = {"Authorization": f"Bearer {live.api.admin_token}"}
    document = (await connection.request("GET", "/openapi.json")).json()
    paths = list_operations(document)
    assert len(paths) > 20
    deep = token_for(json.dumps({"v": 1}) [:-1] + ', "after": ' + nested(DEEP) + "}")
    for path in paths:
        for token in (token_for(nested(DEEP)), deep, token_for("{" * DEEP)):
            response = await connection.request("GET", f"{path}?page_token={token}", admin)
            assert_refused(response, names_limit=True)
            assert response.json()["errors"][0]["field"] == "page_token"
        for token in ("%00", "a" * 10_000, token_for('{"v": 1, "after": 12}'), token_for("1e99999"), "===="):
            response = await connection.request("GET", f"{path}?page_token={token}", admin)
            assert_refused(response)
    assert (await connection.request("GET", "/me", admin)).status == 200


async def test_malformed_json_and_odd_headers_are_4xx_on_one_connection(live: Live, connection: Connection) -> None:
    token = live.api.admin_token
    admin = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    malformed = [b"{", b'{"name": "\xff\xfe"}', b'{"name": 1' + b"0" * 5000 + b"}", b"[1e99999]",
                 b'{"name": NaN}', b"\x00", b'"""', b"\xef\xbb\xbf{}", b"null", b"[]", b"{}" * 3,
                 b'{"name": "' + b"\\ud800" + b'"}', b'{"name": ' + b'"x",' * 1000 + b"}"]
    for body in malformed:
        for path in ("/api/v1/organizations", "/api/v1/agents", "/api/v1/memberships"):
            response = await connection.request("POST", path, admin, body)
            assert 400 <= response.status < 500, (path, body[:40], response.status, response.body[:300])
    # UTF-16 (which json.loads would read): its bytes cannot be scanned for depth, and RFC 8259 wants UTF-8
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        body = json.dumps({"name": "o-" + "[" * 40}).encode(encoding)
        refused = await connection.request("POST", "/api/v1/organizations", admin, body)
        assert_refused(refused)
        assert "UTF-8" in refused.json()["detail"]
    # valid JSON, if odd: a repeated key (the last one counts, as in every JSON parser)
    odd = await connection.request("POST", "/api/v1/organizations", admin,
                                   f'{{"name": "a", "name": "o-{uuid.uuid4().hex[:8]}"}}'.encode())
    assert odd.status == 201, odd.body
    headers_cases: list[list[tuple[str, str]]] = [
        [("Authorization", "Bearer")], [("Authorization", "Bearer " + "x" * 10_000)],
        [("Authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l")], [("Authorization", "Bearer agyn_\xff\xfe")],
        [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer other")],
        [("Authorization", f"Bearer {token}"), ("If-Match", "x" * 8000)],
        [("Authorization", f"Bearer {token}"), ("If-Match", 'W/"a", , "b')],
        [("Authorization", f"Bearer {token}"), ("Idempotency-Key", "k" * 300)],
        [("Authorization", f"Bearer {token}"), ("Idempotency-Key", "")],
        [("Authorization", f"Bearer {token}"), ("Content-Type", "application/json; charset=utf-16")],
        [("Authorization", f"Bearer {token}"), ("Content-Type", "text/plain")],
        [("Authorization", f"Bearer {token}"), ("Content-Type", "multipart/form-data; boundary=")],
        [("Authorization", f"Bearer {token}"), ("Content-Type", "application/x-www-form-urlencoded")],
        [("Authorization", f"Bearer {token}"), ("Content-Type", "application/merge-patch+json")],
        [("Authorization", f"Bearer {token}"), ("X-Request-ID", "\xff" * 200)],
        [("Authorization", f"Bearer {token}"), ("Accept", "application/xml")],
    ]
    organization = (await connection.request("POST", "/api/v1/organizations", admin,
                                             json.dumps({"name": f"o-{uuid.uuid4().hex[:8]}"}).encode())).json()
    for headers in headers_cases:
        for method, path, body in (("POST", "/api/v1/organizations", b'{"name": "x y"}'),
                                   ("PATCH", f"/api/v1/organizations/{organization['id']}", b'{"name": "renamed"}'),
                                   ("GET", "/api/v1/agents", b""), ("DELETE", f"/api/v1/agents/{uuid.uuid4()}", b"")):
            response = await connection.request(method, path, headers, body)
            assert response.status < 500, (method, path, headers, response.status, response.body[:300])
    assert (await connection.request("GET", "/me", admin)).status == 200
    assert all(status < 500 for status in connection.statuses)


class _DeepJson:
    """A client-side encoder that puts a pre-built, deeply nested JSON text where `MARK` is (the
    standard encoder itself recurses and cannot write it)."""

    MARK = "__deep__"

    @staticmethod
    def dumps(value: Any, **options: Any) -> str:
        return json.dumps(value, **options).replace(f'"{_DeepJson.MARK}"', nested(DEEP))

    loads = staticmethod(json.loads)


class _DeepPacket(socketio.packet.Packet):  # type: ignore[misc]  # the library is untyped
    json = _DeepJson


async def test_socketio_packets_nested_past_the_limit_are_dropped_and_the_client_stays(live: Live) -> None:
    user = await live.api.user()
    client = socketio.AsyncClient(reconnection=False, serializer=_DeepPacket)
    await client.connect(live.url, auth={"token": user.token}, transports=["websocket"], wait_timeout=10)
    try:
        for deep in ({"rooms": _DeepJson.MARK}, {"rooms": json.loads(nested(MAX_JSON_DEPTH + 5))}):
            with pytest.raises(socketio.exceptions.TimeoutError):  # dropped: no answer, no crash
                await client.call("subscribe", deep, timeout=1)
        answer = await client.call("subscribe", {"rooms": ["thread_participant:me"]}, timeout=10)
        assert answer == {"rooms": [f"thread_participant:{user.id}"]}
    finally:
        await client.disconnect()
