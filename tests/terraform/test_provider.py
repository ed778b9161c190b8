"""The provider as people install and configure it: `terraform init` from the filesystem mirror that
`agyn provider install` wrote (Terraform starts the provider itself), settings from the provider
block or the environment, and clear errors when one is missing or rejected."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from agyn_provider.install import executable_path, launcher, target_platform, version
from tests.cli.test_cli import AGYN, cli_env, free_port
from tests.terraform.plugin import (
    TERRAFORM,
    Platform,
    WorkspaceFactory,
    example,
    flat,
    providers_tf,
    terraform_env,
    write_cli_config,
)

ORGANIZATION = example("resources", "agyn_organization")


def test_install_writes_an_executable_using_this_python(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    result = subprocess.run([str(AGYN), "provider", "install", "--mirror", str(mirror)], env=cli_env(),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    path = executable_path(mirror)
    assert str(path.relative_to(mirror)) == \
        f"registry.terraform.io/agynio/agyn/{version()}/{target_platform()}/terraform-provider-agyn_v{version()}"
    assert f"PYTHON={sys.executable}" in path.read_text().splitlines()
    assert path.stat().st_mode & stat.S_IXUSR and os.access(path, os.X_OK)
    output = flat(result.stdout)
    assert f"Wrote {path}" in output and f'agyn = {{ source = "agynio/agyn", version = "{version()}" }}' in output


def test_a_moved_installation_is_named_with_the_fix(tmp_path: Path) -> None:
    """The launcher runs the interpreter of the installation that wrote it; when that is gone, Terraform
    shows which interpreter is missing and to run `agyn provider install` again."""
    mirror, gone = tmp_path / "mirror", tmp_path / "moved-checkout" / ".venv" / "bin" / "python"
    path = executable_path(mirror)
    path.parent.mkdir(parents=True)
    path.write_text(launcher(str(gone)))
    path.chmod(0o755)
    direct = subprocess.run([str(path)], capture_output=True, text=True, timeout=30, check=False)
    assert direct.returncode == 1
    assert f"its Python interpreter {gone} is missing" in direct.stdout and "agyn provider install" in direct.stderr

    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "main.tf").write_text(providers_tf(pinned=True, settings=""))
    env = terraform_env(write_cli_config(tmp_path / "terraform.rc", mirror))
    run = [str(TERRAFORM), "-input=false", "-no-color"]
    init = subprocess.run([run[0], "init", *run[1:]], cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert init.returncode == 0, init.stdout + init.stderr
    plan = subprocess.run([run[0], "plan", *run[1:]], cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert plan.returncode == 1
    output = flat(plan.stdout + plan.stderr)
    assert f"its Python interpreter {gone} is missing" in output and "`agyn provider install`" in output, output


def test_the_launcher_names_an_interpreter_without_agyn_provider(tmp_path: Path) -> None:
    python = getattr(sys, "_base_executable", sys.executable)  # the interpreter the venv was made from
    script = tmp_path / "terraform-provider-agyn"
    script.write_text(launcher(python))
    script.chmod(0o755)
    result = subprocess.run([str(script)], capture_output=True, text=True, timeout=30, check=False, cwd=tmp_path,
                            env={"PATH": os.environ.get("PATH", ""), "PYTHONNOUSERSITE": "1"})
    assert result.returncode == 1
    assert f"{python} cannot import agyn_provider" in result.stdout and "agyn provider install" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_init_installs_from_the_mirror_and_the_environment_configures(
        terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    workspace = terraform(ORGANIZATION, reattach=False)
    init = flat(workspace.init().output)
    assert f"Installed agynio/agyn v{version()}" in init
    assert 'provider "registry.terraform.io/agynio/agyn"' in (workspace.directory / ".terraform.lock.hcl").read_text()
    workspace.apply().check()
    workspace.assert_idempotent()
    organization = workspace.state()["agyn_organization.example"]
    assert agyn_platform.get("organizations", organization["id"]).json()["name"] == "acme"


def test_missing_settings_are_named(terraform: WorkspaceFactory) -> None:
    workspace = terraform(ORGANIZATION, reattach=False, env={})
    workspace.init()
    output = flat(workspace.plan().output)
    assert "Missing API URL" in output and "AGYN_API_URL" in output
    assert "Missing API token" in output and "AGYN_API_TOKEN" in output


def test_a_rejected_token_is_explained(terraform: WorkspaceFactory, agyn_platform: Platform) -> None:
    bogus = "agyn_" + "x" * 44
    workspace = terraform(ORGANIZATION, reattach=False, env={"AGYN_API_URL": agyn_platform.url,
                                                             "AGYN_API_TOKEN": bogus})
    workspace.init()
    result = workspace.plan()
    assert result.returncode == 1
    assert "The API token was rejected" in flat(result.output)
    assert bogus not in result.output


def test_provider_block_settings_win_over_the_environment(terraform: WorkspaceFactory) -> None:
    """The reattached provider has a valid token in its environment; the block's own is used."""
    unreachable = f"http://127.0.0.1:{free_port()}"
    result = terraform(ORGANIZATION, provider=f'  api_url = "{unreachable}"\n').plan()
    assert result.returncode == 1
    output = flat(result.output)
    assert f"Cannot use the Agyn API at {unreachable}" in output and "Cannot reach the Agyn API" in output
    invalid = terraform(ORGANIZATION, provider='  api_url = "ftp://example"\n').plan()
    assert invalid.returncode == 1 and "api_url must be an http(s) URL" in flat(invalid.output)
