"""The `Agent` L2 construct: an agent and everything it owns, declared as nested props.

One `Agent` makes the `agyn_agent` and, wired to its id, its MCP servers, skills, hooks, ENVs, init
scripts, volume attachments (and the volumes it defines) and roles. Items are named after their keys
(a server's name, an ENV's name, ...), so reordering a list changes nothing in Terraform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from constructs import Construct

from agyn_cdk.l1 import (
    AgynAgent,
    AgynAgentResources,
    AgynAgentRole,
    AgynEnv,
    AgynHook,
    AgynInitScript,
    AgynMcp,
    AgynMcpResources,
    AgynSkill,
    AgynVolume,
    AgynVolumeAttachment,
)
from agyn_cdk.naming import construct_id, unique


@dataclass(frozen=True)
class FromSecret:
    """An ENV whose value is a secret of the organization (its id), resolved when the workload starts."""

    secret_id: str


EnvValue = str | FromSecret
"""A plain value (write-only), or a secret."""


@dataclass(frozen=True, kw_only=True)
class Volume:
    """A volume of the agent's organization, defined here and mounted into its owner."""

    name: str
    mount_path: str
    persistent: bool = False
    size: str | None = None
    ttl: str | None = None


VolumeMount = Volume | str
"""A `Volume` to define, or the id of an existing volume to attach."""


@dataclass(frozen=True, kw_only=True)
class McpServer:
    """An MCP server next to the agent. Plain `env` values go into the server's own `env` map; `FromSecret`
    values become ENVs of the server."""

    name: str
    command: str
    image: str | None = None
    env: Mapping[str, EnvValue] = field(default_factory=dict)
    init_scripts: Sequence[str] = ()
    volumes: Sequence[VolumeMount] = ()
    resources: AgynMcpResources | None = None


@dataclass(frozen=True, kw_only=True)
class Skill:
    """Instructions the agent loads when a task calls for them."""

    name: str
    body: str
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class Hook:
    """A function run on an event of the workload; `key` tells apart hooks of the same event (default: the
    event)."""

    event: str
    function: str
    image: str | None = None
    env: Mapping[str, EnvValue] = field(default_factory=dict)
    volumes: Sequence[VolumeMount] = ()
    key: str | None = None


@dataclass(frozen=True)
class AgentRole:
    """An identity's role on the agent; `key` names it in the stack when `identity_id` is a reference
    (e.g. `Organization.member_id(...)`, which also makes the role wait for the membership)."""

    identity_id: str
    role: Literal["owner", "maintainer", "participant"] = "participant"
    key: str | None = None


class Agent(Construct):
    """An agent (`agyn_agent`) with its tools, configuration and roles.

    Defaults: `availability="internal"` (every member may talk to it), `idle_timeout="5m"`.
    """

    def __init__(self, scope: Construct, id: str, *, organization_id: str, name: str, role: str, model: str,
                 availability: Literal["internal", "private"] = "internal", idle_timeout: str = "5m",
                 nickname: str | None = None, image: str | None = None, init_image: str | None = None,
                 configuration: Mapping[str, Any] | None = None, runner_labels: Mapping[str, str] | None = None,
                 capabilities: Sequence[str] | None = None, resources: AgynAgentResources | None = None,
                 mcp_servers: Sequence[McpServer] = (), skills: Sequence[Skill] = (), hooks: Sequence[Hook] = (),
                 env: Mapping[str, EnvValue] | None = None, init_scripts: Sequence[str] = (),
                 volumes: Sequence[VolumeMount] = (), roles: Sequence[AgentRole] = ()) -> None:
        super().__init__(scope, id)
        self._organization_id = organization_id
        self.agent = AgynAgent(self, "agent", organization_id=organization_id, name=name, role=role, model=model,
                               availability=availability, idle_timeout=idle_timeout, nickname=nickname, image=image,
                               init_image=init_image, configuration=configuration, runner_labels=runner_labels,
                               capabilities=capabilities, resources=resources)
        self.volumes: dict[str, AgynVolume] = {}
        self._definitions: dict[str, Volume] = {}
        self._owned(self, {"agent_id": self.id}, env or {}, init_scripts, volumes)

        unique([s.name for s in mcp_servers], "MCP servers")
        self.mcp_servers: dict[str, AgynMcp] = {}
        for server in mcp_servers:
            scope_ = Construct(self, construct_id("mcp", server.name, "an MCP server's name"))
            mcp = AgynMcp(scope_, "mcp", agent_id=self.id, name=server.name, command=server.command,
                          image=server.image, resources=server.resources,
                          env={k: v for k, v in server.env.items() if isinstance(v, str)})
            self.mcp_servers[server.name] = mcp
            self._owned(scope_, {"mcp_id": mcp.id},
                        {k: v for k, v in server.env.items() if isinstance(v, FromSecret)},
                        server.init_scripts, server.volumes)

        unique([s.name for s in skills], "skills")
        self.skills = {s.name: AgynSkill(self, construct_id("skill", s.name, "a skill's name"), agent_id=self.id,
                                         name=s.name, body=s.body, description=s.description) for s in skills}

        unique([h.key or h.event for h in hooks], "hooks")
        self.hooks: dict[str, AgynHook] = {}
        for hook in hooks:
            key = hook.key or hook.event
            scope_ = Construct(self, construct_id("hook", key, "a hook's key"))
            self.hooks[key] = AgynHook(scope_, "hook", agent_id=self.id, event=hook.event, function=hook.function,
                                       image=hook.image)
            self._owned(scope_, {"hook_id": self.hooks[key].id}, hook.env, (), hook.volumes)

        keys = [r.key or r.identity_id for r in roles]
        ids = [construct_id("role", k, f"the identity of role {r.role}") for k, r in zip(keys, roles, strict=True)]
        unique(ids, "roles")
        self.roles = {k: AgynAgentRole(self, i, agent_id=self.id, identity_id=r.identity_id, role=r.role)
                      for k, i, r in zip(keys, ids, roles, strict=True)}

    @property
    def id(self) -> str:
        """The agent's id (its identity id; a reference)."""
        return self.agent.id

    def _owned(self, scope: Construct, owner: dict[str, str], env: Mapping[str, EnvValue],
               init_scripts: Sequence[str], volumes: Sequence[VolumeMount]) -> None:
        """ENVs, init scripts and volume attachments of the agent, an MCP server or a hook (`owner` is
        its `<kind>_id` argument)."""
        for name, value in env.items():
            source = {"secret_id": value.secret_id} if isinstance(value, FromSecret) else {"value": value}
            AgynEnv(scope, construct_id("env", name, "an ENV's name"), name=name, **owner, **source)
        for index, script in enumerate(init_scripts):
            AgynInitScript(scope, f"init-script-{index}", script=script, **owner)
        for index, mount in enumerate(volumes):
            if isinstance(mount, Volume):
                if self._definitions.setdefault(mount.name, mount) != mount:
                    raise ValueError(f"volume {mount.name!r} is defined twice, differently")
                if mount.name not in self.volumes:
                    self.volumes[mount.name] = AgynVolume(
                        self, construct_id("volume", mount.name, "a volume's name"),
                        organization_id=self._organization_id, name=mount.name, mount_path=mount.mount_path,
                        persistent=mount.persistent, size=mount.size, ttl=mount.ttl)
                volume_id, key = self.volumes[mount.name].id, construct_id("mount", mount.name, "")
            else:
                volume_id, key = mount, f"mount-{index}"
            AgynVolumeAttachment(scope, key, volume_id=volume_id, **owner)


__all__ = ["Agent", "AgentRole", "EnvValue", "FromSecret", "Hook", "McpServer", "Skill", "Volume", "VolumeMount"]
