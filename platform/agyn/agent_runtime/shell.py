"""The built-in `shell` tool: runs a command with `$SHELL -c` (else `/bin/sh`) in the workload's directory.

Its output is always the JSON object `{"exit_code", "stdout", "stderr"}`; a command that runs past its
timeout is killed (with its process group) and reports exit code 124, as `timeout(1)` does.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT = 300.0
MAX_TIMEOUT = 3600.0
MAX_OUTPUT_CHARS = 100_000
TIMED_OUT = 124

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "description": "The shell command to run."},
        "cwd": {"type": "string", "description": "Directory to run it in (default: the workload's)."},
        "timeout": {"type": "number", "description": f"Seconds before it is killed (default {DEFAULT_TIMEOUT:g})."},
    },
    "required": ["command"],
}
DESCRIPTION = ("Run a shell command in the agent's workload and get its exit code, stdout and stderr as JSON. "
               "The `agyn` command is available, e.g. `agyn threads send --message TEXT` posts to this "
               "conversation.")


def _clip(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n[… {len(text) - MAX_OUTPUT_CHARS} more characters cut]"


class ShellTool:
    name = "shell"

    def __init__(self, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> None:
        self.cwd = cwd
        self.env = dict(env) if env is not None else None

    async def run(self, arguments: Mapping[str, Any]) -> str:
        command = arguments.get("command")
        if not isinstance(command, str) or not command.strip():
            return json.dumps({"exit_code": 2, "stdout": "", "stderr": "shell: `command` must be a non-empty string"})
        timeout = arguments.get("timeout", DEFAULT_TIMEOUT)
        timeout = min(float(timeout), MAX_TIMEOUT) if isinstance(timeout, int | float) and timeout > 0 else (
            DEFAULT_TIMEOUT)
        cwd = arguments.get("cwd") or self.cwd
        shell = os.environ.get("SHELL") or "/bin/sh"
        try:
            process = await asyncio.create_subprocess_exec(
                shell, "-c", command, cwd=cwd, env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as error:
            return json.dumps({"exit_code": 127, "stdout": "", "stderr": f"shell: cannot start {shell}: {error}"})
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
            exit_code = process.returncode if process.returncode is not None else -1
        except TimeoutError:
            _kill_group(process)
            stdout, stderr = await process.communicate()
            stderr += f"\nshell: killed after {timeout:g} s".encode()
            exit_code = TIMED_OUT
        except asyncio.CancelledError:
            _kill_group(process)
            raise
        return json.dumps({"exit_code": exit_code, "stdout": _clip(stdout.decode(errors="replace")),
                           "stderr": _clip(stderr.decode(errors="replace"))}, ensure_ascii=False)


def _kill_group(process: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
