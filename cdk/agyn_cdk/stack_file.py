"""A stack's settings file (`python main.py` in `stacks/*`): read into its pydantic model, each problem said
in one line, then the app synthesized."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from agyn_cdk.report import synth

Settings = TypeVar("Settings", bound=BaseModel)

_MESSAGES = {"extra_forbidden": "unknown key", "missing": "missing"}


def load(model: type[Settings], path: Path) -> Settings:
    return model.model_validate(yaml.safe_load(path.read_text()) or {})


def problems(error: ValidationError) -> list[str]:
    """One line per problem, `agents[0].nick: unknown key`, without pydantic's input dumps and links."""
    lines = []
    for item in error.errors(include_url=False):
        where = ""
        for part in item["loc"]:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
        message = _MESSAGES.get(item["type"], item["msg"].removeprefix("Value error, "))
        for line in message.splitlines():
            lines.append(f"{where}: {line}" if where else line)
    return lines


def synth_from_file(model: type[Settings], path: Path, build: Callable[[Any, Settings], object]) -> int:
    """Read `path` into `model`, `build(app, settings)` and synthesize; a bad file is one line per problem
    on stderr and exit code 2, nothing written."""
    from agyn_cdk import cdk

    try:
        settings = load(model, path)
    except ValidationError as error:
        for line in problems(error):
            print(f"error: {path}: {line}", file=sys.stderr)
        return 2
    except (OSError, yaml.YAMLError) as error:
        reason = " ".join(str(getattr(error, "strerror", None) or error).split())
        print(f"error: {path}: {reason}", file=sys.stderr)
        return 2
    app = cdk.App()
    build(app, settings)
    synth(app)  # and say what was written
    return 0
