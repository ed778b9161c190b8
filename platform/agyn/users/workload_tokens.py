"""Workload tokens: `agyn_wl_` + 44 base62 characters, stored only as SHA-256.

One is minted when a workload starts and handed to it in its environment; it authenticates as the
workload's agent carrying a `WorkloadScope` (agent, thread, workload, organization), so the API lets
it do only what that workload needs (`agyn.api.workload_scope`). It is renewed while the workload
runs and deleted when it stops.
"""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Uuid, column, delete, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.kit.db import after_commit
from agyn.kit.platform import Platform
from agyn.kit.principal import IdentityType, Principal, WorkloadScope
from agyn.users import tokens
from agyn.users.models import WorkloadToken

WORKLOAD_TOKEN_MARKER = "agyn_wl_"
DEFAULT_TTL = timedelta(hours=1)
_ALPHABET = string.digits + string.ascii_letters


def generate() -> str:
    return WORKLOAD_TOKEN_MARKER + "".join(secrets.choice(_ALPHABET) for _ in range(tokens.TOKEN_BODY_LENGTH))


def looks_like_workload_token(value: str) -> bool:
    body = value[len(WORKLOAD_TOKEN_MARKER):]
    return value.startswith(WORKLOAD_TOKEN_MARKER) and len(body) == tokens.TOKEN_BODY_LENGTH and \
        all(c in _ALPHABET for c in body)


_THREADS = table("threads", column("id", Uuid()), column("organization_id", Uuid()))
"""The threads table as far as a token needs it (the threads module sits above this one)."""


async def issue(session: AsyncSession, platform: Platform, *, agent_id: uuid.UUID, thread_id: uuid.UUID,
                workload_id: uuid.UUID, organization_id: uuid.UUID | None = None,
                ttl: timedelta = DEFAULT_TTL) -> str:
    """Mint a token for a workload (its organization is the thread's unless given); the plain value is
    returned this once only."""
    if organization_id is None:
        organization_id = await session.scalar(select(_THREADS.c.organization_id).where(_THREADS.c.id == thread_id))
        if organization_id is None:
            raise ValueError(f"no thread {thread_id}")
    plain = generate()
    session.add(WorkloadToken(token_hash=tokens.hash_token(plain), agent_id=agent_id, thread_id=thread_id,
                              workload_id=workload_id, organization_id=organization_id,
                              created_at=platform.clock.now(), expires_at=platform.clock.now() + ttl))
    await session.flush()
    return plain


async def renew(session: AsyncSession, platform: Platform, workload_id: uuid.UUID,
                ttl: timedelta = DEFAULT_TTL) -> None:
    """Push the expiry of a running workload's tokens forward."""
    await session.execute(update(WorkloadToken).where(WorkloadToken.workload_id == workload_id)
                          .values(expires_at=platform.clock.now() + ttl).execution_options(synchronize_session=False))


async def revoke(session: AsyncSession, platform: Platform, workload_id: uuid.UUID) -> None:
    """The workload stopped: its tokens stop working (at once in this process, within the token cache
    time on other replicas)."""
    ids = list((await session.scalars(select(WorkloadToken.id).where(WorkloadToken.workload_id == workload_id))).all())
    if not ids:
        return
    await session.execute(delete(WorkloadToken).where(WorkloadToken.id.in_(ids)))

    async def forget() -> None:
        from agyn.users.service import UsersService

        users = platform.get(UsersService)
        for token_id in ids:
            users.principals.forget(token_id=token_id)

    after_commit(session, forget, what="principal cache")


async def authenticate(session: AsyncSession, plain: str, now: datetime) -> tuple[Principal, datetime] | None:
    """The scoped agent principal behind a live workload token, with the token's expiry."""
    if not looks_like_workload_token(plain):
        return None
    token = await session.scalar(select(WorkloadToken).where(WorkloadToken.token_hash == tokens.hash_token(plain)))
    if token is None or token.expires_at <= now:
        return None
    scope = WorkloadScope(agent_id=token.agent_id, thread_id=token.thread_id, workload_id=token.workload_id,
                          organization_id=token.organization_id)
    return Principal(token.agent_id, IdentityType.agent, api_token_id=token.id, scope=scope), token.expires_at
