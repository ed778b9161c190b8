from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import StringConstraints

from agyn.kit.http import ResourceRead, Schema
from agyn.kit.text import TRIMMED_PATTERN
from agyn.organizations.resources import ORGANIZATION

_NAME = ORGANIZATION.field("name")
OrgName = Annotated[str, StringConstraints(min_length=_NAME.min_length, max_length=_NAME.max_length,
                                           pattern=TRIMMED_PATTERN)]
MembershipRole = Literal["owner", "member"]
MembershipStatus = Literal["pending", "active"]


class OrganizationCreate(Schema):
    name: OrgName


class OrganizationUpdate(Schema):
    name: OrgName | None = None


class OrganizationRead(ResourceRead):
    name: str


class MembershipCreate(Schema):
    organization_id: uuid.UUID
    identity_id: uuid.UUID
    role: MembershipRole = "member"


class MembershipUpdate(Schema):
    role: MembershipRole


class MembershipRead(ResourceRead):
    organization_id: uuid.UUID
    identity_id: uuid.UUID
    role: MembershipRole
    status: MembershipStatus
