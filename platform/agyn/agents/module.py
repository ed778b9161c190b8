from agyn.agents.models import Agent, Env, Hook, InitScript, Mcp, Skill, Volume, VolumeAttachment
from agyn.agents.service import (
    AgentRolesService,
    AgentsService,
    EnvsService,
    HooksService,
    InitScriptsService,
    McpsService,
    SkillsService,
    VolumeAttachmentsService,
    VolumesService,
)
from agyn.kit.platform import Module

MODULE = Module(
    name="agents",
    tables=(Agent, Mcp, Skill, Hook, Env, InitScript, Volume, VolumeAttachment),
    collections=(AgentsService, AgentRolesService, McpsService, SkillsService, HooksService, EnvsService,
                 InitScriptsService, VolumesService, VolumeAttachmentsService),
)
