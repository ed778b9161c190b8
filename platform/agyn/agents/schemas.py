from agyn.agents.resources import (
    AGENT,
    AGENT_ROLE,
    ENV,
    HOOK,
    INIT_SCRIPT,
    MCP,
    SKILL,
    VOLUME,
    VOLUME_ATTACHMENT,
)
from agyn.kit.collections import build_schemas

AgentSchemas = build_schemas(AGENT)
AgentRoleSchemas = build_schemas(AGENT_ROLE)
McpSchemas = build_schemas(MCP)
SkillSchemas = build_schemas(SKILL)
HookSchemas = build_schemas(HOOK)
EnvSchemas = build_schemas(ENV)
InitScriptSchemas = build_schemas(INIT_SCRIPT)
VolumeSchemas = build_schemas(VOLUME)
VolumeAttachmentSchemas = build_schemas(VOLUME_ATTACHMENT)
