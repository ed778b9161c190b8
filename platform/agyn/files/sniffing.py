"""An upload's content type, decided from its bytes: a declared type may name what the bytes are, or
refine text (JSON, CSV ...), but never contradict them."""

from __future__ import annotations

import filetype

from agyn.kit.errors import UnsupportedMediaType

GENERIC = {"", "application/octet-stream", "binary/octet-stream"}
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "audio/mp3": "audio/mpeg",
           "audio/x-wav": "audio/wav", "audio/wave": "audio/wav", "audio/x-flac": "audio/flac",
           "application/x-zip-compressed": "application/zip", "image/x-png": "image/png"}
TEXT_TYPES = {"application/json", "application/xml", "application/yaml", "application/x-yaml",
              "application/javascript", "application/x-ndjson", "application/toml", "application/sql",
              "image/svg+xml"}
"""Types whose bytes are text: a text upload may be declared as one of these (or any text/*)."""


def normalise(content_type: str | None) -> str:
    """`Image/JPG; charset=x` → `image/jpeg`."""
    bare = (content_type or "").split(";", 1)[0].strip().lower()
    return ALIASES.get(bare, bare)


def is_text_type(content_type: str) -> bool:
    return content_type.startswith("text/") or content_type in TEXT_TYPES or content_type.endswith(
        ("+json", "+xml"))


def looks_like_text(head: bytes) -> bool:
    """UTF-8 without NUL bytes (a multi-byte character cut at the end of `head` is fine)."""
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3 and error.reason == "unexpected end of data"
    return True


def _same_container(declared: str, sniffed: str) -> bool:
    """`audio/mp4` for what sniffs as `video/mp4` (and webm, ogg): one container, either kind of media."""
    kinds = {"audio", "video", "application"}
    declared_kind, _, declared_format = declared.partition("/")
    sniffed_kind, _, sniffed_format = sniffed.partition("/")
    return declared_kind in kinds and sniffed_kind in kinds and declared_format == sniffed_format


def decide(head: bytes, declared: str | None) -> str:
    """The content type to record, or 415 when `declared` contradicts the bytes."""
    declared_type = normalise(declared)
    kind = filetype.guess(head) if head else None
    if kind is not None:
        sniffed = normalise(kind.mime)
        if declared_type in GENERIC or declared_type == sniffed or _same_container(declared_type, sniffed):
            return sniffed if declared_type in GENERIC else declared_type
        raise UnsupportedMediaType(f"the file is {sniffed} by its content, not {declared_type} as declared; "
                                   "declare its real type, or none")
    if looks_like_text(head):
        if declared_type in GENERIC:
            return "text/plain"
        if is_text_type(declared_type):
            return declared_type
        raise UnsupportedMediaType(f"the file is text by its content, not {declared_type} as declared; "
                                   "declare a text type, or none")
    if declared_type not in GENERIC and filetype.get_type(mime=declared_type) is not None:
        # a type whose signature we know, but these bytes do not carry it
        raise UnsupportedMediaType(f"the file's content is not {declared_type} as declared; declare its "
                                   "real type, or none")
    return declared_type if declared_type not in GENERIC and not is_text_type(declared_type) \
        else "application/octet-stream"
