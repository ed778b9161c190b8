"""Cursor pagination over time-ordered ids: stable order, opaque tokens, bounded pages."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Response
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy import ColumnElement, Select, Text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from agyn.kit.errors import InvalidArgument
from agyn.kit.ids import parsed_id
from agyn.kit.jsonlimits import TooDeep, loads

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    size: int
    after: uuid.UUID | None


@dataclass(frozen=True)
class KeyPageRequest:
    """A page of objects ordered by a string key (those without time-ordered ids, e.g. relationships)."""

    size: int
    after: str | None


def encode_page_token(last: uuid.UUID | str) -> str:
    raw = json.dumps({"v": 1, "after": str(last)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_token() -> InvalidArgument:
    return InvalidArgument.field("page_token", "not a token returned by a previous page")


def decode_page_key(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        data: Any = loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["after"]
        if not isinstance(after, str):
            raise TypeError("after is not a string")
        return after
    except TooDeep as deep:
        raise InvalidArgument.field("page_token", str(deep)) from None
    except (binascii.Error, ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise _bad_token() from None


def decode_page_token(token: str) -> uuid.UUID:
    try:
        return uuid.UUID(decode_page_key(token))
    except ValueError:
        raise _bad_token() from None


PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")]
PageToken = Annotated[str | None, Query(description="next_page_token of the previous page.")]


async def page_request(page_size: PageSize = DEFAULT_PAGE_SIZE, page_token: PageToken = None) -> PageRequest:
    return PageRequest(size=page_size, after=decode_page_token(page_token) if page_token else None)


async def key_page_request(page_size: PageSize = DEFAULT_PAGE_SIZE, page_token: PageToken = None) -> KeyPageRequest:
    return KeyPageRequest(size=page_size, after=decode_page_key(page_token) if page_token else None)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_page_token: str | None = None


def page_response(items: Sequence[bytes], next_page_token: str | None) -> Response:
    """A `Page` whose items are already validated and encoded, written as pydantic writes a `Page`."""
    body = b'{"items":[' + b",".join(items) + b'],"next_page_token":' + to_json(next_page_token) + b"}"
    return Response(body, media_type="application/json")


async def paginate(
    session: AsyncSession, statement: Select[Any], id_column: InstrumentedAttribute[Any], page: PageRequest
) -> tuple[list[Any], str | None]:
    """Run `statement` ordered by id after the cursor; fetch one extra row to know if more remain."""
    rows = list((await session.scalars(_one_page(statement, id_column, page))).all())
    # an object, or an id for `select(Model.id)`
    return _cut(rows, page, lambda last: last if isinstance(last, uuid.UUID) else getattr(last, id_column.key))


async def paginate_ids(
    session: AsyncSession, statement: Select[Any], id_column: ColumnElement[Any], page: PageRequest
) -> tuple[list[uuid.UUID], str | None]:
    """`paginate` for a statement that selects ids only, run on the session's connection (in its
    transaction): a page of ids needs none of the ORM's result processing, and its ids are read as
    the database returns them (`parsed_id`)."""
    connection = await session.connection()
    as_returned = _one_page(statement, id_column, page).with_only_columns(type_coerce(id_column, Text))
    rows = [parsed_id(stored) for stored in (await connection.execute(as_returned)).scalars()]
    return _cut(rows, page, lambda last: last)


def _one_page(statement: Select[Any], id_column: ColumnElement[Any] | InstrumentedAttribute[Any],
              page: PageRequest) -> Select[Any]:
    if page.after is not None:
        statement = statement.where(id_column > page.after)
    return statement.order_by(id_column).limit(page.size + 1)


def _cut(rows: list[T], page: PageRequest, id_of: Callable[[T], uuid.UUID]) -> tuple[list[T], str | None]:
    """The page's rows, and the token of the next page when the extra row says there is one."""
    if len(rows) > page.size:
        rows = rows[: page.size]
        return rows, encode_page_token(id_of(rows[-1]))
    return rows, None


def paginate_by_key(items: Iterable[T], key: Callable[[T], str], page: KeyPageRequest) -> tuple[list[T], str | None]:
    """Page through objects held in memory (e.g. tuples read from the authorization store) by `key`."""
    ordered = sorted((item for item in items if page.after is None or key(item) > page.after), key=key)
    if len(ordered) > page.size:
        ordered = ordered[: page.size]
        return ordered, encode_page_token(key(ordered[-1]))
    return ordered, None
