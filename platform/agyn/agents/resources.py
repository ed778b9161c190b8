"""Agents, their roles and their configuration, as declared once for the API, Terraform and the CDK."""

from agyn.identity.nicknames import NICKNAME, NICKNAME_MESSAGE
from agyn.kit.resources import (
    REGISTRY,
    Condition,
    DataSource,
    Field,
    Resource,
    Scope,
    boolean,
    duration,
    enum,
    json_object,
    nested,
    organization_id,
    reference,
    string,
    string_list,
    string_map,
)

QUANTITY = r"\+?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?"
QUANTITY_MESSAGE = "must be a Kubernetes quantity, e.g. 500m, 2, 512Mi or 10Gi"
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
ENV_NAME_MESSAGE = "must be an environment variable name: letters, digits and '_', not starting with a digit"
AGENT_ROLES = ("owner", "maintainer", "participant")
HOOK_EVENTS = ("workload.started", "workload.stopping", "message.received", "message.sent", "llm.before",
               "llm.after", "tool.before", "tool.after", "run.start", "run.end")
"""What a hook can run on: the workload's life, and the agent runtime's steps."""
AGENT_SCOPE = Scope("agent", "agents", "owner_agent_id", read_relation="can_read_config",
                    write_relation="can_edit_config", derived=True)
"""A part of an agent's configuration: read and written with the agent's configuration."""


def quantity(name: str, description: str, **options: object) -> Field:
    return string(name, description, max_length=64, pattern=QUANTITY, pattern_message=QUANTITY_MESSAGE, **options)


def compute_resources() -> Field:
    return nested("resources", "Compute requests and limits of the container (Kubernetes quantities).", fields=(
        quantity("requests_cpu", "CPU requested, e.g. 250m."),
        quantity("requests_memory", "Memory requested, e.g. 256Mi."),
        quantity("limits_cpu", "CPU limit, e.g. 2."),
        quantity("limits_memory", "Memory limit, e.g. 2Gi."),
    ))


def owned_by(name: str, collection: str, description: str, **options: object) -> Field:
    """The agent, MCP server or hook a configuration item belongs to (it goes when its owner goes)."""
    return reference(name, collection, description, immutable=True, filterable=True, on_delete="cascade",
                     **options)


AGENT = REGISTRY.register(Resource(
    name="agent",
    collection="agents",
    description="An agent: who it is (name, @nickname, role), the model it thinks with, where and how it runs, "
                "and who may start conversations with it. Its id is its identity id.",
    fields=(
        organization_id(),
        string("name", "A name for people; unique in the organization.", required=True, min_length=1,
               max_length=64, filterable=True),
        string("nickname", "The @handle people mention it by; unique among the organization's identities "
               "(users included).", max_length=32, pattern=NICKNAME, pattern_message=NICKNAME_MESSAGE),
        string("role", "What it does, e.g. assistant or reviewer; told to the agent at run time.", required=True,
               min_length=1, max_length=64),
        reference("model", "models", "The id of the model it uses (an `agyn_model` of its organization, e.g. "
                  "`agyn_model.gpt.id`), not the model's name.", required=True),
        string("image", "Container image the agent runs in.", max_length=1024),
        string("init_image", "Container image that prepares the workload before the agent starts.",
               max_length=1024),
        json_object("configuration", "Configuration for the agent runtime, e.g. {\"system_prompt\": \"...\"}.",
                    default={}),
        duration("idle_timeout", "How long a workload may stay idle before it is stopped.", default="5m0s",
                 positive=True),
        string_map("runner_labels", "Labels a runner must carry to run this agent.", default={}),
        string_list("capabilities", "What a runner must offer to run this agent, e.g. docker.", default=[]),
        enum("availability", "internal: every member of the organization may start conversations with it; "
             "private: only those with a role on it.", ("internal", "private"), required=True),
        compute_resources(),
    ),
    unique_together=(("organization_id", "name"),),
    data_source=DataSource(lookup=("organization_id", "name")),
))

AGENT_ROLE = REGISTRY.register(Resource(
    name="agent_role",
    collection="agent-roles",
    description="An identity's role on an agent: owner (everything), maintainer (configuration) or participant "
                "(may start conversations). One role per identity; the id is `<agent_id>:<identity_id>`.",
    fields=(
        reference("agent_id", "agents", "The agent.", required=True, immutable=True, filterable=True,
                  on_delete="cascade"),
        reference("identity_id", "identities", "Who gets the role: an active member of the agent's organization.",
                  required=True, immutable=True, filterable=True, on_delete="cascade", same_organization=False),
        enum("role", "owner, maintainer or participant.", AGENT_ROLES, required=True),
    ),
    storage="custom",
    scope=None,
    id_kind="composite",
))

MCP = REGISTRY.register(Resource(
    name="mcp",
    collection="mcps",
    description="An MCP server the agent's tools come from, run next to the agent.",
    fields=(
        owned_by("agent_id", "agents", "The agent it serves.", required=True),
        string("name", "Unique per agent; prefixes its tools' names.", required=True, max_length=63,
               pattern=r"[a-z][a-z0-9_]{0,62}",
               pattern_message="use 1 to 63 characters from a-z, 0-9 and '_', starting with a letter"),
        string("image", "Container image the server runs in.", max_length=1024),
        string("command", "Command that starts the server.", required=True, min_length=1, max_length=4096),
        string_map("env", "Plain environment variables of the server (use envs for secrets).", default={},
                   key_pattern=ENV_NAME, key_pattern_message=ENV_NAME_MESSAGE),
        compute_resources(),
    ),
    unique_together=(("agent_id", "name"),),
    scope=AGENT_SCOPE,
))

SKILL = REGISTRY.register(Resource(
    name="skill",
    collection="skills",
    description="Instructions the agent loads when a task calls for them.",
    fields=(
        owned_by("agent_id", "agents", "The agent it belongs to.", required=True),
        string("name", "A slug, unique per agent.", required=True, max_length=64, pattern=r"[a-z0-9][a-z0-9-]{0,63}",
               pattern_message="use 1 to 64 characters from a-z, 0-9 and '-', starting with a letter or digit"),
        string("body", "The instructions (Markdown, without front matter).", required=True, min_length=1,
               max_length=262_144),
        string("description", "When the skill applies.", max_length=1024),
    ),
    unique_together=(("agent_id", "name"),),
    scope=AGENT_SCOPE,
))

HOOK = REGISTRY.register(Resource(
    name="hook",
    collection="hooks",
    description="A function run when something happens in the agent's workload.",
    fields=(
        owned_by("agent_id", "agents", "The agent it belongs to.", required=True),
        enum("event", "The event that runs it.", HOOK_EVENTS, required=True, max_length=100),
        string("function", "What runs: the function (command) invoked with the event.", required=True,
               min_length=1, max_length=4096),
        string("image", "Container image it runs in.", max_length=1024),
    ),
    scope=AGENT_SCOPE,
))

ENV = REGISTRY.register(Resource(
    name="env",
    collection="envs",
    description="An environment variable of an agent, an MCP server or a hook: a value (write-only) or a "
                "secret, resolved when the workload starts.",
    fields=(
        owned_by("agent_id", "agents", "The agent that gets it."),
        owned_by("mcp_id", "mcps", "The MCP server that gets it."),
        owned_by("hook_id", "hooks", "The hook that gets it."),
        string("name", "The variable's name; unique per agent, MCP server or hook.", required=True,
               max_length=255, pattern=ENV_NAME, pattern_message=ENV_NAME_MESSAGE),
        string("value", "The value.", sensitive=True, max_length=65_536),
        reference("secret_id", "secrets", "A secret of the organization that holds the value."),
    ),
    exactly_one_of=(("agent_id", "mcp_id", "hook_id"), ("value", "secret_id")),
    unique_together=(("agent_id", "mcp_id", "hook_id", "name"),),
    scope=AGENT_SCOPE,
))

INIT_SCRIPT = REGISTRY.register(Resource(
    name="init_script",
    collection="init-scripts",
    description="A shell script run in the workload before the agent or MCP server starts.",
    fields=(
        owned_by("agent_id", "agents", "The agent it prepares."),
        owned_by("mcp_id", "mcps", "The MCP server it prepares."),
        string("script", "The shell script.", required=True, min_length=1, max_length=262_144),
    ),
    exactly_one_of=(("agent_id", "mcp_id"),),
    scope=AGENT_SCOPE,
))

VOLUME = REGISTRY.register(Resource(
    name="volume",
    collection="volumes",
    description="A volume definition of the organization: scratch space, or a persistent disk; attach it to "
                "agents, MCP servers or hooks.",
    fields=(
        organization_id(),
        string("name", "Unique in the organization (a DNS label).", required=True, max_length=63, filterable=True,
               pattern=r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
               pattern_message="use 1 to 63 characters from a-z, 0-9 and '-', starting and ending with a letter "
                               "or digit"),
        boolean("persistent", "true: a disk that outlives the workload; false: scratch space.", default=False),
        quantity("size", "Capacity, e.g. 10Gi; required when persistent."),
        string("mount_path", "Absolute path it is mounted at.", required=True, max_length=4096,
               pattern=r"/[^\x00]*", pattern_message="must be an absolute path"),
        duration("ttl", "How long a persistent disk survives after its last workload stopped; empty: forever.",
                 positive=True),
    ),
    conditions=(Condition("persistent", (True,), require=("size",)),),
    unique_together=(("organization_id", "name"),),
    data_source=DataSource(lookup=("organization_id", "name")),
))

VOLUME_ATTACHMENT = REGISTRY.register(Resource(
    name="volume_attachment",
    collection="volume-attachments",
    description="Mounts a volume into an agent, an MCP server or a hook. Cannot be changed: replace it.",
    fields=(
        reference("volume_id", "volumes", "The volume (it cannot be deleted while attached).", required=True,
                  immutable=True, filterable=True),
        owned_by("agent_id", "agents", "The agent that mounts it."),
        owned_by("mcp_id", "mcps", "The MCP server that mounts it."),
        owned_by("hook_id", "hooks", "The hook that mounts it."),
    ),
    exactly_one_of=(("agent_id", "mcp_id", "hook_id"),),
    unique_together=(("agent_id", "mcp_id", "hook_id", "volume_id"),),
    scope=AGENT_SCOPE,
))
