"""Uploaded files: one row per file (its bytes live in storage under the file's id), and the threads
whose messages carry it."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from agyn.kit.db import Base, RecordModel


class File(RecordModel):
    """Immutable once uploaded: only deleted."""

    __tablename__ = "files"
    __table_args__ = (Index("ix_files_organization_id_id", "organization_id", "id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    uploader_id: Mapped[uuid.UUID] = mapped_column()
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))


class Attachment(Base):
    """A file some message of a thread carries: the thread's readers may read it."""

    __tablename__ = "file_attachments"

    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), primary_key=True)
    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
