from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from agyn.kit.http import ReadSchema, ResourceRead, Schema

ThreadStatus = Literal["active", "archived", "degraded"]
ParticipantRef = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
"""An identity id, or `@nickname` in the thread's organization."""
MAX_PARTICIPANTS = 100
MAX_FILES = 20
MAX_ACK = 1000


class ThreadCreate(Schema):
    organization_id: uuid.UUID
    participants: list[ParticipantRef] = Field(
        default_factory=list, max_length=MAX_PARTICIPANTS,
        description="Identity ids or @nicknames of the organization; you take part without being listed.")


class ParticipantAdd(Schema):
    participant: ParticipantRef


class ThreadRead(ResourceRead):
    organization_id: uuid.UUID
    status: ThreadStatus
    degraded_reason: str | None
    participants: list[uuid.UUID]


class MessageCreate(Schema):
    body: str = Field(description="The text; not empty, at most AGYN_THREADS__MAX_BODY_CHARS characters.")
    file_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_FILES)
    acknowledges: list[uuid.UUID] = Field(
        default_factory=list, max_length=MAX_ACK,
        description="Messages sent to you in this thread that this one answers: acknowledged in the same "
                    "transaction, so an answer is never posted without them being acknowledged, nor the other way.")


class MessageRead(ReadSchema):
    id: uuid.UUID
    thread_id: uuid.UUID
    sender_id: uuid.UUID
    body: str
    file_ids: list[uuid.UUID]
    created_at: datetime


class AckRequest(Schema):
    message_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_ACK)


class AckResult(ReadSchema):
    acked: int = Field(description="How many of these messages were unacknowledged for you until now.")
