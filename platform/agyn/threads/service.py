"""Threads: who may create one and with whom, who may send to it, and at-least-once delivery — one
read-state row per recipient, unacknowledged until that recipient acks it.

Rules: creating takes `can_create_thread` on the organization (its members, and apps installed with
`thread:create`); the creator takes part. Participants are identity ids or `@nicknames` of the
organization; adding an agent takes `can_initiate` on it (internal agents: any member; private ones:
their role holders). Sending takes `can_write` (participants, and apps installed with `thread:write`);
archived and degraded threads refuse it; a message's files must be of the thread's organization and
readable by the sender, and then the thread's readers may read them. Reading never acknowledges; only
a recipient acknowledges its own messages, and doing it twice changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.agents.models import Agent
from agyn.authorization import objects
from agyn.authorization.engine import TupleKey
from agyn.authorization.service import AuthorizationService
from agyn.files.service import FilesService
from agyn.identity.service import IdentityService
from agyn.kit.db import after_commit, utcnow
from agyn.kit.errors import FailedPrecondition, InvalidArgument, NotFound, PayloadTooLarge, PermissionDenied
from agyn.kit.pagination import PageRequest
from agyn.kit.platform import Platform
from agyn.kit.principal import IdentityType, Principal
from agyn.metering.records import UsageRecord
from agyn.metering.service import record_usage
from agyn.settings import Settings
from agyn.threads import repository, usage
from agyn.threads.models import Message, Participant, Recipient, Thread
from agyn.threads.schemas import MessageCreate

PARTICIPANT_TYPES = (IdentityType.user, IdentityType.agent, IdentityType.app)
SOURCE = "threads"


def participant_room(identity_id: uuid.UUID) -> str:
    """The real-time room of one participant's deliveries."""
    return f"thread_participant:{identity_id}"


class ThreadsService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.authz = platform.get(AuthorizationService)
        self.identity = platform.get(IdentityService)
        self.files = platform.get(FilesService)
        self.settings = platform.get(Settings).threads

    # --- threads ------------------------------------------------------------------------------

    async def create(self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID,
                     participants: Sequence[str]) -> Thread:
        """A thread in the organization between the caller and `participants`."""
        organization = objects.organization(organization_id)
        if not await self.authz.check(principal, "can_create_thread", organization):
            if await self.authz.check(principal, "can_view", organization):
                raise PermissionDenied("you may not create threads in this organization")
            raise InvalidArgument.field("organization_id", f"no organization {organization_id} exists, or you "
                                                           "cannot see it")
        resolved = await self._resolve(session, principal, organization_id, participants)
        members = list(dict.fromkeys([principal.identity_id, *resolved]))
        thread = Thread(organization_id=organization_id, status="active", created_by=principal.identity_id)
        session.add(thread)
        await session.flush()
        session.add_all(Participant(thread_id=thread.id, identity_id=identity_id) for identity_id in members)
        await session.flush()
        name = objects.thread(thread.id)
        await self.authz.write(session, [TupleKey(organization, "org", name),
                                         *(TupleKey(objects.identity(i), "participant", name) for i in members)])
        record = usage.thread_created(thread, principal)
        after_commit(session, lambda: self._record(record), what="usage thread")
        return thread

    async def get(self, session: AsyncSession, principal: Principal, thread_id: uuid.UUID) -> Thread:
        """A thread the caller may read (its participants; the organization's owners); else 404."""
        thread = await session.get(Thread, thread_id)
        if thread is None or not await self.authz.check(principal, "can_read", objects.thread(thread_id)):
            raise NotFound(f"thread {thread_id} not found")
        return thread

    async def list_mine(self, session: AsyncSession, principal: Principal,
                        page: PageRequest) -> tuple[list[Thread], str | None]:
        return await repository.threads_of(session, principal.identity_id, page)

    async def participants(self, session: AsyncSession, threads: Sequence[Thread]) -> dict[uuid.UUID, list[uuid.UUID]]:
        return await repository.participants_of(session, [thread.id for thread in threads])

    async def add_participant(self, session: AsyncSession, principal: Principal, thread: Thread,
                              participant: str) -> uuid.UUID:
        """Add one participant (idempotent); returns its identity id."""
        name = objects.thread(thread.id)
        if not await self.authz.check(principal, "can_add_participant", name):
            raise PermissionDenied("you may not add participants to this thread: only its participants may")
        self._require_open(thread, "add participants to")
        [identity_id] = await self._resolve(session, principal, thread.organization_id, [participant],
                                            field="participant")
        if not await repository.is_participant(session, thread.id, identity_id):
            session.add(Participant(thread_id=thread.id, identity_id=identity_id))
            await session.flush()
            await self.authz.write(session, [TupleKey(objects.identity(identity_id), "participant", name)])
        return identity_id

    async def archive(self, session: AsyncSession, principal: Principal, thread: Thread) -> Thread:
        """Archive (soft-delete) a thread: it keeps its messages and refuses new ones. Idempotent."""
        if not await self.authz.check(principal, "can_archive", objects.thread(thread.id)):
            raise PermissionDenied("you may not archive this thread: only its participants and the "
                                   "organization's owners may")
        if thread.status != "archived":
            thread.status = "archived"
            await session.flush()
        return thread

    async def degrade(self, session: AsyncSession, thread_id: uuid.UUID, reason: str) -> None:
        """For the platform itself (the orchestrator): the thread's agents cannot run; it refuses sends.
        Idempotent; an archived thread stays archived."""
        thread = await session.get(Thread, thread_id)
        if thread is not None and thread.status == "active":
            thread.status, thread.degraded_reason = "degraded", reason[:200]
            await session.flush()

    # --- messages -----------------------------------------------------------------------------

    async def send(self, session: AsyncSession, principal: Principal, thread: Thread, data: MessageCreate, *,
                   authorized: bool = False, idempotency_key: str | None = None) -> Message:
        return (await self._send(session, principal, thread, data, authorized, idempotency_key))[0]

    async def _send(self, session: AsyncSession, principal: Principal, thread: Thread, data: MessageCreate,
                    authorized: bool, idempotency_key: str | None) -> tuple[Message, bool]:
        """Send a message: one unacknowledged delivery per participant but the sender, and
        `message.created` to each of their rooms once committed. `authorized` skips the check for a
        thread the caller created in this same transaction.

        With `idempotency_key`, the sender's earlier message sent with that key, if there is one, is the
        answer and nothing is sent: whichever token the sender used (an agent's reply posted again by
        the workload that replaced a crashed one), whatever the body (a model asked twice answers twice
        differently; the first answer stands). Returns the message and whether it was sent now."""
        if not authorized and not await self.authz.check(principal, "can_write", objects.thread(thread.id)):
            if await self.authz.check(principal, "can_read", objects.thread(thread.id)):
                raise PermissionDenied("you may not send to this thread: only its participants may")
            raise NotFound(f"thread {thread.id} not found")
        self._check_body(data.body)
        if idempotency_key is not None and (
                sent := await repository.sent_with_key(session, thread.id, principal.identity_id, idempotency_key)):
            await self._acknowledge(session, principal, thread, data)
            return sent, False
        self._require_open(thread, "send to")
        await self.files.attach(session, principal, thread.id, thread.organization_id, data.file_ids)
        message = Message(thread_id=thread.id, sender_id=principal.identity_id, body=data.body,
                          file_ids=[str(file_id) for file_id in data.file_ids], created_at=utcnow(),
                          idempotency_key=idempotency_key)
        if idempotency_key is None:
            session.add(message)
            await session.flush()
        else:
            try:
                async with session.begin_nested():
                    session.add(message)
                    await session.flush()
            except IntegrityError:
                # the same key sent concurrently: the unique index waited for the other transaction
                if not (sent := await repository.sent_with_key(session, thread.id, principal.identity_id,
                                                               idempotency_key)):
                    raise
                await self._acknowledge(session, principal, thread, data)
                return sent, False
        participants = (await repository.participants_of(session, [thread.id]))[thread.id]
        recipients = repository.recipients(participants, principal.identity_id)
        session.add_all(Recipient(message_id=message.id, participant_id=recipient, thread_id=thread.id)
                        for recipient in recipients)
        await session.flush()
        await self._acknowledge(session, principal, thread, data)
        self.platform.events.publish_after_commit(
            session, "message.created", SOURCE, rooms=tuple(participant_room(r) for r in recipients),
            thread_id=str(thread.id), message_id=str(message.id), sender_id=str(principal.identity_id))
        record = usage.message_sent(message, thread.organization_id, principal)
        after_commit(session, lambda: self._record(record), what="usage message")
        return message, True

    @staticmethod
    async def _acknowledge(session: AsyncSession, principal: Principal, thread: Thread, data: MessageCreate) -> None:
        if data.acknowledges:
            await repository.ack_messages(session, principal.identity_id, set(data.acknowledges), thread.id)

    async def send_to(self, session: AsyncSession, principal: Principal, thread_id: uuid.UUID,
                      data: MessageCreate, idempotency_key: str | None = None) -> tuple[Message, bool]:
        """`send` to a thread by id; returns the message and whether it was sent now (not a replay)."""
        thread = await session.get(Thread, thread_id)
        if thread is None:
            raise NotFound(f"thread {thread_id} not found")
        return await self._send(session, principal, thread, data, False, idempotency_key)

    async def messages(self, session: AsyncSession, principal: Principal, thread_id: uuid.UUID,
                       page: PageRequest) -> tuple[list[Message], str | None]:
        """A thread's messages, oldest first; reading acknowledges nothing."""
        await self.get(session, principal, thread_id)
        return await repository.messages_of(session, thread_id, page)

    async def unacked(self, session: AsyncSession, principal: Principal, thread_id: uuid.UUID | None,
                      page: PageRequest) -> tuple[list[Message], str | None]:
        if principal.scope is not None:  # a workload reads its own thread's messages only
            if thread_id is not None and thread_id != principal.scope.thread_id:
                raise NotFound(f"thread {thread_id} not found")
            thread_id = principal.scope.thread_id
        return await repository.unacked_for(session, principal.identity_id, thread_id, page)

    async def unacked_counts(self, session: AsyncSession, principal: Principal) -> dict[uuid.UUID, int]:
        return await repository.unacked_counts(session, principal.identity_id)

    async def ack(self, session: AsyncSession, principal: Principal, message_ids: Sequence[uuid.UUID]) -> int:
        """Acknowledge the caller's own deliveries of these messages; anyone else's stay as they are. A
        workload acknowledges in its own thread only."""
        thread_id = principal.scope.thread_id if principal.scope is not None else None
        return await repository.ack_messages(session, principal.identity_id, set(message_ids), thread_id)

    async def ack_thread(self, session: AsyncSession, principal: Principal, thread_id: uuid.UUID) -> int:
        return await repository.ack_thread(session, principal.identity_id, thread_id)

    async def _record(self, record: UsageRecord) -> None:
        """Metering, once the write it counts is committed (a rolled-back one counts nothing)."""
        record_usage(self.platform, record)

    # --- rules --------------------------------------------------------------------------------

    def _check_body(self, body: str) -> None:
        if not body.strip():
            raise InvalidArgument.field("body", "must not be empty")
        if len(body) > self.settings.max_body_chars:
            raise PayloadTooLarge(f"body: {len(body)} characters is more than the {self.settings.max_body_chars} "
                                  "a message may hold; split it, or send the text as a file")

    @staticmethod
    def _require_open(thread: Thread, action: str) -> None:
        if thread.status == "archived":
            raise FailedPrecondition(f"thread {thread.id} is archived; you cannot {action} it (start a new one)")
        if thread.status == "degraded":
            raise FailedPrecondition(f"thread {thread.id} is degraded ({thread.degraded_reason or 'no reason'}); you "
                                     f"cannot {action} it (start a new one)")

    async def _resolve(self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID,
                       references: Sequence[str], field: str = "participants") -> list[uuid.UUID]:
        """Identity ids of `references` (ids or @nicknames), each an identity of the organization a
        thread may hold; agents also need the caller's `can_initiate`."""
        by_reference: dict[str, uuid.UUID] = {}
        for reference in dict.fromkeys(references):
            if reference.startswith("@"):
                found = await self.identity.resolve_nickname(session, organization_id, reference[1:])
                if found is None:
                    raise InvalidArgument.field(field, f"{reference}: no one in this organization has this nickname")
                by_reference[reference] = found
            else:
                try:
                    by_reference[reference] = uuid.UUID(reference)
                except ValueError:
                    raise InvalidArgument.field(field, f"{reference!r} is neither an identity id nor an @nickname") \
                        from None
        types = await self.identity.get_types(session, by_reference.values())
        organization = objects.organization(organization_id)
        for reference, identity_id in by_reference.items():
            kind = types.get(identity_id)
            unknown = InvalidArgument.field(field, f"{reference}: no such identity in this organization")
            if kind is None:
                raise unknown
            if kind not in PARTICIPANT_TYPES:
                raise InvalidArgument.field(field, f"{reference}: a {kind.value} cannot take part in a thread")
            if kind == IdentityType.agent:
                agents = Agent.__table__.c  # a registry-built model: its columns are declared at run time
                agent_organization = await session.scalar(select(agents.organization_id)
                                                          .where(agents.id == identity_id))
                if agent_organization != organization_id:
                    raise unknown
                if identity_id != principal.identity_id and \
                        not await self.authz.check(principal, "can_initiate", objects.agent(identity_id)):
                    raise PermissionDenied(f"you may not start conversations with agent {reference}: it is private "
                                           "to its owners, maintainers and participants")
            elif not await self.authz.check(Principal(identity_id, kind), "can_join_threads", organization):
                raise unknown
        return list(by_reference.values())
