"""A workload's spec from its agent's configuration: the runtime's environment (the contract with the
agent runtime), its MCP servers, init scripts, hooks and volumes, with ENVs resolved (secret-backed
ones read now, held in memory only) and a fresh workload token."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.agents.models import Agent, Env, Hook, InitScript, Mcp, Volume, VolumeAttachment
from agyn.agents.service import EnvsService
from agyn.kit.errors import ProblemError
from agyn.kit.platform import Platform
from agyn.runners.models import Workload
from agyn.runners.runtime import McpSpec, VolumeSpec, WorkloadSpec
from agyn.secrets.service import SecretsService
from agyn.users import workload_tokens


class ConfigInvalid(Exception):
    """The agent's configuration cannot make a workload (a secret that cannot be read, say)."""


async def attached_volumes(session: AsyncSession, agent_id: uuid.UUID) -> list[Any]:
    """The volumes attached to the agent or to its MCP servers and hooks."""
    return list((await session.scalars(
        select(Volume).join(VolumeAttachment, VolumeAttachment.volume_id == Volume.id)
        .where(VolumeAttachment.owner_agent_id == agent_id).distinct().order_by(Volume.name))).all())


async def _value(session: AsyncSession, platform: Platform, env: Any) -> str:
    if env.secret_id is not None:
        try:
            return await platform.get(SecretsService).resolve(session, env.secret_id)
        except ProblemError as error:
            raise ConfigInvalid(f"ENV {env.name}: {error.detail}") from None
    return str(platform.get(EnvsService).decrypt(env, "value") or "")


async def build_spec(session: AsyncSession, platform: Platform, workload: Workload, *, platform_url: str,
                     runtime_command: str, token_ttl: timedelta) -> WorkloadSpec:
    agent_id = workload.agent_id
    agent = await session.get(Agent, agent_id)
    envs = (await session.scalars(select(Env).where(Env.owner_agent_id == agent_id).order_by(Env.name))).all()
    agent_env: dict[str, str] = {}
    mcp_env: dict[uuid.UUID, dict[str, str]] = {}
    hook_env: dict[uuid.UUID, dict[str, str]] = {}
    for env in envs:
        value = await _value(session, platform, env)
        if env.agent_id is not None:
            agent_env[env.name] = value
        elif env.mcp_id is not None:
            mcp_env.setdefault(env.mcp_id, {})[env.name] = value
        elif env.hook_id is not None:
            hook_env.setdefault(env.hook_id, {})[env.name] = value
    mcps = (await session.scalars(select(Mcp).where(Mcp.owner_agent_id == agent_id).order_by(Mcp.name))).all()
    scripts = (await session.scalars(select(InitScript).where(InitScript.owner_agent_id == agent_id)
                                     .order_by(InitScript.mcp_id.is_not(None), InitScript.id))).all()
    hooks = (await session.scalars(select(Hook).where(Hook.owner_agent_id == agent_id).order_by(Hook.id))).all()
    volumes = await attached_volumes(session, agent_id)
    token = await workload_tokens.issue(session, platform, agent_id=agent_id, thread_id=workload.thread_id,
                                        workload_id=workload.id, organization_id=workload.organization_id,
                                        ttl=token_ttl)
    base = platform_url.rstrip("/")
    env = {**agent_env,
           "AGYN_PLATFORM_URL": base, "AGYN_WORKLOAD_TOKEN": token, "AGYN_WORKLOAD_ID": str(workload.id),
           "AGYN_THREAD_ID": str(workload.thread_id), "AGYN_AGENT_ID": str(agent_id),
           "AGYN_ORGANIZATION_ID": str(workload.organization_id), "AGYN_LLM_BASE_URL": f"{base}/v1"}
    return WorkloadSpec(
        workload_id=workload.id, agent_id=agent_id, thread_id=workload.thread_id,
        organization_id=workload.organization_id, runtime_command=runtime_command, env=env,
        init_scripts=[s.script for s in scripts],
        mcps=[McpSpec(m.name, m.command, {**(m.env or {}), **mcp_env.get(m.id, {})}, m.image, _resources(m))
              for m in mcps],
        hooks=[{"id": str(h.id), "event": h.event, "function": h.function, "env": hook_env.get(h.id, {}),
                "image": h.image} for h in hooks],
        volumes=[VolumeSpec(v.id, v.name, v.mount_path, bool(v.persistent), v.size) for v in volumes],
        image=agent.image if agent is not None else None, init_image=agent.init_image if agent is not None else None,
        resources=_resources(agent))


def _resources(owner: Any) -> dict[str, str]:
    """requests_cpu, requests_memory, limits_cpu, limits_memory: those that are set."""
    return {k: str(v) for k, v in ((getattr(owner, "resources", None) or {}).items()) if v}
