"""L2 constructs for an organization: the org, its members, an LLM catalog (a provider and its models),
and its secrets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from constructs import Construct

from agyn_cdk.l1 import AgynLlmProvider, AgynMembership, AgynModel, AgynOrganization, AgynSecret
from agyn_cdk.naming import construct_id, unique


@dataclass(frozen=True)
class Member:
    """A member of the organization: an identity (user, agent, app) and its role."""

    identity_id: str
    """The member's identity id (a user's, an agent's or an app's)."""
    role: Literal["owner", "member"] = "member"
    """owner or member."""
    key: str | None = None
    """Names the membership in the stack; needed when `identity_id` is a reference (default: the id)."""

    @property
    def name(self) -> str:
        return self.key or self.identity_id


@dataclass(frozen=True, kw_only=True)
class LlmCatalogProps:
    """An LLM provider and the models it serves (platform name → the provider's own model name)."""

    endpoint: str
    """Base URL of the provider's API, e.g. https://api.openai.com/v1."""
    models: Mapping[str, str]
    """Platform model name => the provider's own model name."""
    auth_method: Literal["bearer", "x_api_key", "custom_headers"] = "bearer"
    """How requests authenticate: `token` for bearer and x_api_key, `headers` for custom_headers."""
    token: str | None = None
    """The API key (write-only); better a sensitive `TerraformVariable` than a literal."""
    headers: Mapping[str, str] | None = None
    """Headers sent with every request (custom_headers; write-only)."""
    protocol: Literal["responses", "anthropic_messages"] | None = None
    """Wire protocol the provider speaks (default responses)."""
    name: str | None = None
    """A name for people; unique in the organization when set."""


class LlmCatalog(Construct):
    """`agyn_llm_provider` and one `agyn_model` per entry of `models`; `model(name)` gives a model's id.

    Args:
        scope: The construct it belongs to.
        id: Its construct id.
        organization_id: The organization that owns the provider and the models.
        props: The provider and its models.
    """

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
    once). Reference members through `member_id(key)`, so what needs the membership waits for it, and
    models through `model_id(name)`.

    Args:
        scope: The construct it belongs to (a stack).
        id: Its construct id.
        name: Unique name of the organization (1 to 100 characters).
        members: Identities to add, with their roles.
        llm: An LLM provider and the models it serves, or None.
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

    def model_id(self, name: str) -> str:
        """The id (a reference) of the catalog's model `name`, for an agent's `model`."""
        if self.llm is None:
            raise KeyError(f"organization {self.node.id!r} has no LLM catalog (llm=...), so no model {name!r}")
        return self.llm.model(name)

    def member_id(self, key: str) -> str:
        """The identity id of the member `key` (its key, or its identity id), read from its membership:
        an agent role or anything else that needs the member waits until the membership exists."""
        try:
            return self.memberships[key].identity_id
        except KeyError:
            raise KeyError(f"no member {key!r}; members: {', '.join(sorted(self.memberships))}") from None


class Secret(Construct):
    """A secret of an organization (`agyn_secret`): a value stored encrypted by the platform, or where a
    secret provider keeps it. Give its `id` to an ENV with `FromSecret(secret.id)`.

    Args:
        scope: The construct it belongs to.
        id: Its construct id.
        organization_id: The organization that owns it.
        name: A name for people; unique in the organization (1 to 100 characters).
        value: The value (write-only); better a sensitive `TerraformVariable` than a literal.
        provider_id: The secret provider holding the value (instead of `value`; needs `reference`).
        reference: Where the provider keeps it: `<mount>/<path>/<key>`.
        description: What it is for.

    Raises:
        InvalidConfiguration: not exactly one of `value` and `provider_id`, or `provider_id` without
            `reference`, or another rule of the platform broken.
    """

    def __init__(self, scope: Construct, id: str, *, organization_id: str, name: str, value: str | None = None,
                 provider_id: str | None = None, reference: str | None = None,
                 description: str | None = None) -> None:
        super().__init__(scope, id)
        self.secret = AgynSecret(self, "secret", organization_id=organization_id, name=name, value=value,
                                 provider_id=provider_id, reference=reference, description=description)

    @property
    def id(self) -> str:
        """The secret's id (a reference)."""
        return self.secret.id


__all__ = ["LlmCatalog", "LlmCatalogProps", "Member", "Organization", "Secret"]
