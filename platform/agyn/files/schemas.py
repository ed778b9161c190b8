from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from agyn.kit.http import ReadSchema, Schema


class FileRead(ReadSchema):
    id: uuid.UUID
    organization_id: uuid.UUID
    filename: str
    content_type: str = Field(description="Sniffed from the bytes (a declared type may only refine text).")
    size_bytes: int
    sha256: str
    created_at: datetime


class SignedUrlRequest(Schema):
    expires_in_seconds: int | None = Field(
        default=None, ge=1, le=86_400, description="How long the URL works; default AGYN_FILES__URL_TTL_SECONDS.")


class SignedUrl(ReadSchema):
    url: str = Field(description="Downloads the file without a token until `expires_at`.")
    expires_at: datetime
