"""Writes the provider into a Terraform filesystem mirror, so `terraform init` finds it offline.

The provider is Python: what goes into the mirror is a small executable script whose shebang is
this environment's interpreter, so it runs the `agyn_provider` installed here.
"""

from __future__ import annotations

import platform
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


def install(mirror: Path = IMPLIED_MIRROR) -> Path:
    """Write (or overwrite) the provider executable into `mirror`; returns its path."""
    path = executable_path(mirror)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n"
                    f'"""Terraform provider agyn {version()}, written by `agyn provider install`."""\n'
                    "from agyn_provider.provider import main\n\n"
                    "main()\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
