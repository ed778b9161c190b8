"""Cursor pagination over time-ordered ids: stable order, opaque tokens, bounded pages."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from agyn.kit.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    size: int
    after: uuid.UUID | None


def encode_page_token(last_id: uuid.UUID) -> str:
    raw = json.dumps({"v": 1, "after": str(last_id)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> uuid.UUID:
    try:
        padded = token + "=" * (-len(token) % 4)
        data: Any = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["after"]
        if not isinstance(after, str):
            raise TypeError("after is not a string")
        return uuid.UUID(after)
    except (binascii.Error, ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise InvalidArgument.field("page_token", "not a token returned by a previous page") from None


def page_request(
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")] = DEFAULT_PAGE_SIZE,
    page_token: Annotated[str | None, Query(description="next_page_token of the previous page.")] = None,
) -> PageRequest:
    return PageRequest(size=page_size, after=decode_page_token(page_token) if page_token else None)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_page_token: str | None = None


async def paginate(
    session: AsyncSession, statement: Select[Any], id_column: InstrumentedAttribute[Any], page: PageRequest
) -> tuple[list[Any], str | None]:
    """Run `statement` ordered by id after the cursor; fetch one extra row to know if more remain."""
    if page.after is not None:
        statement = statement.where(id_column > page.after)
    rows = list((await session.scalars(statement.order_by(id_column).limit(page.size + 1))).all())
    if len(rows) > page.size:
        rows = rows[: page.size]
        return rows, encode_page_token(getattr(rows[-1], id_column.key))
    return rows, None
