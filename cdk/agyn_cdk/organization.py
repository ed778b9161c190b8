"""L2 constructs for an organization: the org, its members, and an LLM catalog (a provider and its models)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from constructs import Construct

from agyn_cdk.l1 import AgynLlmProvider, AgynMembership, AgynModel, AgynOrganization
from agyn_cdk.naming import construct_id, unique


@dataclass(frozen=True)
class Member:
    """A member of the organization: an identity (user, agent, app) and its role."""

    identity_id: str
    role: Literal["owner", "member"] = "member"
    key: str | None = None
    """Names the membership in the stack; needed when `identity_id` is a reference (default: the id)."""

    @property
    def name(self) -> str:
        return self.key or self.identity_id


@dataclass(frozen=True, kw_only=True)
class LlmCatalogProps:
    """An LLM provider and the models it serves (platform name → the provider's own model name)."""

    endpoint: str
    models: Mapping[str, str]
    auth_method: Literal["bearer", "x_api_key", "custom_headers"] = "bearer"
    token: str | None = None
    """The API key (write-only); better a sensitive `TerraformVariable` than a literal."""
    headers: Mapping[str, str] | None = None
    protocol: Literal["responses", "anthropic_messages"] | None = None
    name: str | None = None


class LlmCatalog(Construct):
    """`agyn_llm_provider` and one `agyn_model` per entry of `models`; `model(name)` gives a model's id."""

    def __init__(self, scope: Construct, id: str, *, organization_id: str, props: LlmCatalogProps) -> None:
        super().__init__(scope, id)
        self.provider = AgynLlmProvider(self, "provider", organization_id=organization_id, endpoint=props.endpoint,
                                        auth_method=props.auth_method, token=props.token, headers=props.headers,
                                        protocol=props.protocol, name=props.name)
        self.models = {name: AgynModel(self, construct_id("model", name, "a model name"),
                                       organization_id=organization_id, llm_provider_id=self.provider.id, name=name,
                                       remote_name=remote_name)
                       for name, remote_name in props.models.items()}

    def model(self, name: str) -> str:
        """The id (a reference) of the model `name`, for an agent's `model`."""
        try:
            return self.models[name].id
        except KeyError:
            raise KeyError(f"the catalog has no model {name!r}; it has {', '.join(sorted(self.models))}") from None


class Organization(Construct):
    """An organization with its members and, optionally, an LLM catalog (`llm`).

    Whoever deploys it becomes its owner; `members` adds others (a cluster admin's grant is active at
    once). Reference members through `member_id(key)`, so what needs the membership waits for it.
    """

    def __init__(self, scope: Construct, id: str, *, name: str, members: Sequence[Member] = (),
                 llm: LlmCatalogProps | None = None) -> None:
        super().__init__(scope, id)
        self.organization = AgynOrganization(self, "organization", name=name)
        ids = [construct_id("member", m.name, f"member {m.identity_id}") for m in members]
        unique(ids, "members")
        self.memberships = {m.name: AgynMembership(self, i, organization_id=self.id, identity_id=m.identity_id,
                                                   role=m.role)
                            for m, i in zip(members, ids, strict=True)}
        self.llm = LlmCatalog(self, "llm", organization_id=self.id, props=llm) if llm is not None else None

    @property
    def id(self) -> str:
        """The organization's id (a reference)."""
        return self.organization.id

    def member_id(self, key: str) -> str:
        """The identity id of the member `key` (its key, or its identity id), read from its membership:
        an agent role or anything else that needs the member waits until the membership exists."""
        try:
            return self.memberships[key].identity_id
        except KeyError:
            raise KeyError(f"no member {key!r}; members: {', '.join(sorted(self.memberships))}") from None


__all__ = ["LlmCatalog", "LlmCatalogProps", "Member", "Organization"]
