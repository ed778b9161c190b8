"""Users and API tokens: provisioning, profiles, the cluster-admin role, token lifecycle."""

from __future__ import annotations

import builtins
import hashlib
import re
import secrets
import string
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization import objects
from agyn.authorization.engine import TupleKey
from agyn.authorization.service import AuthorizationService
from agyn.identity.nicknames import NICKNAME_PATTERN
from agyn.identity.service import IdentityService
from agyn.kit.audit import record_audit_event
from agyn.kit.clock import SYSTEM_CLOCK, Clock
from agyn.kit.db import after_commit, utcnow
from agyn.kit.errors import (
    AlreadyExists,
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from agyn.kit.pagination import PageRequest, paginate
from agyn.kit.principal import IdentityType, Principal
from agyn.users import tokens, workload_tokens
from agyn.users.models import ApiToken, User
from agyn.users.schemas import ApiTokenCreate, UserCreate, UserUpdate

RemovalCheck = Callable[[AsyncSession, uuid.UUID, str], Awaitable[None]]
LAST_USED_RESOLUTION = timedelta(minutes=1)
PROVISION_ATTEMPTS = 5


def admin_tuple(identity_id: uuid.UUID) -> TupleKey:
    return TupleKey(objects.identity(identity_id), "admin", objects.CLUSTER)


def normalise_username(raw: str) -> str:
    value = re.sub(r"[^a-z0-9_-]", "-", raw.lower())
    value = re.sub(r"-{2,}", "-", value).strip("-")
    return value[:32].strip("-")


class UsersService:
    def __init__(
        self, identity: IdentityService, authz: AuthorizationService, token_cache_seconds: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.identity = identity
        self.authz = authz
        self.clock = clock
        self.principals = tokens.PrincipalCache(token_cache_seconds, clock=clock)
        self.removal_checks: builtins.list[RemovalCheck] = []
        """Rules of the modules above that may refuse an identity's deletion (the last owner of an
        organization); each raises to refuse."""

    # --- users -------------------------------------------------------------------------------

    async def require_admin(self, principal: Principal) -> None:
        if not await self.authz.is_cluster_admin(principal):
            raise PermissionDenied("only a cluster admin may manage users")

    async def create(
        self, session: AsyncSession, principal: Principal | None, data: UserCreate
    ) -> tuple[User, bool]:
        """Create a user (cluster admin); returns the user and whether it is a cluster admin."""
        if principal is not None:
            await self.require_admin(principal)
        if await self.get_by_subject(session, data.oidc_subject) is not None:
            raise AlreadyExists(f"a user with oidc_subject {data.oidc_subject!r} already exists")
        if data.username is not None:
            await self._ensure_username_free(session, data.username)
            username = data.username
        else:
            username = await self._derive_username(session, data.oidc_subject, {"email": data.email, "name": data.name})
        identity = await self.identity.register(session, IdentityType.user)
        user = User(id=identity.id, oidc_subject=data.oidc_subject, username=username, name=data.name or "",
                    email=data.email or "", photo_url=data.photo_url or "")
        session.add(user)
        await session.flush()
        is_admin = data.cluster_role == "admin"
        if is_admin:
            await self.authz.write(session, [admin_tuple(user.id)])
        record_audit_event(session, principal, "user.create", "user", user.id, cluster_role=data.cluster_role)
        return user, is_admin

    async def provision(self, session: AsyncSession, subject: str, claims: dict[str, Any]) -> User:
        """First OIDC login: create the user from the token's claims.

        Safe under concurrency: parallel first logins of one subject yield one user, and people whose
        claims derive the same username at the same time get distinct names (the insert that loses the
        unique constraint is rolled back to its savepoint and retried).
        """
        for _ in range(PROVISION_ATTEMPTS):
            username = await self._derive_username(session, subject, claims)
            try:
                async with session.begin_nested():
                    identity = await self.identity.register(session, IdentityType.user)
                    user = User(id=identity.id, oidc_subject=subject, username=username,
                                name=str(claims.get("name") or "")[:200],
                                email=str(claims.get("email") or "")[:320])
                    session.add(user)
                    await session.flush()
                return user
            except IntegrityError:
                existing = await self.get_by_subject(session, subject)
                if existing is not None:
                    return existing
        raise Conflict("could not provision the user: its username kept being taken concurrently; sign in again")

    async def get_by_subject(self, session: AsyncSession, subject: str) -> User | None:
        return await session.scalar(select(User).where(User.oidc_subject == subject))

    async def username_of(self, session: AsyncSession, user_id: uuid.UUID) -> str | None:
        return await session.scalar(select(User.username).where(User.id == user_id))

    async def get(self, session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
        """A user by id: cluster admins see everyone, others only themselves."""
        user = await session.get(User, user_id)
        if user is None or (user.id != principal.identity_id and not await self.authz.is_cluster_admin(principal)):
            raise NotFound(f"user {user_id} not found")
        return user

    async def list(
        self, session: AsyncSession, principal: Principal, page: PageRequest,
        oidc_subject: str | None = None, username: str | None = None,
    ) -> tuple[builtins.list[User], str | None]:
        await self.require_admin(principal)
        statement = select(User)
        if oidc_subject is not None:
            statement = statement.where(User.oidc_subject == oidc_subject)
        if username is not None:
            statement = statement.where(User.username == username)
        return await paginate(session, statement, User.id, page)

    async def update(
        self, session: AsyncSession, principal: Principal, user: User, data: UserUpdate
    ) -> tuple[User, bool]:
        """Change a user (cluster admin); returns the user and whether it is now a cluster admin.

        The role is answered from the request, not the authorization index: a grant staged in
        this transaction reaches the index only after the commit.
        """
        if not await self.authz.is_cluster_admin(principal):
            raise PermissionDenied("only a cluster admin may change users")
        changes = data.model_dump(exclude_unset=True)
        if changes.get("username") not in (None, user.username):
            await self._ensure_username_free(session, changes["username"])
        for field in ("username", "name", "email", "photo_url"):
            if field in changes:
                if changes[field] is None and field == "username":
                    raise InvalidArgument.field("username", "cannot be null")
                setattr(user, field, changes[field] or "")
        if "cluster_role" in changes:
            if changes["cluster_role"] is None:
                raise InvalidArgument.field("cluster_role", "cannot be null; use 'none' to revoke the admin role")
            if changes["cluster_role"] != "admin" and user.id == principal.identity_id:
                raise FailedPrecondition("you cannot remove your own cluster-admin role")
            role_tuple = admin_tuple(user.id)
            if changes["cluster_role"] == "admin":
                await self.authz.write(session, writes=[role_tuple])
            else:
                await self.authz.write(session, deletes=[role_tuple])
            record_audit_event(session, principal, "user.cluster_role", "user", user.id,
                               cluster_role=changes["cluster_role"])
        user.updated_at = utcnow()
        await session.flush()
        if "cluster_role" in changes:
            return user, changes["cluster_role"] == "admin"
        return user, user.id in await self.cluster_admin_ids([user])

    async def delete(self, session: AsyncSession, principal: Principal, user: User) -> None:
        await self.require_admin(principal)
        if user.id == principal.identity_id:
            raise FailedPrecondition("you cannot delete your own user")
        await self.ensure_removable(session, user.id, f"user {user.username}")
        await session.delete(user)
        await session.flush()
        await self.remove_identity(session, user.id, f"user {user.username}")
        record_audit_event(session, principal, "user.delete", "user", user.id)

    async def ensure_removable(self, session: AsyncSession, identity_id: uuid.UUID, what: str) -> None:
        for check in self.removal_checks:
            await check(session, identity_id, what)

    async def remove_identity(self, session: AsyncSession, identity_id: uuid.UUID, what: str) -> None:
        """Forget an identity that is being deleted: its grants, its tokens (they stop working at
        once) and its registration with its nicknames. Refused while it is an organization's last
        owner."""
        await self.ensure_removable(session, identity_id, what)
        await self.authz.delete_user(session, objects.identity(identity_id))
        await session.execute(delete(ApiToken).where(ApiToken.identity_id == identity_id))
        after_commit(session, lambda: self._forget(identity_id=identity_id), what="principal cache")
        await self.identity.unregister(session, identity_id)

    async def cluster_admin_ids(self, users: builtins.list[User]) -> set[uuid.UUID]:
        """Which of `users` are cluster admins, in one read of the admin relation."""
        if not users:
            return set()
        admins = await self.authz.read(relation="admin", obj=objects.CLUSTER)
        return {uuid.UUID(t.user.split(":", 1)[1]) for t in admins if t.user.startswith("identity:")}

    async def _ensure_username_free(self, session: AsyncSession, username: str) -> None:
        if await session.scalar(select(User.id).where(User.username == username)) is not None:
            raise AlreadyExists(f"username {username!r} is taken")

    async def _derive_username(self, session: AsyncSession, subject: str, claims: dict[str, Any]) -> str:
        """preferred_username → email local part → name → user-<hash>, then de-duplicated."""
        email = str(claims.get("email") or "")
        candidates = [str(claims.get("preferred_username") or ""), email.split("@", 1)[0] if email else "",
                      str(claims.get("name") or "")]
        base = next((n for n in map(normalise_username, candidates) if n), "")
        if not base:
            base = "user-" + hashlib.sha256(subject.encode()).hexdigest()[:8]
        options = [base] + [f"{base[:29]}-{i}" for i in range(2, 100)]
        options += [f"{base[:27]}-" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(4))
                    for _ in range(5)]
        taken = set((await session.scalars(select(User.username).where(User.username.in_(options)))).all())
        for option in options:
            if option not in taken and NICKNAME_PATTERN.fullmatch(option):
                return option
        raise AlreadyExists("cannot derive a free username; create the user with an explicit username")

    # --- API tokens --------------------------------------------------------------------------

    async def create_token(
        self, session: AsyncSession, principal: Principal, owner_id: uuid.UUID, data: ApiTokenCreate,
        origin: str = "manual",
    ) -> tuple[ApiToken, str]:
        """Mint a token for `owner_id`; the plain value is returned this once only."""
        if data.expires_at is not None and data.expires_at <= utcnow():
            raise InvalidArgument.field("expires_at", "must be in the future")
        plain = tokens.generate_token()
        token = ApiToken(identity_id=owner_id, name=data.name, token_hash=tokens.hash_token(plain),
                         token_prefix=tokens.display_prefix(plain), origin=origin,
                         created_by=principal.identity_id, expires_at=data.expires_at)
        session.add(token)
        await session.flush()
        return token, plain

    async def create_service_identity(
        self, session: AsyncSession, principal: Principal, identity_type: IdentityType, identity_id: uuid.UUID
    ) -> str:
        """Register a non-person identity (a runner, an app) and mint its service token.

        The token is an ordinary `agyn_` API token of that identity, so the gateway authenticates it
        like any other; its plain value is returned this once only.
        """
        await self.identity.register(session, identity_type, identity_id)
        _, plain = await self.create_token(session, principal, identity_id, ApiTokenCreate(name="service token"),
                                           origin="service")
        return plain

    async def mint_token_for_user(
        self, session: AsyncSession, principal: Principal, user_id: uuid.UUID, data: ApiTokenCreate
    ) -> tuple[ApiToken, str]:
        """A cluster admin mints a token for another user (service accounts, automation); audited."""
        await self.require_admin(principal)
        user = await self.get(session, principal, user_id)
        token, plain = await self.create_token(session, principal, user.id, data, origin="admin")
        record_audit_event(session, principal, "api_token.mint", "user", user.id, token_id=str(token.id),
                           token_name=token.name)
        return token, plain

    async def list_tokens(
        self, session: AsyncSession, principal: Principal, page: PageRequest
    ) -> tuple[builtins.list[ApiToken], str | None]:
        statement = select(ApiToken).where(ApiToken.identity_id == principal.identity_id)
        return await paginate(session, statement, ApiToken.id, page)

    async def revoke_token(self, session: AsyncSession, principal: Principal, token_id: uuid.UUID) -> None:
        result = await session.execute(
            delete(ApiToken).where(ApiToken.id == token_id, ApiToken.identity_id == principal.identity_id)
        )
        if getattr(result, "rowcount", 0) == 0:  # a DELETE's CursorResult
            raise NotFound(f"API token {token_id} not found")
        after_commit(session, lambda: self._forget(token_id=token_id), what="principal cache")

    async def _forget(self, **which: uuid.UUID) -> None:
        self.principals.forget(**which)

    def cached_principal(self, plain: str) -> Principal | None:
        """The identity of an `agyn_` token this process checked recently (no I/O), else None: for hot
        paths that open a session only when they must."""
        if not tokens.looks_like_token(plain) and not workload_tokens.looks_like_workload_token(plain):
            return None
        return self.principals.get(tokens.hash_token(plain))

    async def authenticate_workload_token(self, session: AsyncSession, plain: str) -> Principal | None:
        """The agent, scoped to its workload, behind an `agyn_wl_` token; None when it is not live."""
        token_hash = tokens.hash_token(plain)
        cached = self.principals.get(token_hash)
        if cached is not None:
            return cached
        found = await workload_tokens.authenticate(session, plain, self.clock.now())
        if found is None:
            return None
        principal, expires_at = found
        self.principals.put(token_hash, principal, expires_at)
        return principal

    async def authenticate_token(self, session: AsyncSession, plain: str) -> Principal | None:
        """The identity an `agyn_` token stands for, or None when it is not a live token."""
        if not tokens.looks_like_token(plain):
            return None
        token_hash = tokens.hash_token(plain)
        cached = self.principals.get(token_hash)
        if cached is not None:
            return cached
        token = await self._live_token(session, token_hash)
        if token is None:
            return None
        identity_type = await self.identity.get_type(session, token.identity_id)
        if identity_type is None:
            return None
        principal = Principal(token.identity_id, identity_type, api_token_id=token.id)
        self.principals.put(token_hash, principal, token.expires_at)
        return principal

    async def _live_token(self, session: AsyncSession, token_hash: str) -> ApiToken | None:
        """The unexpired token with this hash, touching `last_used_at` at most once a minute."""
        token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
        now = utcnow()
        if token is None or (token.expires_at is not None and token.expires_at <= now):
            return None
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
            await session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
            token.last_used_at = now
        return token
