from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from agyn.identity.nicknames import NICKNAME_PATTERN
from agyn.kit.http import ReadSchema, ResourceRead, Schema
from agyn.kit.principal import IdentityType
from agyn.kit.text import TRIMMED_PATTERN
from agyn.users.resources import EMAIL, USER

Username = Annotated[str, StringConstraints(pattern=NICKNAME_PATTERN.pattern)]
Name = Annotated[str, StringConstraints(max_length=USER.field("name").max_length)]
Email = Annotated[str, StringConstraints(max_length=USER.field("email").max_length, pattern=EMAIL)]
PhotoUrl = Annotated[str, StringConstraints(max_length=USER.field("photo_url").max_length)]
ClusterRole = Literal["admin", "none"]


class UserCreate(Schema):
    oidc_subject: Annotated[str, StringConstraints(min_length=USER.field("oidc_subject").min_length,
                                                   max_length=USER.field("oidc_subject").max_length)]
    username: Username | None = None
    name: Name | None = None
    email: Email | None = None
    photo_url: PhotoUrl | None = None
    cluster_role: ClusterRole = "none"


class UserUpdate(Schema):
    username: Username | None = None
    name: Name | None = None
    email: Email | None = None
    photo_url: PhotoUrl | None = None
    cluster_role: ClusterRole | None = None


class UserRead(ResourceRead):
    oidc_subject: str
    username: str
    name: str
    email: str
    photo_url: str
    cluster_role: ClusterRole


class Me(ReadSchema):
    identity_id: uuid.UUID
    identity_type: IdentityType
    username: str | None = None
    name: str | None = None
    email: str | None = None
    cluster_role: ClusterRole | None = None


class ApiTokenCreate(Schema):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=TRIMMED_PATTERN)]
    expires_at: AwareDatetime | None = Field(default=None, description="RFC 3339; omit for no expiry.")


class ApiTokenRead(ReadSchema):
    id: uuid.UUID
    identity_id: uuid.UUID
    name: str
    token_prefix: str = Field(description="The first 8 characters after `agyn_`, to tell tokens apart.")
    origin: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    token: str = Field(description="The token itself. Shown only in this response; store it now.")
