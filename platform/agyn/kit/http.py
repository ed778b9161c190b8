"""HTTP conventions shared by every router (see docs/architecture.md, "How a request flows").

`TransactionalRoute` is the unit of work: a request's writes commit together after the endpoint
succeeded and before the response leaves, or not at all. It also applies `Idempotency-Key`, inside
the same transaction, so a retried POST can never create twice.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from agyn.kit.crypto import Cipher
from agyn.kit.db import Base, commit, discard_after_commit, has_work, utcnow
from agyn.kit.errors import (
    InvalidArgument,
    PreconditionFailed,
    UnprocessableIdempotencyKey,
)
from agyn.kit.platform import platform_of

IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
NUL_MESSAGE = "must not contain NUL characters (U+0000)"


def contains_nul(value: Any) -> bool:
    """Whether a string, or any string in a list or a JSON object, holds NUL (PostgreSQL text cannot)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    return False


class Schema(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped; text holds no NUL,
    so that every backend stores what it accepted."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if contains_nul(value):
            raise ValueError(NUL_MESSAGE)
        return value


async def reject_nul_in_query(request: Request) -> None:
    """Query parameters follow the rule of bodies (`Schema`): no NUL in text."""
    for name, value in request.query_params.multi_items():
        if contains_nul(value):
            raise InvalidArgument.field(name, NUL_MESSAGE)


class ReadSchema(BaseModel):
    """Base of responses built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class ResourceRead(ReadSchema):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    etag: str


def validated_json(schema: type[BaseModel], body: dict[str, Any]) -> bytes:
    """A response body validated by `schema` and encoded, as FastAPI does for a `response_model`."""
    return schema.__pydantic_serializer__.to_json(schema.model_validate(body), by_alias=True)


class IdempotencyRecord(Base):
    """The first response to a POST carrying an `Idempotency-Key`, replayed for 24 hours.

    The body is kept encrypted: a first response may hold a value shown only once (a token).
    """

    __tablename__ = "idempotency_records"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    media_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def request_session(request: Request) -> AsyncSession:
    """The request's session, opened on first use; `TransactionalRoute` commits or discards it."""
    session: AsyncSession | None = getattr(request.state, "db_session", None)
    if session is None:
        session = platform_of(request).database.sessionmaker()
        request.state.db_session = session
    return session


async def get_session(request: Request) -> AsyncSession:
    """The dependency form of `request_session` (async, so FastAPI does not hop to a thread)."""
    return request_session(request)


def _idempotency_scope(request: Request, key: str) -> str:
    caller = request.headers.get("authorization", "")
    material = "\n".join((caller, request.method, request.url.path, key))
    return hashlib.sha256(material.encode()).hexdigest()


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def transactional_handler(request: Request) -> Response:
            idempotency_key = request.headers.get(IDEMPOTENCY_HEADER) if request.method == "POST" else None
            try:
                if idempotency_key is not None:
                    return await _idempotent(request, idempotency_key, handler)
                response = await handler(request)
                session: AsyncSession | None = getattr(request.state, "db_session", None)
                if session is not None and response.status_code < 400 and has_work(session):
                    await commit(session)
                return response
            finally:
                session = getattr(request.state, "db_session", None)
                if session is not None:
                    await session.close()

        return transactional_handler


async def _idempotent(
    request: Request, key: str, handler: Callable[[Request], Coroutine[Any, Any, Response]]
) -> Response:
    if not 1 <= len(key) <= 255:
        raise InvalidArgument.field("Idempotency-Key", "must be 1 to 255 characters")
    scope = _idempotency_scope(request, key)
    cipher = platform_of(request).require_cipher()
    request_hash = hashlib.sha256(await request.body()).hexdigest()
    session = request_session(request)
    clock = platform_of(request).clock
    record = await session.get(IdempotencyRecord, scope)
    if record is not None and record.created_at < clock.now() - IDEMPOTENCY_TTL:
        await session.delete(record)
        await session.flush()
        record = None
    if record is not None:
        return _replay(record, request_hash, cipher)
    try:
        response = await handler(request)
        if response.status_code < 400:
            session.add(
                IdempotencyRecord(
                    scope=scope,
                    request_hash=request_hash,
                    status_code=response.status_code,
                    media_type=response.media_type,
                    body=cipher.encrypt(bytes(response.body).decode(), scope.encode()),
                    etag=response.headers.get("etag"),
                    created_at=clock.now(),
                )
            )
            await session.flush()  # collides with (or waits for) a concurrent first request's record
    except Exception:
        replay = await _replay_concurrent(session, scope, request_hash, cipher)
        if replay is None:
            raise
        return replay
    if response.status_code >= 400:
        return await _replay_concurrent(session, scope, request_hash, cipher) or response
    await commit(session)
    return response


async def _replay_concurrent(session: AsyncSession, scope: str, request_hash: str,
                             cipher: Cipher) -> Response | None:
    """After a failure: did a concurrent request with the same key succeed meanwhile?

    Then this request is a retry of it (it failed only because the first one's work or record
    already exists) and gets the first response; otherwise the failure stands.
    """
    await session.rollback()
    discard_after_commit(session)
    record = await session.get(IdempotencyRecord, scope)
    return _replay(record, request_hash, cipher) if record is not None else None


def _replay(record: IdempotencyRecord, request_hash: str, cipher: Cipher) -> Response:
    if record.request_hash != request_hash:
        raise UnprocessableIdempotencyKey(
            "this Idempotency-Key was already used with a different request body; use a new key"
        )
    headers = {REPLAYED_HEADER: "true"}
    if record.etag:
        headers["ETag"] = record.etag
    body = cipher.decrypt(record.body, record.scope.encode())
    return Response(body, status_code=record.status_code, media_type=record.media_type, headers=headers)


IfMatch = Annotated[
    str | None, Header(alias="If-Match", description="ETag the change is based on; 412 when stale.")
]


def check_if_match(if_match: str | None, etag: str) -> None:
    """Honour `If-Match` (RFC 9110): `*` or any listed tag equal to the current one."""
    if if_match is None:
        return
    candidates = {tag.strip() for tag in if_match.split(",")}  # strong comparison: W/ tags never match
    if "*" not in candidates and etag not in candidates:
        raise PreconditionFailed(f"If-Match {if_match} does not match the current ETag {etag}")
