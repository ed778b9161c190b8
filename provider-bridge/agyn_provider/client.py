"""The provider's one client of the control API, shared by every resource and data source.

Terraform calls the provider from a pool of gRPC threads, so the client holds nothing but an
`httpx.Client` (whose connection pool is thread-safe). Errors come back as RFC 9457 problem
documents; `report` turns one into Terraform diagnostics that show the API's `detail` and point at
the attribute named in `errors[].field`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from tf.utils import Diagnostics

TIMEOUT_SECONDS = 30.0
ATTEMPTS = 4
BACKOFF_SECONDS = 0.2
PAGE_SIZE = 100


@dataclass
class ApiError(Exception):
    """A failed call: the problem document's parts (or what stood in for them)."""

    status: int
    code: str
    title: str
    detail: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    retryable: bool = False
    existing_id: str | None = None
    """The object a create collided with (`already_exists`), to import instead."""

    def __str__(self) -> str:
        return f"{self.title} ({self.status}): {self.detail}"

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            text = response.text.strip() or response.reason_phrase
            return cls(response.status_code, "unknown", f"HTTP {response.status_code}", text[:500])
        return cls(response.status_code, str(body.get("code", "unknown")), str(body.get("title", "Request failed")),
                   str(body.get("detail", "")), [e for e in body.get("errors", []) if isinstance(e, dict)],
                   bool(body.get("retryable")),
                   str(body["existing_id"]) if body.get("existing_id") else None)

    @property
    def not_found(self) -> bool:
        return self.status == 404


class ApiClient:
    """Calls `<api_url>/api/v1/...` and `/me` with a Bearer token."""

    def __init__(self, api_url: str, token: str, *, transport: httpx.BaseTransport | None = None,
                 sleep: Any = time.sleep) -> None:
        self.api_url, self.token = api_url.rstrip("/"), token
        self._http = httpx.Client(base_url=self.api_url, timeout=TIMEOUT_SECONDS, transport=transport,
                                  headers={"Authorization": f"Bearer {token}", "User-Agent": "terraform-provider-agyn"})
        self._sleep = sleep

    def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Any:
        """One request; the decoded body, or `ApiError`. Network failures become an `unavailable` error."""
        try:
            response = self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.HTTPError as error:
            raise ApiError(0, "unavailable", "Cannot reach the Agyn API",
                           f"{method} {self.api_url}{path}: {error or type(error).__name__}") from None
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        return response.json() if response.content else None

    def _retrying(self, method: str, path: str, **kwargs: Any) -> Any:
        """Create and Delete race with Terraform's other parallel calls: a 409 the API marks as caused
        by concurrency is retried (4 attempts, 0.2 s x n apart); validation conflicts are not."""
        attempt = 0
        while True:
            try:
                return self.call(method, path, **kwargs)
            except ApiError as error:
                attempt += 1
                if not (error.status == 409 and error.retryable) or attempt == ATTEMPTS:
                    raise
            self._sleep(BACKOFF_SECONDS * attempt)

    def me(self) -> dict[str, Any]:
        return self.call("GET", "/me")

    def create(self, collection_path: str, body: dict[str, Any]) -> dict[str, Any]:
        # one key for every attempt: a retry of a create that did happen returns the first response
        return self._retrying("POST", collection_path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})

    def get(self, collection_path: str, object_id: str) -> dict[str, Any] | None:
        """The object, or None when it no longer exists (or the caller may no longer see it)."""
        try:
            return self.call("GET", item_path(collection_path, object_id))
        except ApiError as error:
            if error.not_found:
                return None
            raise

    def update(self, collection_path: str, object_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self.call("PATCH", item_path(collection_path, object_id), json=changes)

    def delete(self, collection_path: str, object_id: str) -> None:
        """Delete; an object that is already gone counts as deleted."""
        try:
            self._retrying("DELETE", item_path(collection_path, object_id))
        except ApiError as error:
            if not error.not_found:
                raise

    def list(self, collection_path: str, filters: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every object of a collection matching the filters, page after page."""
        params: dict[str, Any] = {**filters, "page_size": PAGE_SIZE}
        while True:
            page = self.call("GET", collection_path, params=params)
            yield from page["items"]
            if not page.get("next_page_token"):
                return
            params["page_token"] = page["next_page_token"]


def item_path(collection_path: str, object_id: str) -> str:
    return f"{collection_path}/{quote(object_id, safe=':')}"


def report(diags: Diagnostics, error: ApiError, action: str, attributes: set[str], hint: str = "") -> None:
    """Add `error` to `diags`: the API's detail (and `hint`), attached to the attribute each
    `errors[].field` names."""
    summary = f"{action}: {error.title}"
    detail = f"{error.detail}. {hint}" if hint else error.detail
    located = [(path, str(e.get("message", ""))) for e in error.errors
               if (path := _attribute_path(e.get("field"), attributes))]
    if not located:
        diags.add_error(summary, detail)
        return
    first_path, _ = located[0]
    diags.add_error(summary, detail, path=first_path)
    for path, message in located[1:]:
        diags.add_error(summary, f"{'.'.join(path)}: {message}", path=path)


def _attribute_path(name: Any, attributes: set[str]) -> list[str] | None:
    """The attribute a problem's `errors[].field` names: the longest prefix of it that is one of
    `attributes` (dotted paths: `vault.address` → `vault.address` when the block's attributes are
    given, so Terraform shows that line, else `vault`); None when the field is not an attribute (e.g.
    `body`, a header)."""
    if not isinstance(name, str) or not name:
        return None
    parts = name.split(".")
    return next((parts[:end] for end in range(len(parts), 0, -1) if ".".join(parts[:end]) in attributes), None)
