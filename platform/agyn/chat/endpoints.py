from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response, status

from agyn.api.dependencies import PrincipalDep, SessionDep, service
from agyn.chat.schemas import (
    ConversationCreate,
    ConversationMessages,
    ConversationRead,
    ConversationUpdate,
    StatusFilter,
)
from agyn.chat.service import ChatService
from agyn.kit.http import IfMatch, TransactionalRoute
from agyn.kit.pagination import Page, PageRequest, page_request
from agyn.kit.routing import ModuleRouter
from agyn.threads.schemas import AckResult, MessageCreate, MessageRead

router = ModuleRouter(prefix="/api/v1", route_class=TransactionalRoute)
PageDep = Annotated[PageRequest, Depends(page_request)]
Chat = Annotated[ChatService, Depends(service(ChatService))]


def _etag(response: Response, view: ConversationRead) -> ConversationRead:
    response.headers["ETag"] = view.etag
    return view


@router.post("/conversations", status_code=status.HTTP_201_CREATED, response_model=ConversationRead,
             tags=["conversations"],
             summary="Start a conversation with users and agents (by id or @nickname), optionally with a message")
async def create_conversation(data: ConversationCreate, principal: PrincipalDep, chat: Chat, session: SessionDep,
                              response: Response) -> ConversationRead:
    return _etag(response, await chat.create(session, principal, data))


@router.get("/conversations", response_model=Page[ConversationRead], tags=["conversations"],
            summary="Your conversations, newest first, each with your unread count, its agents' activity and "
                    "its last message")
async def list_conversations(
    principal: PrincipalDep, chat: Chat, session: SessionDep, page: PageDep,
    organization_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[StatusFilter, Query(description="open (default), resolved or all")] = "open",
) -> Page[ConversationRead]:
    items, next_token = await chat.list_mine(session, principal, organization_id, status, page)
    return Page(items=items, next_page_token=next_token)


@router.get("/conversations/{conversation_id}", response_model=ConversationRead, tags=["conversations"],
            summary="Get a conversation")
async def get_conversation(conversation_id: uuid.UUID, principal: PrincipalDep, chat: Chat, session: SessionDep,
                           response: Response) -> ConversationRead:
    return _etag(response, await chat.read(session, principal, conversation_id))


@router.patch("/conversations/{conversation_id}", response_model=ConversationRead, tags=["conversations"],
              summary="Resolve or reopen a conversation, or change its summary (participants)")
async def update_conversation(conversation_id: uuid.UUID, data: ConversationUpdate, principal: PrincipalDep,
                              chat: Chat, session: SessionDep, response: Response,
                              if_match: IfMatch = None) -> ConversationRead:
    return _etag(response, await chat.update(session, principal, conversation_id, data, if_match))


@router.delete("/conversations/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["conversations"],
               summary="Delete a conversation: its thread is archived and keeps its messages")
async def delete_conversation(conversation_id: uuid.UUID, principal: PrincipalDep, chat: Chat,
                              session: SessionDep) -> Response:
    await chat.delete(session, principal, conversation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/conversations/{conversation_id}/messages", status_code=status.HTTP_201_CREATED,
             response_model=MessageRead, tags=["conversations"], summary="Send a message (honours Idempotency-Key)")
async def send_conversation_message(conversation_id: uuid.UUID, data: MessageCreate, principal: PrincipalDep,
                                    chat: Chat, session: SessionDep) -> MessageRead:
    return MessageRead.model_validate(await chat.send(session, principal, conversation_id, data))


@router.get("/conversations/{conversation_id}/messages", response_model=ConversationMessages,
            tags=["conversations"], summary="A conversation's messages, oldest first, and your unread count "
                                            "(reading marks nothing read)")
async def list_conversation_messages(conversation_id: uuid.UUID, principal: PrincipalDep, chat: Chat,
                                     session: SessionDep, page: PageDep) -> ConversationMessages:
    items, next_token, unread = await chat.messages(session, principal, conversation_id, page)
    return ConversationMessages(items=[MessageRead.model_validate(m) for m in items], next_page_token=next_token,
                                unread_count=unread)


@router.post("/conversations/{conversation_id}/read", response_model=AckResult, tags=["conversations"],
             summary="Mark every message of the conversation read for you (idempotent)")
async def mark_conversation_read(conversation_id: uuid.UUID, principal: PrincipalDep, chat: Chat,
                                 session: SessionDep) -> AckResult:
    return AckResult(acked=await chat.mark_read(session, principal, conversation_id))
