"""LLM providers and models: credential rules, the org→model tuple, and model resolution."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization import objects
from agyn.authorization.collections import TupleCollectionService
from agyn.authorization.engine import TupleKey
from agyn.kit.collections import CollectionService
from agyn.kit.errors import InvalidArgument, NotFound
from agyn.kit.principal import Principal
from agyn.llm.models import LLMProvider, Model
from agyn.llm.resources import LLM_PROVIDER, MODEL
from agyn.llm.schemas import LLMProviderSchemas, ModelSchemas

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
RESERVED_HEADERS = {"host", "content-length", "content-type", "connection", "transfer-encoding", "upgrade",
                    "keep-alive", "te", "trailer", "proxy-authorization", "proxy-connection"}
MAX_HEADERS = 20


def validate_custom_headers(headers: dict[str, str]) -> None:
    if not headers:
        raise InvalidArgument.field("headers", "custom_headers needs at least one header")
    if len(headers) > MAX_HEADERS:
        raise InvalidArgument.field("headers", f"at most {MAX_HEADERS} headers")
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name):
            raise InvalidArgument.field("headers", f"{name!r} is not a valid HTTP header name")
        if name.lower() in RESERVED_HEADERS:
            raise InvalidArgument.field("headers", f"{name} is set by the proxy and cannot be configured")
        if "\r" in value or "\n" in value or not value.strip():
            raise InvalidArgument.field("headers", f"the value of {name} must be non-empty and on one line")


PROVIDER_UPDATED = "llm_provider.updated"
MODEL_UPDATED = "model.updated"
"""Published after a provider or model was created, changed or deleted (payload: its id, the action), so
that what resolves models (the LLM proxy's cache) drops what it holds."""


class LLMProvidersService(CollectionService):
    resource = LLM_PROVIDER
    model = LLMProvider
    schemas = LLMProviderSchemas

    async def after_write(self, session: AsyncSession, principal: Principal, record: Any, action: str) -> None:
        self.platform.events.publish_after_commit(session, PROVIDER_UPDATED, "llm", llm_provider_id=str(record.id),
                                                  action=action)

    def validate_values(self, values: dict[str, Any]) -> None:
        """Which of token and headers goes with which auth_method is the registry's rule; this checks
        the headers themselves."""
        if values.get("auth_method") == "custom_headers" and values.get("headers"):
            validate_custom_headers(values["headers"])


@dataclass(frozen=True)
class ResolvedModel:
    """Where to send a request for a platform model (internal; carries plain credentials)."""

    model_id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    remote_name: str
    endpoint: str
    protocol: str
    auth_method: str
    token: str | None = field(repr=False)  # never in a log line or a traceback's locals shown as repr
    headers: dict[str, str] = field(repr=False)


class ModelsService(TupleCollectionService):
    resource = MODEL
    model = Model
    schemas = ModelSchemas

    async def after_create(self, session: AsyncSession, principal: Principal, record: Any) -> dict[str, Any]:
        await self.authz.write(session, [self._org_tuple(record)])
        return {}

    async def before_delete(self, session: AsyncSession, principal: Principal, record: Any) -> None:
        await self.authz.delete_object(session, objects.model(record.id))

    async def after_write(self, session: AsyncSession, principal: Principal, record: Any, action: str) -> None:
        self.platform.events.publish_after_commit(session, MODEL_UPDATED, "llm", model_id=str(record.id),
                                                  action=action)

    def _org_tuple(self, record: Any) -> TupleKey:
        return TupleKey(objects.organization(record.organization_id), "org", objects.model(record.id))

    async def resolve(self, session: AsyncSession, organization_id: uuid.UUID | None,
                      model: str) -> ResolvedModel:
        """A model by id or by name (within the caller's organization) with its provider's credentials."""
        found = await self.resolve_candidates(session, model, organization_id, limit=2)
        if len(found) != 1:
            raise NotFound(f"model {model} not found" if not found else
                           f"model name {model} is ambiguous; use its id or the organization's model")
        return found[0]

    async def resolve_candidates(self, session: AsyncSession, model: str, organization_id: uuid.UUID | None = None,
                                 *, limit: int = 100) -> list[ResolvedModel]:
        """Every model whose id or name is `model` (in one organization, when given), with its provider's
        credentials in the clear: for the LLM proxy, which then keeps those the caller may use."""
        condition = Model.name == model
        try:
            condition = or_(condition, Model.id == uuid.UUID(model))
        except ValueError:
            pass
        statement = select(Model, LLMProvider).join(LLMProvider, LLMProvider.id == Model.llm_provider_id) \
            .where(condition)
        if organization_id is not None:
            statement = statement.where(Model.organization_id == organization_id)
        rows = (await session.execute(statement.order_by(Model.id).limit(limit))).all()
        providers = self.platform.get(LLMProvidersService)
        return [ResolvedModel(
            model_id=found.id, organization_id=found.organization_id, name=found.name,
            remote_name=found.remote_name, endpoint=provider.endpoint, protocol=provider.protocol,
            auth_method=provider.auth_method, token=providers.decrypt(provider, "token"),
            headers=providers.decrypt(provider, "headers") or {}) for found, provider in rows]
