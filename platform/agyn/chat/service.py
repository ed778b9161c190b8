"""Chat: conversations over threads. A conversation is its thread (same id) with a status its
participants set (open or resolved), a summary (by default its first message's first line), and, for
each caller, how many messages they have not read and what its agents are doing.

Who may do what is the thread's rule: its participants read, write and change the status; its
participants and the organization's owners delete (archive) it; a deleted conversation is gone (404)
while its thread keeps its messages.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization import objects
from agyn.authorization.service import AuthorizationService
from agyn.chat import repository
from agyn.chat.activity import activity_statuses
from agyn.chat.models import Conversation
from agyn.chat.schemas import (
    PREVIEW_CHARS,
    ConversationCreate,
    ConversationRead,
    ConversationUpdate,
    MessagePreview,
    StatusFilter,
)
from agyn.kit.db import utcnow
from agyn.kit.errors import NotFound, PermissionDenied
from agyn.kit.http import check_if_match
from agyn.kit.pagination import PageRequest
from agyn.kit.platform import Platform
from agyn.kit.principal import Principal
from agyn.threads import repository as threads_repository
from agyn.threads.models import Message, Thread
from agyn.threads.schemas import MessageCreate
from agyn.threads.service import ThreadsService, participant_room

SOURCE = "chat"


def conversation_room(conversation_id: uuid.UUID) -> str:
    return f"conversation:{conversation_id}"


def default_summary(first: Message | None) -> str | None:
    """The first line of the first message (what a conversation is about, until someone says otherwise)."""
    if first is None:
        return None
    line = next((line.strip() for line in first.body.splitlines() if line.strip()), "")
    return line[:PREVIEW_CHARS] or None


def etag_of(thread: Thread, state: Conversation | None) -> str:
    digest = hashlib.sha256(f"{thread.id}:{thread.version}:{state.version if state else 0}".encode()).hexdigest()
    return f'"{digest[:20]}"'


class ChatService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.threads = platform.get(ThreadsService)
        self.authz = platform.get(AuthorizationService)

    async def create(self, session: AsyncSession, principal: Principal, data: ConversationCreate) -> ConversationRead:
        """A conversation between the caller and `participants`, optionally with a first message."""
        thread = await self.threads.create(session, principal, data.organization_id, data.participants)
        session.add(Conversation(id=thread.id, status="open"))
        await session.flush()
        if data.message is not None:
            # the caller takes part in the thread just created; its tuples apply once this commits
            await self.threads.send(session, principal, thread, MessageCreate(body=data.message), authorized=True)
        [view] = await self.present(session, principal, [(thread, None)])
        return view

    async def get(self, session: AsyncSession, principal: Principal, conversation_id: uuid.UUID) -> Thread:
        """The conversation's thread, if the caller may read it and it is not deleted; else 404."""
        thread = await self.threads.get(session, principal, conversation_id)
        if thread.status == "archived":
            raise NotFound(f"conversation {conversation_id} not found")
        return thread

    async def read(self, session: AsyncSession, principal: Principal, conversation_id: uuid.UUID) -> ConversationRead:
        [view] = await self.present(session, principal, [(await self.get(session, principal, conversation_id), None)])
        return view

    async def list_mine(self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID | None,
                   status: StatusFilter, page: PageRequest) -> tuple[list[ConversationRead], str | None]:
        rows, next_token = await repository.conversations_of(session, principal.identity_id, organization_id,
                                                             status, page)
        return await self.present(session, principal, rows, states_loaded=True), next_token

    async def update(self, session: AsyncSession, principal: Principal, conversation_id: uuid.UUID,
                     data: ConversationUpdate, if_match: str | None) -> ConversationRead:
        """Change the status or the summary (participants only); `conversation.updated` follows."""
        thread = await self.get(session, principal, conversation_id)
        if not await self.authz.check(principal, "participant", objects.thread(thread.id)):
            raise PermissionDenied("only the conversation's participants may change it")
        state = (await repository.states_of(session, [thread.id])).get(thread.id)
        check_if_match(if_match, etag_of(thread, state))
        if state is None:
            state = Conversation(id=thread.id, status="open", summary=None)
        changed = False
        if data.status is not None and data.status != state.status:
            state.status, changed = data.status, True
        if "summary" in data.model_fields_set and (data.summary or None) != state.summary:
            state.summary, changed = data.summary or None, True
        if changed:
            state.updated_at = utcnow()
            session.add(state)
            await session.flush()
            participants = (await threads_repository.participants_of(session, [thread.id]))[thread.id]
            self.platform.events.publish_after_commit(
                session, "conversation.updated", SOURCE,
                rooms=(conversation_room(thread.id), *(participant_room(p) for p in participants)),
                conversation_id=str(thread.id), status=state.status)
        [view] = await self.present(session, principal, [(thread, state)], states_loaded=True)
        return view

    async def delete(self, session: AsyncSession, principal: Principal, conversation_id: uuid.UUID) -> None:
        """Archive the thread: the conversation is gone, its messages stay. Idempotent."""
        thread = await self.threads.get(session, principal, conversation_id)
        if thread.status != "archived":
            await self.threads.archive(session, principal, thread)

    async def send(self, session: AsyncSession, principal: Principal, conversation_id: uuid.UUID,
                   data: MessageCreate) -> Message:
        thread = await self.get(session, principal, conversation_id)
        return await self.threads.send(session, principal, thread, data)

    async def messages(self, session: AsyncSession, principal: Principal, conversation_id: uuid.UUID,
                       page: PageRequest) -> tuple[list[Message], str | None, int]:
        """A page of messages, oldest first, and how many the caller has not read (reading marks nothing)."""
        thread = await self.get(session, principal, conversation_id)
        items, next_token = await threads_repository.messages_of(session, thread.id, page)
        unread = await threads_repository.unacked_counts(session, principal.identity_id, [thread.id])
        return items, next_token, unread.get(thread.id, 0)

    async def mark_read(self, session: AsyncSession, principal: Principal, conversation_id: uuid.UUID) -> int:
        thread = await self.get(session, principal, conversation_id)
        return await self.threads.ack_thread(session, principal, thread.id)

    async def present(self, session: AsyncSession, principal: Principal,
                      rows: Sequence[tuple[Thread, Conversation | None]], *,
                      states_loaded: bool = False) -> list[ConversationRead]:
        """Conversations as the caller sees them, in a fixed number of queries however many there are:
        participants (with their types), unread counts, first and last messages, agents' activity."""
        ids = [thread.id for thread, _ in rows]
        states = {thread.id: state for thread, state in rows if state is not None} if states_loaded else \
            await repository.states_of(session, ids)
        participants = await threads_repository.participants_of(session, ids)
        agents = await threads_repository.agent_participants_of(session, ids)
        unread = await threads_repository.unacked_counts(session, principal.identity_id, ids)
        ends = await threads_repository.first_and_last_messages(session, ids)
        activity = await activity_statuses(session, {i: a for i, a in agents.items() if a},
                                           {thread.id for thread, _ in rows if thread.status == "degraded"})
        views = []
        for thread, _ in rows:
            state, end = states.get(thread.id), ends.get(thread.id)
            last = end.last if end else None
            views.append(ConversationRead(
                id=thread.id, organization_id=thread.organization_id,
                status=state.status if state else "open",  # type: ignore[arg-type]
                summary=(state.summary if state and state.summary else default_summary(end.first if end else None)),
                participants=participants[thread.id], unread_count=unread.get(thread.id, 0),
                activity_status=activity.get(thread.id),
                last_message=MessagePreview(id=last.id, sender_id=last.sender_id, preview=last.body[:PREVIEW_CHARS],
                                            created_at=last.created_at) if last else None,
                created_at=thread.created_at,
                updated_at=max(thread.updated_at, state.updated_at) if state else thread.updated_at,
                etag=etag_of(thread, state)))
        return views
