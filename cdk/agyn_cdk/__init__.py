"""Agyn's construct library for CDK for Terraform (`cdktf`, or its fork `cdktn`; see `agyn_cdk.framework`).

- `agyn_cdk.l1`: one class per resource and data source of the Terraform provider `agyn`, generated
  from the platform's resource registry (`AgynAgent`, `DataAgynModel`, ..., and `AgynProvider`).
- L2 constructs with defaults: `Organization` (members, an optional `LlmCatalog`), `Secret` and `Agent`
  (with MCP servers, skills, hooks, ENVs, init scripts, volumes and roles as nested props).
- Every value is checked against the platform's rules when a construct is made (`InvalidConfiguration`).
"""

from agyn_cdk import l1
from agyn_cdk.agent import (
    Agent,
    AgentRole,
    EnvValue,
    FromSecret,
    Hook,
    HookEvent,
    McpServer,
    Skill,
    Volume,
    VolumeMount,
)
from agyn_cdk.base import InvalidConfiguration
from agyn_cdk.framework import NAME as FRAMEWORK
from agyn_cdk.framework import cdk
from agyn_cdk.l1 import AgynProvider
from agyn_cdk.organization import LlmCatalog, LlmCatalogProps, Member, Organization, Secret

__all__ = [
    "FRAMEWORK",
    "Agent",
    "AgentRole",
    "AgynProvider",
    "EnvValue",
    "FromSecret",
    "Hook",
    "HookEvent",
    "InvalidConfiguration",
    "LlmCatalog",
    "LlmCatalogProps",
    "McpServer",
    "Member",
    "Organization",
    "Secret",
    "Skill",
    "Volume",
    "VolumeMount",
    "cdk",
    "l1",
]
