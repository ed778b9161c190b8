"""The LLM proxy's rules: who calls, which model they mean, whether they may use it, and what the
call cost (metering). The HTTP side is in `endpoints.py`, the upstream client in `upstream.py`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from agyn.agents.models import Agent
from agyn.authorization import objects
from agyn.authorization.service import AuthorizationService
from agyn.kit.errors import Unauthenticated
from agyn.kit.events import Event
from agyn.kit.platform import Platform
from agyn.kit.principal import Principal
from agyn.llm.models import LLMProvider, Model
from agyn.llm.service import ModelsService, ResolvedModel
from agyn.llm_proxy.cache import PermissionCache, ResolutionCache
from agyn.llm_proxy.protocols import Protocol, ProxyError, Usage
from agyn.llm_proxy.upstream import Upstream
from agyn.metering.records import Unit, UsageRecord, micros
from agyn.metering.service import MeteringService
from agyn.settings import Settings
from agyn.users.service import UsersService

PRODUCER = "llm-proxy"


@dataclass(frozen=True, slots=True)
class Call:
    """One proxied call, as metering sees it."""

    id: uuid.UUID
    principal: Principal
    model: ResolvedModel
    thread_id: str | None
    started_at: datetime


class LLMProxyService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        settings = platform.get(Settings).llm_proxy
        self.settings = settings
        self.models = platform.get(ModelsService)
        self.users = platform.get(UsersService)
        self.metering = platform.get(MeteringService)
        authorization = platform.get(AuthorizationService)
        self.resolutions = ResolutionCache(settings.cache_seconds, platform.clock)
        self._authorization = authorization
        self.permissions = PermissionCache(settings.cache_seconds, platform.clock, self._generation)
        self.upstream = Upstream(settings)
        self.agent_models: dict[uuid.UUID, tuple[uuid.UUID | None, float]] = {}

    def _generation(self) -> int:
        return self._authorization.generation

    # --- lifecycle and invalidation ------------------------------------------------------------

    async def start(self) -> None:
        self.upstream.open()

    async def stop(self) -> None:
        await self.upstream.close()

    async def on_models_changed(self, event: Event) -> None:
        """A model or provider was written: what any name or id resolves to may have changed."""
        self.resolutions.clear()

    # --- the caller ----------------------------------------------------------------------------

    async def authenticate(self, credential: str | None) -> Principal:
        if not credential:
            raise ProxyError(401, "unauthenticated", "missing credentials: send an agyn API token as "
                                                     "'Authorization: Bearer <token>' or 'x-api-key: <token>'")
        cached = self.users.cached_principal(credential)
        if cached is not None:
            return cached
        try:
            async with self.platform.database.transaction() as session:
                return await self.platform.authenticator.authenticate(session, credential)
        except Unauthenticated as error:
            raise ProxyError(401, "unauthenticated", error.detail) from None

    async def on_agent_changed(self, event: Event) -> None:
        """An agent was written: its model may have changed."""
        self.agent_models.pop(uuid.UUID(event.payload["agent_id"]), None)

    async def agent_model(self, agent_id: uuid.UUID) -> uuid.UUID | None:
        """The model an agent thinks with (what its workloads may call), cached like a permission."""
        cached = self.agent_models.get(agent_id)
        if cached is not None and cached[1] > self.platform.clock.monotonic():
            return cached[0]
        async with self.platform.database.transaction() as session:
            model_id = await session.scalar(select(Agent.__table__.c.model).where(Agent.__table__.c.id == agent_id))
        self.agent_models[agent_id] = (model_id, self.platform.clock.monotonic() + self.settings.cache_seconds)
        return model_id

    # --- the model -----------------------------------------------------------------------------

    async def resolve(self, principal: Principal, model: Any, organization_id: uuid.UUID | None) -> ResolvedModel:
        """The model a caller means: a model id, or a name they can use in exactly one organization
        (or in the one `x-agyn-organization-id` names)."""
        if not isinstance(model, str) or not model:
            raise ProxyError(400, "invalid_request", "`model` must be a platform model's id or name")
        candidates = await self._candidates(model, organization_id)
        by_id = tuple(c for c in candidates if str(c.model_id) == model)
        if by_id:
            candidates = by_id
        if not candidates:
            where = f" in organization {organization_id}" if organization_id else ""
            raise ProxyError(404, "model_not_found", f"model {model!r} not found{where}; GET /v1/models lists "
                                                     "the models you can use")
        usable = [c for c in candidates if await self.can_use(principal, c.model_id)]
        if len(usable) == 1:
            return usable[0]
        if not usable:
            raise ProxyError(403, "permission_denied", f"you may not use model {model!r}: only members of its "
                                                       "organization can")
        raise ProxyError(400, "ambiguous_model", f"model name {model!r} exists in {len(usable)} organizations you "
                                                 "can use: send the model's id, or name the organization in the "
                                                 "x-agyn-organization-id header")

    async def _candidates(self, model: str, organization_id: uuid.UUID | None) -> tuple[ResolvedModel, ...]:
        key = (model, organization_id)
        found = self.resolutions.get(key)
        if found is None:
            version = self.resolutions.version
            async with self.platform.database.transaction() as session:
                found = tuple(await self.models.resolve_candidates(session, model, organization_id))
            self.resolutions.put(key, found, version)
        return found

    async def can_use(self, principal: Principal, model_id: uuid.UUID) -> bool:
        if principal.scope is not None:  # a workload calls with its agent's model only
            return model_id == await self.agent_model(principal.scope.agent_id)
        allowed = self.permissions.get(principal.identity_id, model_id)
        if allowed is None:
            generation = self._generation()
            allowed = await self.platform.authz.check(principal, "can_use", objects.model(model_id))
            self.permissions.put(principal.identity_id, model_id, allowed, generation)
        return allowed

    async def usable_models(self, principal: Principal) -> list[tuple[Any, str]]:
        """Every model the caller may use, with its provider's protocol (for `GET /v1/models`)."""
        if principal.scope is not None:
            own = await self.agent_model(principal.scope.agent_id)
            ids = [own] if own is not None else []
        else:
            ids = [uuid.UUID(i) for i in await self.platform.authz.list_object_ids(principal, "can_use", "model")]
        if not ids:
            return []
        async with self.platform.database.transaction() as session:
            rows = (await session.execute(
                select(Model, LLMProvider.protocol).join(LLMProvider, LLMProvider.id == Model.llm_provider_id)
                .where(Model.id.in_(ids)).order_by(Model.name, Model.id))).all()
        return [(row[0], str(row[1])) for row in rows]

    # --- metering ------------------------------------------------------------------------------

    def meter(self, call: Call, protocol: Protocol, usage: Usage | None, succeeded: bool) -> None:
        """Tokens (input, cached, output) and one request count; on failure only the count."""
        model = call.model
        labels = {"resource": "model", "resource_id": str(model.model_id), "model": model.name,
                  "identity_id": str(call.principal.identity_id),
                  "identity_type": str(call.principal.identity_type),
                  "status": "success" if succeeded else "failed"}
        if call.thread_id:
            labels["thread_id"] = call.thread_id

        def record(kind: str, unit: Unit, amount: int) -> UsageRecord:
            return UsageRecord(organization_id=model.organization_id, idempotency_key=f"llm:{call.id}:{kind}",
                               producer=PRODUCER, unit=unit, value=micros(amount), timestamp=call.started_at,
                               labels={**labels, "kind": kind})

        records = [record("request", Unit.COUNT, 1)]
        if succeeded and usage is not None:
            records.append(record("input", Unit.TOKENS, usage.input))
            if usage.cached:
                records.append(record("cached", Unit.TOKENS, usage.cached))
            records.append(record("output", Unit.TOKENS, usage.output))
        self.metering.record(*records)
