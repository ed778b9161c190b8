from agyn.agents.resources import (
    AGENT,
    ENV,
    HOOK,
    INIT_SCRIPT,
    MCP,
    SKILL,
    VOLUME,
    VOLUME_ATTACHMENT,
)
from agyn.kit.collections import build_model

Agent = build_model(AGENT)
Mcp = build_model(MCP)
Skill = build_model(SKILL)
Hook = build_model(HOOK)
Env = build_model(ENV)
InitScript = build_model(INIT_SCRIPT)
Volume = build_model(VOLUME)
VolumeAttachment = build_model(VOLUME_ATTACHMENT)
