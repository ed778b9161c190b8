"""What the agents tests share: an organization with a model to build agents on, and a recorder of
`agent.updated` events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from agyn.authorization.engine import TupleKey
from agyn.kit.events import Event
from agyn.kit.principal import IdentityType, Principal
from tests.conftest import Api, User

AGENTS, ROLES = "/api/v1/agents", "/api/v1/agent-roles"


@dataclass
class Org:
    """An organization with an owner and a model, and shortcuts to make agents in it."""

    api: Api
    owner: User
    id: str
    model_id: str

    async def agent(self, caller: User | None = None, **fields: Any) -> dict[str, Any]:
        body = {"organization_id": self.id, "name": f"agent-{uuid.uuid4().hex[:8]}", "role": "assistant",
                "model": self.model_id, "availability": "internal", **fields}
        response = await self.api.client.post(AGENTS, headers=(caller or self.owner).headers, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def member(self, username: str, role: str = "member") -> User:
        user = await self.api.user(username)
        await self.api.add_member(self.id, user, role)
        return user


async def make_org(api: Api, owner_name: str = "owner") -> Org:
    owner = await api.user(owner_name)
    organization = await api.organization(owner)
    provider = await api.client.post("/api/v1/llm-providers", headers=owner.headers, json={
        "organization_id": organization["id"], "endpoint": "https://llm.example", "auth_method": "bearer",
        "token": "sk-test"})
    assert provider.status_code == 201, provider.text
    model = await api.client.post("/api/v1/models", headers=owner.headers, json={
        "organization_id": organization["id"], "name": "gpt", "llm_provider_id": provider.json()["id"],
        "remote_name": "gpt-4o"})
    assert model.status_code == 201, model.text
    return Org(api=api, owner=owner, id=organization["id"], model_id=model.json()["id"])


class AgentUpdates:
    """The agent ids of every `agent.updated` event published from now on."""

    def __init__(self, api: Api) -> None:
        self.agent_ids: list[str] = []
        api.app.state.platform.events.subscribe("agent.updated", self._record)

    async def _record(self, event: Event) -> None:
        self.agent_ids.append(event.payload["agent_id"])

    def take(self) -> list[str]:
        taken, self.agent_ids = self.agent_ids, []
        return taken


def tuples(api: Api) -> set[TupleKey]:
    """Every tuple of the embedded authorization store."""
    return set(api.app.state.platform.authz._store)


async def may(api: Api, user: User, relation: str, agent_id: str) -> bool:
    principal = Principal(uuid.UUID(user.id), IdentityType.user)
    return bool(await api.app.state.platform.authz.check(principal, relation, f"agent:{agent_id}"))
