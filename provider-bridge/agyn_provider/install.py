"""Writes the provider into a Terraform filesystem mirror, so `terraform init` finds it offline.

The provider is Python: what goes into the mirror is a small shell launcher that runs this
environment's interpreter on the `agyn_provider` installed here. It is bound to this
environment: when the environment is moved or deleted, the launcher says so and how to fix it, in a
line Terraform shows (go-plugin reports a plugin's first line on stdout when it is not a handshake).
"""

from __future__ import annotations

import platform
import shlex
import stat
import sys
from pathlib import Path

from agyn import __version__
from agyn_provider.provider import ADDRESS

IMPLIED_MIRROR = Path.home() / ".terraform.d" / "plugins"
"""A mirror Terraform searches with no CLI configuration at all."""

_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def version() -> str:
    return __version__


def target_platform() -> str:
    """Terraform's name for this machine, e.g. linux_amd64."""
    machine = platform.machine().lower()
    return f"{sys.platform}_{_MACHINES.get(machine, machine)}"  # linux_amd64, darwin_arm64, ...


def executable_path(mirror: Path) -> Path:
    """The unpacked-layout path Terraform looks for in a filesystem mirror."""
    return mirror / ADDRESS / version() / target_platform() / f"terraform-provider-agyn_v{version()}"


FIX = "reinstall it: `agyn provider install` from the agyn installation you use now"


def launcher(python: str = sys.executable) -> str:
    """The provider executable: a shell script that runs `python`, or says why it cannot."""
    missing = (f"terraform-provider-agyn {version()}: its Python interpreter {python} is missing "
               f"(the agyn installation that wrote it was moved or deleted); {FIX}")
    broken = (f"terraform-provider-agyn {version()}: {python} cannot import agyn_provider "
              f"(the agyn installation that wrote it was moved or deleted); {FIX}")
    program = ("import sys\n"
               "try:\n"
               "    from agyn_provider.provider import main\n"
               "except ModuleNotFoundError as error:\n"
               "    if error.name not in ('agyn', 'agyn_provider'):\n"
               "        raise\n"
               f"    print({broken!r}); print({broken!r}, file=sys.stderr); sys.exit(1)\n"
               "main()\n")
    return (f"#!/bin/sh\n"
            f"# Terraform provider agyn {version()}, written by `agyn provider install`.\n"
            f"PYTHON={shlex.quote(python)}\n"
            'if [ ! -x "$PYTHON" ]; then\n'
            f"  echo {shlex.quote(missing)}\n"
            f"  echo {shlex.quote(missing)} >&2\n"
            "  exit 1\n"
            "fi\n"
            f'exec "$PYTHON" -c {shlex.quote(program)} "$@"\n')


def install(mirror: Path = IMPLIED_MIRROR) -> Path:
    """Write (or overwrite) the provider executable into `mirror`; returns its path."""
    path = executable_path(mirror)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(launcher())
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
