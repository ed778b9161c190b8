from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from agyn.chat.activity import ActivityStatus
from agyn.chat.models import SUMMARY_MAX
from agyn.kit.http import ReadSchema, Schema
from agyn.kit.pagination import Page
from agyn.kit.text import TRIMMED_OR_EMPTY_PATTERN
from agyn.threads.schemas import MAX_PARTICIPANTS, MessageRead, ParticipantRef

ConversationStatus = Literal["open", "resolved"]
StatusFilter = Literal["open", "resolved", "all"]
PREVIEW_CHARS = 200


class ConversationCreate(Schema):
    organization_id: uuid.UUID
    participants: list[ParticipantRef] = Field(
        default_factory=list, max_length=MAX_PARTICIPANTS,
        description="Identity ids or @nicknames of the organization (users, agents, apps); you take part "
                    "without being listed.")
    message: str | None = Field(default=None, description="A first message, sent by you.")


class ConversationUpdate(Schema):
    status: ConversationStatus | None = None
    summary: Annotated[str, StringConstraints(max_length=SUMMARY_MAX, pattern=TRIMMED_OR_EMPTY_PATTERN)] | None = Field(
        default=None, description="Empty or null: back to the first message's first line.")


class MessagePreview(ReadSchema):
    id: uuid.UUID
    sender_id: uuid.UUID
    preview: str = Field(description=f"The body's first {PREVIEW_CHARS} characters.")
    created_at: datetime


class ConversationRead(ReadSchema):
    id: uuid.UUID = Field(description="The conversation's id, which is its thread's.")
    organization_id: uuid.UUID
    status: ConversationStatus
    summary: str | None
    participants: list[uuid.UUID]
    unread_count: int = Field(description="Messages sent to you here that you have not read (acknowledged).")
    activity_status: ActivityStatus | None = Field(
        description="What its agents are doing; null without agent participants.")
    last_message: MessagePreview | None
    created_at: datetime
    updated_at: datetime
    etag: str


class ConversationMessages(Page[MessageRead]):
    unread_count: int
