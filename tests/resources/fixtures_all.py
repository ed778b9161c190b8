"""A valid object of every registry collection, with its parents, for the cross-cutting tests.

`SPECS` declares, per kind of object (a collection, or a collection with a variant such as
`runners:cluster`), a create body, a valid change for PATCH and who creates it. Bodies name their
parents with placeholders (`ORG`, `Parent(kind)`, `Fresh(kind)`, `BYSTANDER`) that a `World`
resolves in one organization: `Parent` is made once per organization and shared, `Fresh` is made
anew for each object (for parents an object must not share, e.g. one attachment per volume).
Every body holds a unique value, so two bodies of one kind always differ.

A `World` is an organization owned by `owner`, with `member` and `bystander` as active members,
an `outsider` who belongs nowhere, and the cluster admin; on request (`add_service_callers`), a
`runner` of the organization and an `app` installed in it, calling with their service tokens, and a
`workload` of another agent of the organization, calling with its workload token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from agyn.kit.resources import Resource
from agyn.modules import load_registry
from agyn.users import workload_tokens
from tests.conftest import Api, User

REGISTRY = load_registry()
ROLES = ("admin", "owner", "member", "outsider", "runner", "app", "workload")
Role = Literal["admin", "owner", "member", "outsider", "runner", "app", "workload"]


@dataclass(frozen=True)
class _Placeholder:
    kind: str = ""


class Parent(_Placeholder):
    """The organization's shared object of this kind (made on first use)."""


class Fresh(_Placeholder):
    """A new object of this kind, made for this body alone."""


ORG = _Placeholder("organization")
BYSTANDER = _Placeholder("bystander")

Unique = Callable[[str], str]
Body = Callable[[Unique], dict[str, Any]]


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class Spec:
    kind: str
    body: Body
    change: Body
    creator: Literal["owner", "admin"] = "owner"
    alongside: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What a body needs with an overridden field (a field it must go together with)."""

    @property
    def collection(self) -> str:
        return self.kind.partition(":")[0]

    @property
    def resource(self) -> Resource:
        return REGISTRY[self.collection]

    @property
    def path(self) -> str:
        return self.resource.path


def _vault(u: Unique) -> dict[str, Any]:
    return {"address": "http://127.0.0.1:8200", "token": u("hvs.fixture-")}


SPECS: dict[str, Spec] = {spec.kind: spec for spec in (
    Spec("users", lambda u: {"oidc_subject": u("test|"), "username": u("u-")},
         lambda u: {"name": u("Name ")}, creator="admin"),
    Spec("organizations", lambda u: {"name": u("org-")}, lambda u: {"name": u("org-")}),
    Spec("memberships", lambda u: {"organization_id": ORG, "identity_id": Fresh("users"), "role": "member"},
         lambda u: {"role": "owner"}, creator="admin"),
    Spec("llm-providers", lambda u: {"organization_id": ORG, "name": u("provider-"), "endpoint": "https://llm.example",
                                     "auth_method": "bearer", "token": u("sk-fixture-")},
         lambda u: {"name": u("provider-")}),
    Spec("models", lambda u: {"organization_id": ORG, "name": u("model-"), "llm_provider_id": Parent("llm-providers"),
                              "remote_name": "gpt-4o"},
         lambda u: {"remote_name": u("gpt-")}),
    Spec("secret-providers", lambda u: {"organization_id": ORG, "name": u("vault-"), "type": "vault",
                                        "vault": _vault(u)},
         lambda u: {"description": u("about ")}),
    Spec("secrets", lambda u: {"organization_id": ORG, "name": u("secret-"), "value": u("fixture-value-")},
         lambda u: {"description": u("about ")}, alongside={"provider_id": {"reference": "secret/team/db/password"}}),
    Spec("agents", lambda u: {"organization_id": ORG, "name": u("agent-"), "role": "assistant",
                              "model": Parent("models"), "availability": "internal"},
         lambda u: {"role": u("reviewer-")}),
    Spec("agent-roles", lambda u: {"agent_id": Fresh("agents"), "identity_id": BYSTANDER, "role": "participant"},
         lambda u: {"role": "maintainer"}),
    Spec("mcps", lambda u: {"agent_id": Parent("agents"), "name": u("mcp_"), "command": "serve"},
         lambda u: {"command": u("serve --port ")}),
    Spec("skills", lambda u: {"agent_id": Parent("agents"), "name": u("skill-"), "body": "Answer briefly."},
         lambda u: {"body": u("Answer at length. ")}),
    Spec("hooks", lambda u: {"agent_id": Parent("agents"), "event": "message.received", "function": u("notify ")},
         lambda u: {"function": u("notify --again ")}),
    Spec("envs", lambda u: {"agent_id": Parent("agents"), "name": u("VAR_"), "value": u("env-value-")},
         lambda u: {"name": u("VAR_")}),
    Spec("init-scripts", lambda u: {"agent_id": Parent("agents"), "script": u("echo ready ")},
         lambda u: {"script": u("echo again ")}),
    Spec("volumes", lambda u: {"organization_id": ORG, "name": u("vol-"), "mount_path": "/data"},
         lambda u: {"mount_path": u("/mnt/")}),
    Spec("volume-attachments", lambda u: {"volume_id": Fresh("volumes"), "agent_id": Parent("agents")},
         lambda u: {}),  # cannot be changed: replaced
    Spec("runners", lambda u: {"organization_id": ORG, "name": u("runner-")}, lambda u: {"labels": {"zone": u("z")}}),
    Spec("runners:cluster", lambda u: {"name": u("shared-")}, lambda u: {"labels": {"zone": u("z")}},
         creator="admin"),
    Spec("apps", lambda u: {"organization_id": ORG, "slug": u("app-"), "name": "An app", "visibility": "internal"},
         lambda u: {"name": u("App ")}),
    Spec("apps:public", lambda u: {"organization_id": ORG, "slug": u("pub-"), "name": "A public app",
                                   "visibility": "public"},
         lambda u: {"name": u("App ")}),
    Spec("app-installations", lambda u: {"app_id": Fresh("apps"), "organization_id": ORG},
         lambda u: {"configuration": {"greeting": u("hi ")}}),
)}

TABLE_COLLECTIONS = [r.collection for r in REGISTRY if r.storage == "table"]


def object_path(collection: str, object_id: str) -> str:
    return f"{REGISTRY[collection].path}/{object_id}"


@dataclass
class World:
    """The callers, their organization, and the objects made in it (see the module docstring)."""

    api: Api
    owner: User
    member: User
    outsider: User
    bystander: User
    organization_id: str = ""
    runner: User | None = None
    app: User | None = None
    workload: User | None = None
    made: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _shared: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.api.client

    def headers(self, role: Role) -> dict[str, str]:
        if role == "admin":
            return self.api.admin
        user: User | None = getattr(self, role)
        assert user is not None, f"no {role} caller in this world: call add_service_callers() first"
        return user.headers

    async def add_service_callers(self) -> None:
        """A runner of the organization and an app installed in it (with every permission an app may
        declare), each calling with its service token."""
        runner = await self.client.post("/api/v1/runners", headers=self.owner.headers,
                                        json={"organization_id": self.organization_id, "name": unique("caller-")})
        app = await self.client.post("/api/v1/apps", headers=self.owner.headers, json={
            "organization_id": self.organization_id, "slug": unique("caller-"), "name": "Calling app",
            "permissions": ["thread:create", "thread:write", "participant:add"]})
        assert runner.status_code == 201 and app.status_code == 201, (runner.text, app.text)
        installed = await self.client.post("/api/v1/app-installations", headers=self.owner.headers, json={
            "app_id": app.json()["id"], "organization_id": self.organization_id})
        assert installed.status_code == 201, installed.text
        self.runner = User(runner.json()["id"], runner.json()["name"], runner.json()["service_token"])
        self.app = User(app.json()["id"], app.json()["slug"], app.json()["service_token"])
        # a workload of another agent of the organization, in a thread of its own, as the orchestrator starts one
        agent = await self.make("agents")
        thread = await self.client.post("/api/v1/threads", headers=self.owner.headers, json={
            "organization_id": self.organization_id, "participants": [agent["id"]]})
        assert thread.status_code == 201, thread.text
        platform = self.api.app.state.platform
        async with platform.database.transaction() as session:
            token = await workload_tokens.issue(session, platform, agent_id=uuid.UUID(agent["id"]),
                                                thread_id=uuid.UUID(thread.json()["id"]), workload_id=uuid.uuid4())
        self.workload = User(agent["id"], agent["name"], token)

    async def organization(self) -> dict[str, Any]:
        """A new organization of the owner's, with the member and the bystander in it."""
        return await self.make("organizations")

    async def body(self, kind: str, within: str | None = None, **overrides: Any) -> dict[str, Any]:
        """A valid create body of `kind` in the organization `within` (the world's by default), its
        parents made.

        An override of None leaves the field out; one that picks a member of an exactly-one-of group
        leaves the group's other members out."""
        spec = SPECS[kind]
        within = within or self.organization_id
        body = {**spec.body(unique), **overrides}
        for name in overrides:
            body.update(spec.alongside.get(name, {}))
        for group in spec.resource.exactly_one_of:
            chosen = [name for name in group if overrides.get(name) is not None]
            if chosen:
                body = {name: value for name, value in body.items() if name not in group or name in chosen}
        resolved: dict[str, Any] = {}
        for name, value in body.items():
            if value is None:
                continue
            if value is ORG:
                value = within
            elif value is BYSTANDER:
                value = self.bystander.id
            elif isinstance(value, Parent):
                value = (await self.shared(value.kind, within))["id"]
            elif isinstance(value, Fresh):
                value = (await self.make(value.kind, within))["id"]
            resolved[name] = value
        return resolved

    async def make(self, kind: str, within: str | None = None, **overrides: Any) -> dict[str, Any]:
        """A new object of `kind` in the organization `within` (the world's by default), created by
        its usual creator; returns the create response."""
        spec = SPECS[kind]
        body = await self.body(kind, within, **overrides)
        response = await self.client.post(spec.path, headers=self.headers(spec.creator), json=body)
        assert response.status_code == 201, f"{kind}: {response.text}"
        created: dict[str, Any] = response.json()
        self.made.append((spec.collection, created))
        if kind == "organizations":
            await self.api.add_member(created["id"], self.member)
            await self.api.add_member(created["id"], self.bystander)
        return created

    async def shared(self, kind: str, within: str | None = None) -> dict[str, Any]:
        """The organization's one object of `kind`, made on first use."""
        key = (within or self.organization_id, kind)
        if key not in self._shared:
            self._shared[key] = await self.make(kind, key[0])
        return self._shared[key]

    async def get(self, collection: str, object_id: str, role: Role = "admin") -> httpx.Response:
        return await self.client.get(object_path(collection, object_id), headers=self.headers(role))

    async def ids(self, collection: str, role: Role = "admin", page_size: int = 100,
                  **filters: str) -> list[str]:
        """Every id the caller lists in the collection, walking all pages."""
        ids: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {**filters, "page_size": page_size}
            if token:
                params["page_token"] = token
            response = await self.client.get(REGISTRY[collection].path, headers=self.headers(role), params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= page_size
            ids += [item["id"] for item in page["items"]]
            token = page["next_page_token"]
            if token is None:
                return ids
            assert page["items"], "a page with a next_page_token must not be empty"


async def build_world(api: Api) -> World:
    world = World(api, owner=await api.user("owner"), member=await api.user("member"),
                  outsider=await api.user("outsider"), bystander=await api.user("bystander"))
    world.organization_id = (await world.organization())["id"]
    return world
