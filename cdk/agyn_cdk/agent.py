"""The `Agent` L2 construct: an agent and everything it owns, declared as nested props.

One `Agent` makes the `agyn_agent` and, wired to its id, its MCP servers, skills, hooks, ENVs, init
scripts, volume attachments (and the volumes it defines) and roles. Items are named after their keys
(a server's name, an ENV's name, a script's content, ...), so reordering a list changes nothing in
Terraform. Every value is checked against the platform's rules when the constructs are made.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from constructs import Construct

from agyn_cdk.framework import cdk
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

HookEvent = Literal["workload.started", "workload.stopping", "message.received", "message.sent", "llm.before",
                    "llm.after", "tool.before", "tool.after", "run.start", "run.end"]
"""What a hook can run on (the registry's `HOOK_EVENTS`; a test keeps the two equal)."""


@dataclass(frozen=True)
class FromSecret:
    """An ENV whose value is a secret of the organization (its id), resolved when the workload starts."""

    secret_id: str


EnvValue = str | FromSecret
"""A plain value (write-only), or a secret."""


@dataclass(frozen=True, kw_only=True)
class Volume:
    """A volume of the agent's organization, defined here and mounted into its owner. The same `Volume`
    (same name, same settings) given to several agents, MCP servers or hooks of one organization in a
    stack is ONE volume mounted into each: it is shared, not defined twice."""

    name: str
    """Unique in the organization: a DNS label (a-z, 0-9 and '-', at most 63)."""
    mount_path: str
    """Absolute path it is mounted at."""
    persistent: bool = False
    """True: a disk that outlives the workload (then `size` is required); false: scratch space."""
    size: str | None = None
    """Capacity, a Kubernetes quantity such as 10Gi."""
    ttl: str | None = None
    """How long a persistent disk survives after its last workload stopped (a duration such as 24h)."""


VolumeMount = Volume | str
"""A `Volume` to define, or the id of an existing volume to attach."""


@dataclass(frozen=True, kw_only=True)
class McpServer:
    """An MCP server next to the agent. Its `env` works as the agent's: each entry becomes an ENV of the
    server, a plain value write-only, a `FromSecret` resolved when the workload starts."""

    name: str
    """Unique per agent; prefixes its tools' names (a-z, 0-9 and '_', starting with a letter)."""
    command: str
    """Command that starts the server."""
    image: str | None = None
    """Container image the server runs in."""
    env: Mapping[str, EnvValue] = field(default_factory=dict)
    """Environment variables: name => a plain value (write-only) or `FromSecret`."""
    init_scripts: Sequence[str] = ()
    """Shell scripts run before the server starts (each keyed by its content: reordering changes nothing)."""
    volumes: Sequence[VolumeMount] = ()
    """Volumes to mount: a `Volume` to define (or share), or an existing volume's id."""
    resources: AgynMcpResources | None = None
    """Compute requests and limits."""


@dataclass(frozen=True, kw_only=True)
class Skill:
    """Instructions the agent loads when a task calls for them."""

    name: str
    """A slug, unique per agent (a-z, 0-9 and '-')."""
    body: str
    """The instructions (Markdown, without front matter)."""
    description: str | None = None
    """When the skill applies."""


@dataclass(frozen=True, kw_only=True)
class Hook:
    """A function run on an event of the workload; `key` tells apart hooks of the same event (default: the
    event)."""

    event: HookEvent
    """The event that runs it."""
    function: str
    """What runs: the function (command) invoked with the event."""
    image: str | None = None
    """Container image it runs in."""
    env: Mapping[str, EnvValue] = field(default_factory=dict)
    """Environment variables: name => a plain value (write-only) or `FromSecret`."""
    volumes: Sequence[VolumeMount] = ()
    """Volumes to mount: a `Volume` to define (or share), or an existing volume's id."""
    key: str | None = None
    """Names the hook in the stack (default: the event)."""


@dataclass(frozen=True)
class AgentRole:
    """An identity's role on the agent; `key` names it in the stack when `identity_id` is a reference
    (e.g. `Organization.member_id(...)`, which also makes the role wait for the membership)."""

    identity_id: str
    """The identity (a member of the agent's organization)."""
    role: Literal["owner", "maintainer", "participant"] = "participant"
    """owner (everything), maintainer (configuration) or participant (may start conversations)."""
    key: str | None = None
    """Names the role in the stack; needed when `identity_id` is a reference."""


class Owner(TypedDict, total=False):
    """Whose an ENV, init script or volume attachment is: exactly one of these."""

    agent_id: str
    mcp_id: str
    hook_id: str


_VOLUMES: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], tuple[Volume, AgynVolume]]] = \
    weakref.WeakKeyDictionary()
"""Volumes defined per stack, by (organization id, name): what makes one `Volume` shared."""


def script_key(script: str) -> str:
    """A stable construct id for an init script: its content's digest (reordering changes nothing)."""
    return "init-script-" + hashlib.sha256(script.encode()).hexdigest()[:12]


class Agent(Construct):
    """An agent (`agyn_agent`) with its tools, configuration and roles.

    Args:
        scope: The construct it belongs to (a stack).
        id: Its construct id.
        organization_id: The organization that owns it (e.g. `Organization.id`).
        name: A name for people; unique in the organization (1 to 64 characters).
        role: What it does, e.g. assistant or reviewer; told to the agent at run time.
        model: The id of the model it uses (e.g. `Organization.model_id("gpt-4o")`), not the model's name.
        availability: internal (default): every member may start conversations with it; private: only
            those with a role on it.
        idle_timeout: How long an idle workload stays up, a duration such as 5m (default) or 1h30m.
        nickname: The @handle people mention it by (a-z, 0-9, '_' and '-'; at most 32).
        image: Container image the agent runs in.
        init_image: Container image that prepares the workload before the agent starts.
        configuration: Configuration for the agent runtime, e.g. `{"system_prompt": "..."}`.
        runner_labels: Labels a runner must carry to run it.
        capabilities: What a runner must offer to run it, e.g. docker.
        resources: Compute requests and limits (Kubernetes quantities).
        mcp_servers: MCP servers next to the agent (unique names).
        skills: Instructions it loads when a task calls for them (unique names).
        hooks: Functions run on events of its workload (unique keys; the key defaults to the event).
        env: Environment variables: name => a plain value (write-only) or `FromSecret`.
        init_scripts: Shell scripts run before it starts (keyed by content: reordering changes nothing).
        volumes: Volumes to mount: a `Volume` to define or share, or an existing volume's id.
        roles: Identities' roles on it.

    Raises:
        InvalidConfiguration: a value breaks a rule of the platform (the attribute and the rule are named).
        ValueError: two items have the same name or key.
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
        """The volumes it mounts that `Volume`s declared, by name (possibly defined by another agent)."""
        self._owned(self, {"agent_id": self.id}, env or {}, init_scripts, volumes)

        unique([s.name for s in mcp_servers], "MCP servers")
        self.mcp_servers: dict[str, AgynMcp] = {}
        for server in mcp_servers:
            scope_ = Construct(self, construct_id("mcp", server.name, "an MCP server's name"))
            mcp = AgynMcp(scope_, "mcp", agent_id=self.id, name=server.name, command=server.command,
                          image=server.image, resources=server.resources)
            self.mcp_servers[server.name] = mcp
            self._owned(scope_, {"mcp_id": mcp.id}, server.env, server.init_scripts, server.volumes)

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

    def _owned(self, scope: Construct, owner: Owner, env: Mapping[str, EnvValue],
               init_scripts: Sequence[str], volumes: Sequence[VolumeMount]) -> None:
        """ENVs, init scripts and volume attachments of the agent, an MCP server or a hook (`owner` is
        its `<kind>_id` argument)."""
        for name, value in env.items():
            env_id = construct_id("env", name, "an ENV's name")
            if isinstance(value, FromSecret):
                AgynEnv(scope, env_id, name=name, secret_id=value.secret_id, **owner)
            else:
                AgynEnv(scope, env_id, name=name, value=value, **owner)
        keys = [script_key(script) for script in init_scripts]
        unique(keys, "init scripts (the same script twice)")
        for key, script in zip(keys, init_scripts, strict=True):
            AgynInitScript(scope, key, script=script, agent_id=owner.get("agent_id"), mcp_id=owner.get("mcp_id"))
        for index, mount in enumerate(volumes):
            if isinstance(mount, Volume):
                volume_id, key = self._volume(mount).id, construct_id("mount", mount.name, "")
            else:
                volume_id, key = mount, f"mount-{index}"
            AgynVolumeAttachment(scope, key, volume_id=volume_id, **owner)

    def _volume(self, volume: Volume) -> AgynVolume:
        """The organization's volume of this name in the stack: defined by the first `Agent` that
        mounts it, shared by the others."""
        stack = cdk.TerraformStack.of(self)
        defined = _VOLUMES.setdefault(stack, {})
        found = defined.get((self._organization_id, volume.name))
        if found is not None:
            if found[0] != volume:
                raise ValueError(f"volume {volume.name!r} is defined twice, differently: {found[0]} and {volume}")
            self.volumes[volume.name] = found[1]
            return found[1]
        made = AgynVolume(self, construct_id("volume", volume.name, "a volume's name"),
                          organization_id=self._organization_id, name=volume.name, mount_path=volume.mount_path,
                          persistent=volume.persistent, size=volume.size, ttl=volume.ttl)
        defined[(self._organization_id, volume.name)] = (volume, made)
        self.volumes[volume.name] = made
        return made


__all__ = ["Agent", "AgentRole", "EnvValue", "FromSecret", "Hook", "HookEvent", "McpServer", "Skill", "Volume",
           "VolumeMount", "script_key"]
