"""RFC 9457 problem details with a stable `code`, and the handlers that turn every failure into one.

Services raise the `ProblemError` subclasses; nothing else decides status codes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from agyn.kit.text import PATTERN_MESSAGES

log = logging.getLogger("agyn.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers
        self.extensions = extensions or {}
        """RFC 9457 extension members (e.g. `existing_id` of an object a create collides with)."""

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {**problem(self.status, self.code, self.title, self.detail, self.errors, instance), **self.extensions}


class InvalidArgument(ProblemError):
    status, code, title = 400, "invalid_argument", "Invalid argument"

    @classmethod
    def field(cls, field: str, message: str) -> InvalidArgument:
        return cls(f"{field}: {message}", errors=[{"field": field, "message": message}])


class Unauthenticated(ProblemError):
    status, code, title = 401, "unauthenticated", "Unauthenticated"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="agyn"'})


class PermissionDenied(ProblemError):
    status, code, title = 403, "permission_denied", "Permission denied"


class NotFound(ProblemError):
    status, code, title = 404, "not_found", "Not found"


class AlreadyExists(ProblemError):
    status, code, title = 409, "already_exists", "Already exists"


class FailedPrecondition(ProblemError):
    status, code, title = 409, "failed_precondition", "Failed precondition"


class UnsupportedMediaType(ProblemError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class PreconditionFailed(ProblemError):
    """An `If-Match` that does not match the current ETag (HTTP 412)."""

    status, code, title = 412, "failed_precondition", "Precondition failed"


class Conflict(ProblemError):
    status, code, title = 409, "conflict", "Conflict"


class UnprocessableIdempotencyKey(ProblemError):
    status, code, title = 422, "invalid_argument", "Idempotency key reused"


class PayloadTooLarge(ProblemError):
    status, code, title = 413, "resource_exhausted", "Payload too large"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    instance: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_path(loc: tuple[Any, ...], kind: str = "") -> str:
    if kind == "json_invalid":
        return "body"  # the location is a character offset, not a field; the message carries it
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


PLAIN_MESSAGES = {
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "uuid_type": "must be a UUID",
    "uuid_parsing": "must be a UUID",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
}
"""Pydantic's wording ("Input should be a valid dictionary") said plainly, as the other rules are."""


def _validation_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "json_invalid":
        loc = error.get("loc", ())
        where = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
        return f"malformed JSON{where}: {error.get('ctx', {}).get('error', 'cannot parse the body')}"
    if kind == "missing":
        return "required"
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") in PATTERN_MESSAGES:
        return PATTERN_MESSAGES[error["ctx"]["pattern"]]
    if kind in PLAIN_MESSAGES:
        return PLAIN_MESSAGES[kind]
    if kind == "literal_error":
        return f"must be one of {error.get('ctx', {}).get('expected', 'the allowed values')}"
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI wraps included routers
        if included is not None:
            yield from _leaf_routes(included.routes)
        else:
            yield route


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path (the router's own 405 names only one route's)."""
    methods: set[str] = set()
    for route in _leaf_routes(request.app.router.routes):
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(request.url.path):
            methods |= set(route_methods)
    return sorted(methods)


def _is_unique_violation(exc: IntegrityError) -> bool:
    """PostgreSQL's SQLSTATE 23505, or SQLite's UNIQUE / PRIMARY KEY constraint failure."""
    if getattr(exc.orig, "sqlstate", None) == "23505":
        return True
    message = str(exc.orig)
    return message.startswith(("UNIQUE constraint failed", "PRIMARY KEY constraint failed"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.to_problem(request.url.path), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_path(tuple(error.get("loc", ())), error.get("type", "")),
             "message": _validation_message(error)}
            for error in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
        body = problem(400, "invalid_argument", "Invalid argument", detail, errors, request.url.path)
        return problem_response(body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthenticated", 403: "permission_denied", 404: "not_found", 405: "invalid_argument",
                409: "conflict", 413: "resource_exhausted", 429: "resource_exhausted"}.get(
            exc.status_code, "invalid_argument" if exc.status_code < 500 else "internal")
        title = {400: "Invalid argument", 401: "Unauthenticated", 403: "Permission denied", 404: "Not found",
                 405: "Method not allowed",
                 413: "Payload too large"}.get(exc.status_code, "Request failed")
        detail, headers = str(exc.detail), dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            if allowed:
                headers["Allow"] = ", ".join(allowed)
                detail = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}"
        body = problem(exc.status_code, code, title, detail, None, request.url.path)
        return problem_response(body, headers or None)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        body = PreconditionFailed("the resource was changed concurrently; read it again and retry")
        return problem_response(body.to_problem(request.url.path))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error", extra={"error": str(exc.orig)})
        if _is_unique_violation(exc):
            # a concurrent request created the same thing between our check and our write
            body: ProblemError = AlreadyExists("a resource with these unique values already exists")
        else:
            body = Conflict("the request conflicts with the current state of another resource")
        # caused by a concurrent request, not by the input: clients (the Terraform provider) may retry
        return problem_response({**body.to_problem(request.url.path), "retryable": True})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        body = problem(500, "internal", "Internal error", "an unexpected error occurred", None, request.url.path)
        return problem_response(body)
