from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Query, Response, status

from agyn.api.dependencies import PrincipalDep, SessionDep, service, with_etag
from agyn.kit.http import IDEMPOTENCY_HEADER, REPLAYED_HEADER, TransactionalRoute
from agyn.kit.pagination import Page, PageRequest, page_request
from agyn.kit.routing import ModuleRouter
from agyn.threads.models import Message, Thread
from agyn.threads.schemas import (
    AckRequest,
    AckResult,
    MessageCreate,
    MessageRead,
    ParticipantAdd,
    ThreadCreate,
    ThreadRead,
)
from agyn.threads.service import ThreadsService

router = ModuleRouter(prefix="/api/v1", route_class=TransactionalRoute)
PageDep = Annotated[PageRequest, Depends(page_request)]
Threads = Annotated[ThreadsService, Depends(service(ThreadsService))]


def thread_read(thread: Thread, participants: list[uuid.UUID]) -> ThreadRead:
    return ThreadRead(id=thread.id, created_at=thread.created_at, updated_at=thread.updated_at, etag=thread.etag,
                      organization_id=thread.organization_id, status=thread.status,  # type: ignore[arg-type]
                      degraded_reason=thread.degraded_reason, participants=participants)


async def _present(threads: ThreadsService, session: SessionDep, thread: Thread, response: Response) -> ThreadRead:
    participants = await threads.participants(session, [thread])
    return thread_read(with_etag(response, thread), participants[thread.id])


def messages_page(items: list[Message], next_token: str | None) -> Page[MessageRead]:
    return Page(items=[MessageRead.model_validate(m) for m in items], next_page_token=next_token)


@router.post("/threads", status_code=status.HTTP_201_CREATED, response_model=ThreadRead, tags=["threads"],
             summary="Create a thread in an organization, with participants by id or @nickname")
async def create_thread(data: ThreadCreate, principal: PrincipalDep, threads: Threads, session: SessionDep,
                        response: Response) -> ThreadRead:
    thread = await threads.create(session, principal, data.organization_id, data.participants)
    return await _present(threads, session, thread, response)


@router.get("/threads", response_model=Page[ThreadRead], tags=["threads"],
            summary="List the threads you take part in, oldest first")
async def list_threads(principal: PrincipalDep, threads: Threads, session: SessionDep,
                       page: PageDep) -> Page[ThreadRead]:
    items, next_token = await threads.list_mine(session, principal, page)
    participants = await threads.participants(session, items)
    return Page(items=[thread_read(t, participants[t.id]) for t in items], next_page_token=next_token)


@router.get("/threads/{thread_id}", response_model=ThreadRead, tags=["threads"], summary="Get a thread")
async def get_thread(thread_id: uuid.UUID, principal: PrincipalDep, threads: Threads, session: SessionDep,
                     response: Response) -> ThreadRead:
    thread = await threads.get(session, principal, thread_id)
    return await _present(threads, session, thread, response)


@router.post("/threads/{thread_id}/participants", response_model=ThreadRead, tags=["threads"],
             summary="Add a participant (id or @nickname); adding one already there changes nothing")
async def add_participant(thread_id: uuid.UUID, data: ParticipantAdd, principal: PrincipalDep, threads: Threads,
                          session: SessionDep, response: Response) -> ThreadRead:
    thread = await threads.get(session, principal, thread_id)
    await threads.add_participant(session, principal, thread, data.participant)
    return await _present(threads, session, thread, response)


@router.post("/threads/{thread_id}/archive", response_model=ThreadRead, tags=["threads"],
             summary="Archive a thread: it keeps its messages and refuses new ones")
async def archive_thread(thread_id: uuid.UUID, principal: PrincipalDep, threads: Threads, session: SessionDep,
                         response: Response) -> ThreadRead:
    thread = await threads.archive(session, principal, await threads.get(session, principal, thread_id))
    return await _present(threads, session, thread, response)


@router.post("/threads/{thread_id}/messages", status_code=status.HTTP_201_CREATED, response_model=MessageRead,
             tags=["threads"], summary="Send a message (honours Idempotency-Key: one message per sender and key in "
                                       "a thread, whichever of the sender's tokens sends it)")
async def send_message(thread_id: uuid.UUID, data: MessageCreate, principal: PrincipalDep, threads: Threads,
                       session: SessionDep, response: Response,
                       idempotency_key: Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)] = None) -> MessageRead:
    message, sent_now = await threads.send_to(session, principal, thread_id, data, idempotency_key)
    if not sent_now:
        response.headers[REPLAYED_HEADER] = "true"
    return MessageRead.model_validate(message)


@router.get("/threads/{thread_id}/messages", response_model=Page[MessageRead], tags=["threads"],
            summary="List a thread's messages, oldest first (reading acknowledges nothing)")
async def list_messages(thread_id: uuid.UUID, principal: PrincipalDep, threads: Threads, session: SessionDep,
                        page: PageDep) -> Page[MessageRead]:
    return messages_page(*await threads.messages(session, principal, thread_id, page))


@router.get("/me/unacked-messages", response_model=Page[MessageRead], tags=["threads"],
            summary="Messages sent to you that you have not acknowledged, oldest first")
async def unacked_messages(principal: PrincipalDep, threads: Threads, session: SessionDep, page: PageDep,
                           thread_id: Annotated[uuid.UUID | None, Query()] = None) -> Page[MessageRead]:
    return messages_page(*await threads.unacked(session, principal, thread_id, page))


@router.get("/me/unacked-counts", response_model=dict[uuid.UUID, int], tags=["threads"],
            summary="How many messages you have not acknowledged, per thread (threads with none are absent)")
async def unacked_counts(principal: PrincipalDep, threads: Threads, session: SessionDep) -> dict[uuid.UUID, int]:
    return await threads.unacked_counts(session, principal)


@router.post("/me/ack", response_model=AckResult, tags=["threads"],
             summary="Acknowledge messages sent to you (idempotent; others' deliveries are untouched)")
async def ack_messages(data: AckRequest, principal: PrincipalDep, threads: Threads, session: SessionDep) -> AckResult:
    return AckResult(acked=await threads.ack(session, principal, data.message_ids))
