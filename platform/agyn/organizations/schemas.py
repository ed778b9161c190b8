from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from agyn.kit.collections import rule_check
from agyn.kit.http import ResourceRead, Schema
from agyn.kit.text import TRIMMED_PATTERN
from agyn.organizations.resources import MEMBERSHIP, ORGANIZATION

# input types checked by the registry's rules (agyn.kit.rules), as every other resource's; surrounding
# whitespace is refused, not stripped
OrgName = Annotated[str, rule_check(ORGANIZATION, "name"), StringConstraints(pattern=TRIMMED_PATTERN)]
MembershipRole = Literal["owner", "member"]
MembershipRoleInput = Annotated[str, rule_check(MEMBERSHIP, "role")]
MembershipStatus = Literal["pending", "active"]


class OrganizationCreate(Schema):
    name: OrgName


class OrganizationUpdate(Schema):
    name: OrgName | None = None


class OrganizationRead(ResourceRead):
    name: str


class MembershipCreate(Schema):
    organization_id: Annotated[uuid.UUID, rule_check(MEMBERSHIP, "organization_id")]
    identity_id: Annotated[uuid.UUID, rule_check(MEMBERSHIP, "identity_id")]
    role: MembershipRoleInput = "member"


class MembershipUpdate(Schema):
    role: MembershipRoleInput


class MembershipRead(ResourceRead):
    organization_id: uuid.UUID
    identity_id: uuid.UUID
    role: MembershipRole
    status: MembershipStatus


class NicknameRead(BaseModel):
    nickname: str = Field(description="The handle, without its @.")
    identity_id: uuid.UUID
    identity_type: str = Field(description="user, agent or app.")


class NicknameList(BaseModel):
    items: list[NicknameRead]
