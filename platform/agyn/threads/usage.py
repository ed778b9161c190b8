"""Threads as a metering producer: one COUNT per thread created and one per message sent.

Each record's idempotency key is the thing it counts (`thread:<id>`, `message:<id>`), so recording
it again — a retried hook, a replayed request — replaces it instead of adding to it.
"""

from __future__ import annotations

import uuid

from agyn.kit.principal import Principal
from agyn.metering.records import Unit, UsageRecord, micros
from agyn.threads.models import Message, Thread

PRODUCER = "threads"


def thread_created(thread: Thread, creator: Principal) -> UsageRecord:
    return UsageRecord(organization_id=thread.organization_id, idempotency_key=f"thread:{thread.id}",
                       producer=PRODUCER, unit=Unit.COUNT, value=micros(1), timestamp=thread.created_at,
                       labels={"resource": "thread", "resource_id": str(thread.id), "kind": "thread",
                               "thread_id": str(thread.id), "identity_id": str(creator.identity_id),
                               "identity_type": str(creator.identity_type)})


def message_sent(message: Message, organization_id: uuid.UUID, sender: Principal) -> UsageRecord:
    return UsageRecord(organization_id=organization_id, idempotency_key=f"message:{message.id}",
                       producer=PRODUCER, unit=Unit.COUNT, value=micros(1), timestamp=message.created_at,
                       labels={"resource": "message", "resource_id": str(message.id), "kind": "message",
                               "thread_id": str(message.thread_id), "message_id": str(message.id),
                               "identity_id": str(sender.identity_id),
                               "identity_type": str(sender.identity_type)})
