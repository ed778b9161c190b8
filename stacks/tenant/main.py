"""The tenant stack: one organization (users, members, LLM models, secrets, agents) from a YAML file.

    python main.py                       # synthesizes tenant.yaml into cdktf.out/stacks/tenant
    TENANT_FILE=other.yaml python main.py

The file is validated first (unknown keys, unknown model / secret / member / user names) so a typo is
an error line naming its place, not a Terraform failure later. Runs on cdktf or cdktn (`agyn_cdk.cdk`).
"""

from __future__ import annotations

import os

# before jsii starts Node: the project runs on Node 20, and jsii would print its end-of-life banner
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import sys
from pathlib import Path
from typing import Any, Literal

from constructs import Construct
from pydantic import BaseModel, ConfigDict, model_validator

from agyn_cdk import (
    Agent,
    AgentRole,
    AgynProvider,
    EnvValue,
    FromSecret,
    Hook,
    LlmCatalogProps,
    McpServer,
    Member,
    Organization,
    Skill,
    Volume,
    cdk,
)
from agyn_cdk.l1 import AgynSecret, AgynUser, DataAgynUser
from agyn_cdk.stack_file import synth_from_file

DEFAULT_FILE = Path(__file__).with_name("tenant.yaml")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def given(self, *exclude: str) -> dict[str, Any]:
        """The fields the file sets, so the constructs' own defaults apply to the rest."""
        return {k: getattr(self, k) for k in self.model_fields_set if k not in exclude}


class SecretRef(Strict):
    secret: str
    """A secret's name in `secrets`."""


class UserConfig(Strict):
    username: str
    name: str | None = None
    email: str | None = None
    oidc_subject: str | None = None
    """The user's subject at the OIDC issuer (default `local|<username>`: a user with API tokens only)."""


class MemberConfig(Strict):
    user: str | None = None
    """A username: of `users`, or of a user already on the platform (looked up at deploy)."""
    identity_id: str | None = None
    """Or an identity's id (a user's, agent's or app's)."""
    key: str | None = None
    """How agents' roles refer to the member (default: `user`)."""
    role: Literal["owner", "member"] = "member"

    @model_validator(mode="after")
    def one_identity(self) -> MemberConfig:
        if (self.user is None) == (self.identity_id is None):
            raise ValueError("give either user (a username) or identity_id")
        if self.key is None and self.user is None:
            raise ValueError("a member given by identity_id needs a key")
        return self

    @property
    def name(self) -> str:
        return self.key or self.user or ""


class LlmConfig(Strict):
    endpoint: str
    models: dict[str, str]
    auth_method: Literal["bearer", "x_api_key", "custom_headers"] = "bearer"
    token_variable: str | None = None
    """The Terraform variable holding the API key (TF_VAR_<name> at deploy)."""
    protocol: Literal["responses", "anthropic_messages"] | None = None
    name: str | None = None


class SecretConfig(Strict):
    value_variable: str
    """The Terraform variable holding the value (TF_VAR_<name> at deploy)."""
    description: str | None = None


class VolumeConfig(Strict):
    name: str
    mount_path: str
    persistent: bool = False
    size: str | None = None
    ttl: str | None = None


class McpConfig(Strict):
    name: str
    command: str
    image: str | None = None
    env: dict[str, str | SecretRef] = {}
    init_scripts: list[str] = []
    volumes: list[VolumeConfig] = []


class SkillConfig(Strict):
    name: str
    body: str
    description: str | None = None


class HookConfig(Strict):
    event: str
    function: str
    image: str | None = None
    env: dict[str, str | SecretRef] = {}
    key: str | None = None


class RoleConfig(Strict):
    member: str
    """A member's key."""
    role: Literal["owner", "maintainer", "participant"] = "participant"


class AgentConfig(Strict):
    name: str
    role: str
    model: str
    """A model name of `llm.models`."""
    nickname: str | None = None
    availability: Literal["internal", "private"] | None = None
    idle_timeout: str | None = None
    image: str | None = None
    init_image: str | None = None
    configuration: dict[str, Any] | None = None
    runner_labels: dict[str, str] | None = None
    capabilities: list[str] | None = None
    env: dict[str, str | SecretRef] = {}
    init_scripts: list[str] = []
    volumes: list[VolumeConfig] = []
    mcp_servers: list[McpConfig] = []
    skills: list[SkillConfig] = []
    hooks: list[HookConfig] = []
    roles: list[RoleConfig] = []


class Tenant(Strict):
    organization: str
    users: list[UserConfig] = []
    members: list[MemberConfig] = []
    llm: LlmConfig | None = None
    secrets: dict[str, SecretConfig] = {}
    agents: list[AgentConfig] = []

    @model_validator(mode="after")
    def names_resolve(self) -> Tenant:
        """Every name that refers to another part of the file resolves; all problems at once, a line each."""
        problems = []
        models = sorted(self.llm.models) if self.llm else []
        members = [m.name for m in self.members]
        for name in {n for n in members if members.count(n) > 1}:
            problems.append(f"members: {name!r} appears more than once")
        usernames = [u.username for u in self.users]
        for name in {n for n in usernames if usernames.count(n) > 1}:
            problems.append(f"users: {name!r} appears more than once")
        for index, agent in enumerate(self.agents):
            where = f"agents[{index}] ({agent.name})"
            if agent.model not in models:
                problems.append(f"{where}: model {agent.model!r} is not in llm.models ({', '.join(models)})")
            envs = [agent.env] + [s.env for s in agent.mcp_servers] + [h.env for h in agent.hooks]
            for value in (v for env in envs for v in env.values()):
                if isinstance(value, SecretRef) and value.secret not in self.secrets:
                    problems.append(f"{where}: secret {value.secret!r} is not in secrets "
                                    f"({', '.join(sorted(self.secrets))})")
            for role in agent.roles:
                if role.member not in members:
                    problems.append(f"{where}: member {role.member!r} is not in members ({', '.join(members)})")
        if problems:
            raise ValueError("\n".join(problems))
        return self


class TenantStack(cdk.TerraformStack):
    """The organization of `tenant`, with everything it declares."""

    def __init__(self, scope: Construct, id: str, tenant: Tenant) -> None:
        super().__init__(scope, id)
        AgynProvider(self, "agyn")  # AGYN_API_URL and AGYN_API_TOKEN when Terraform runs
        llm = None
        if tenant.llm is not None:
            token = self.variable(tenant.llm.token_variable, "the LLM provider's API key")
            llm = LlmCatalogProps(token=token, **tenant.llm.given("token_variable"))
        users = {u.username: AgynUser(self, f"user-{u.username}", username=u.username,
                                      oidc_subject=u.oidc_subject or f"local|{u.username}", name=u.name,
                                      email=u.email).id
                 for u in tenant.users}

        def identity(member: MemberConfig) -> str:
            if member.identity_id is not None:
                return member.identity_id
            assert member.user is not None  # MemberConfig.one_identity
            if member.user not in users:  # a user already on the platform
                users[member.user] = DataAgynUser(self, f"existing-user-{member.user}", username=member.user).id
            return users[member.user]

        org = Organization(self, "organization", name=tenant.organization, llm=llm,
                           members=[Member(identity(m), m.role, key=m.name) for m in tenant.members])
        secrets = {name: AgynSecret(self, f"secret-{name}", organization_id=org.id, name=name,
                                    description=secret.description,
                                    value=self.variable(secret.value_variable, f"the value of secret {name}"))
                   for name, secret in tenant.secrets.items()}

        def env(values: dict[str, str | SecretRef]) -> dict[str, EnvValue]:
            return {k: FromSecret(secrets[v.secret].id) if isinstance(v, SecretRef) else v for k, v in values.items()}

        def volumes(configs: list[VolumeConfig]) -> list[Volume]:
            return [Volume(**v.given()) for v in configs]

        assert org.llm is not None or not tenant.agents  # the validator saw every agent's model in llm.models
        for agent in tenant.agents:
            Agent(self, f"agent-{agent.name}", organization_id=org.id,
                  **agent.given("model", "env", "volumes", "mcp_servers", "skills", "hooks", "roles"),
                  model=org.model_id(agent.model), env=env(agent.env), volumes=volumes(agent.volumes),
                  mcp_servers=[McpServer(**s.given("env", "volumes"), env=env(s.env), volumes=volumes(s.volumes))
                               for s in agent.mcp_servers],
                  skills=[Skill(**s.given()) for s in agent.skills],
                  hooks=[Hook(**h.given("env"), env=env(h.env)) for h in agent.hooks],
                  roles=[AgentRole(org.member_id(r.member), r.role, key=r.member) for r in agent.roles])

    def variable(self, name: str | None, description: str) -> str | None:
        """A sensitive variable's value: secrets come from TF_VAR_<name> at deploy, never from the file."""
        if name is None:
            return None
        return cdk.TerraformVariable(self, name, type="string", sensitive=True,
                                     description=f"{description} (TF_VAR_{name})").string_value


def main() -> int:
    return synth_from_file(Tenant, Path(os.environ.get("TENANT_FILE", DEFAULT_FILE)),
                           lambda app, tenant: TenantStack(app, "tenant", tenant))


if __name__ == "__main__":
    sys.exit(main())
