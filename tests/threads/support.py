"""What the threads and chat tests share: an organization with members, and a recorder of events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from agyn.kit.events import Event
from tests.conftest import Api, User
from tests.resources.agents_support import Org, make_org

THREADS, UNACKED, COUNTS, ACK = "/api/v1/threads", "/api/v1/me/unacked-messages", "/api/v1/me/unacked-counts", \
    "/api/v1/me/ack"


@dataclass
class Team:
    """An organization: its owner, two members (bob, carol), and an outsider who belongs elsewhere."""

    api: Api
    org: Org
    bob: User
    carol: User
    outsider: User

    @property
    def owner(self) -> User:
        return self.org.owner

    async def thread(self, creator: User, *participants: str) -> dict[str, Any]:
        response = await self.api.client.post(THREADS, headers=creator.headers, json={
            "organization_id": self.org.id, "participants": list(participants)})
        assert response.status_code == 201, response.text
        return response.json()

    async def send(self, sender: User | str, thread_id: str, body: str, **extra: Any) -> httpx.Response:
        headers = sender.headers if isinstance(sender, User) else self.api.auth(sender)
        return await self.api.client.post(f"{THREADS}/{thread_id}/messages", headers=headers,
                                          json={"body": body, **extra})

    async def sent(self, sender: User | str, thread_id: str, body: str) -> dict[str, Any]:
        response = await self.send(sender, thread_id, body)
        assert response.status_code == 201, response.text
        return response.json()

    async def unacked(self, user: User, **params: Any) -> list[dict[str, Any]]:
        response = await self.api.client.get(UNACKED, headers=user.headers, params=params)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def counts(self, user: User) -> dict[str, int]:
        response = await self.api.client.get(COUNTS, headers=user.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def ack(self, user: User, *message_ids: str) -> int:
        response = await self.api.client.post(ACK, headers=user.headers, json={"message_ids": list(message_ids)})
        assert response.status_code == 200, response.text
        return int(response.json()["acked"])

    async def messages(self, user: User, thread_id: str) -> list[dict[str, Any]]:
        response = await self.api.client.get(f"{THREADS}/{thread_id}/messages", headers=user.headers,
                                             params={"page_size": 100})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


async def make_team(api: Api) -> Team:
    org = await make_org(api, f"owner-{uuid.uuid4().hex[:6]}")
    bob = await org.member(f"bob-{uuid.uuid4().hex[:6]}")
    carol = await org.member(f"carol-{uuid.uuid4().hex[:6]}")
    outsider = await api.user(f"out-{uuid.uuid4().hex[:6]}")
    await api.organization(outsider)
    return Team(api=api, org=org, bob=bob, carol=carol, outsider=outsider)


class Events:
    """Every event of these names published from now on."""

    def __init__(self, api: Api, *names: str) -> None:
        self.events: list[Event] = []
        for name in names:
            api.app.state.platform.events.subscribe(name, self._record)

    async def _record(self, event: Event) -> None:
        self.events.append(event)

    def take(self) -> list[Event]:
        taken, self.events = self.events, []
        return taken
