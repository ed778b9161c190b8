"""The OpenAPI document, with every problem response the server can give documented on every operation.

The routes declare only their success; the failures come from one place (the kit's problem+json
handlers), so they are documented here, once, for all operations: 400, 401, 403, 404, 409, 412 and
413 with the `Problem` schema, and 422 on POST (an `Idempotency-Key` reused with another body).
FastAPI's own 422 `HTTPValidationError` is dropped: validation errors are answered with 400.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from agyn.kit.errors import PROBLEM_MEDIA_TYPE
from agyn.kit.jsonlimits import MAX_JSON_DEPTH

PROBLEM_RESPONSES = {
    "400": "Invalid argument: a malformed value or body, a reference to an object that does not exist, JSON "
           f"nested deeper than {MAX_JSON_DEPTH} levels (code invalid_argument).",
    "401": "Missing or invalid credentials (code unauthenticated).",
    "403": "The caller sees the object but may not do this (code permission_denied).",
    "404": "Not found, or not visible to the caller (code not_found).",
    "409": "Conflicts with the current state: already exists, still in use, the last owner (codes already_exists, "
           "failed_precondition, conflict).",
    "412": "If-Match does not match the current ETag (code failed_precondition).",
    "413": "The body exceeds the size limit (code resource_exhausted).",
}
IDEMPOTENCY_REUSED = "The Idempotency-Key was already used with a different body (code invalid_argument)."
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: `code` is stable, `detail` is for people.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
        "retryable": {"type": "boolean", "description": "Caused by a concurrent request: retrying may succeed."},
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def add_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Document the problem responses on every operation of `document` (in place; returned)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            validation = responses.get("422", {}).get("content", {}).get("application/json", {})
            if validation.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
            for status, description in PROBLEM_RESPONSES.items():
                responses.setdefault(status, _problem(description))
            if method == "post":
                responses.setdefault("422", _problem(IDEMPOTENCY_REUSED))
    serialized = repr(document["paths"])
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"/{unused}'" not in serialized:
            schemas.pop(unused, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the document with the problem responses (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                   description=app.description, routes=app.routes, tags=app.openapi_tags,
                                   servers=app.servers)
            app.openapi_schema = add_problem_responses(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise it
