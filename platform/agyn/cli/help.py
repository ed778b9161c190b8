"""Readable `--help` screens: conventional upper-case metavars (`URL`, `DIR`) instead of typer's type tags
(`<str>`, `<bool>`), none for flags and arguments (their names say it), paragraphs reflowed to the
terminal's width (markdown mode) instead of keeping the docstrings' line breaks."""

from __future__ import annotations

from typing import Any, Literal

from typer import core

MARKUP_MODE: Literal["markdown"] = "markdown"
_TAGS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "bool": "BOOLEAN", "datetime": "TIME"}
_original_display_type = core._TyperParameter.display_type


def _display_type(self: Any, ctx: Any) -> str | None:
    if isinstance(self, core.TyperArgument):
        return None
    if getattr(self, "is_flag", False) and not getattr(self, "count", False):
        return None
    if self.metavar:
        return str(self.metavar)
    tag = str(_original_display_type(self, ctx)).strip("<>")
    return _TAGS.get(tag, tag.upper())


def _usage_name(self: Any) -> str:
    """`NAME` / `[NAME]` in the usage line, as most commands write it (typer writes `{name}`)."""
    name = str(self.metavar or self.display_name_raw).upper() + ("..." if self.nargs != 1 else "")
    return name if self.required else f"[{name}]"


def install() -> None:
    """Once, before the app builds its help: typer has no setting for these."""
    core._TyperParameter.display_type = _display_type  # type: ignore[method-assign,assignment]
    core.TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
