"""Every shell block of README.md, examples/*/README.md and stacks/*/README.md runs as written.

How (the blocks are extracted when the tests are collected, so README changes are picked up):
- one test per README; its ```bash / ```sh / ```shell blocks run in order in ONE non-interactive bash
  (`set -eo pipefail`, no standard input, no `CI`), starting at the repository root as the READMEs say;
- in a fresh copy of the repository (tracked and new files; `.venv` links to this environment's), so
  the data dir `.agyn` and every Terraform state are new, with a home directory of its own (the
  provider mirror `~/.terraform.d`, the `agyn login` file) in which `~/.cache/agyn` links to the real
  one (the cdktf CLI `.ci/run` installs);
- on a free port, given through the setting the README documents, `AGYN_PORT`; nothing else of the
  caller's `AGYN_*` environment;
- `agyn stop` at the end, whatever happened.

Not run: a block preceded by `<!-- readme-runner: skip (why) -->`, and the README's test command
(`SKIPPED_LINES`): it runs this very suite, which would run it again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.test_cli import free_port

REPO = Path(__file__).parents[2]
READMES = [REPO / "README.md", *sorted(REPO.glob("examples/*/README.md")), *sorted(REPO.glob("stacks/*/README.md"))]
SKIP_MARKER = re.compile(r"<!--\s*readme-runner:\s*skip\b.*?-->\s*$")
SKIPPED_LINES = {
    # the README's test command: it would run this suite, and this test, again
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/pytest",
}
FENCE = re.compile(r"^```(\w*)\s*$")
SHELLS = {"bash", "sh", "shell"}
CACHE = Path.home() / ".cache" / "agyn"
RUN_TIMEOUT = 1200.0
NEVER = ["ENOTFOUND", "Raw mode is not supported", "Unable to open CLI configuration file", "Traceback",
         "b'!!"]  # offline errors, a prompt without a terminal, a broken TF_CLI_CONFIG_FILE, jsii's banner
EXPECTED = {  # what a README's run must show, beyond exiting 0
    "README.md": ["The platform is running in the background", "Logged in to", "Apply complete! Resources: 8 added",
                  "Destroy complete! Resources: 8 destroyed"],
    "examples/terraform-quickstart/README.md": ["Apply complete! Resources: 8 added", "No changes.",
                                                "Destroy complete! Resources: 8 destroyed"],
    "examples/terraform-modules/README.md": ["Apply complete! Resources: 20 added", "No changes.",
                                             "Destroy complete! Resources: 20 destroyed"],
    "examples/cdk-quickstart/README.md": ["Apply complete! Resources: 20 added", "No changes.",
                                          "Destroy complete! Resources: 20 destroyed",
                                          "Wrote cdktf.out/stacks/quickstart/cdk.tf.json"],
    "examples/k3d/README.md": ["Wrote cdktf.out/stacks/bootstrap/cdk.tf.json"],
    "stacks/bootstrap/README.md": ["Wrote cdktf.out/stacks/bootstrap/cdk.tf.json"],
    "stacks/tenant/README.md": ["Wrote cdktf.out/stacks/tenant/cdk.tf.json", "Apply complete! Resources: 21 added",
                                "No changes.", "Destroy complete! Resources: 21 destroyed"],
}

pytestmark = pytest.mark.slow


@dataclass
class Block:
    line: int  # where it starts in the README, for messages
    text: str


def shell_blocks(readme: Path) -> list[Block]:
    """The README's shell blocks that run, without the skipped ones and lines."""
    blocks, lines = [], readme.read_text().splitlines()
    index, skip_next = 0, False
    while index < len(lines):
        line = lines[index]
        fence = FENCE.match(line)
        if SKIP_MARKER.search(line.strip()):
            skip_next = True
        elif fence:
            end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            if fence.group(1) in SHELLS and not skip_next:
                body = [text for text in lines[index + 1:end] if text.split("#")[0].strip() not in SKIPPED_LINES]
                blocks.append(Block(index + 1, "\n".join(body)))
            skip_next = False
            index = end
        elif line.strip():
            skip_next = False
        index += 1
    return blocks


def fresh_copy(destination: Path) -> Path:
    """The repository's files (tracked, and new ones not ignored), with `.venv` linked to this environment."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(Path(sys.prefix))
    return destination


def runner_env(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AGYN_", "VIRTUAL_ENV", "XDG_", "JSII_")) and k not in ("CI", "PYTEST_CURRENT_TEST")}
    env.update(HOME=str(home), AGYN_PORT=str(port), PATH=os.environ.get("PATH", "").replace(
        f"{Path(sys.executable).parent}{os.pathsep}", ""))  # the blocks activate .venv themselves
    return env


@pytest.mark.parametrize("readme", READMES, ids=[str(r.relative_to(REPO)) for r in READMES])
def test_readme_shell_blocks_run_as_written(readme: Path, tmp_path: Path) -> None:
    blocks = shell_blocks(readme)
    assert blocks, f"{readme} has no shell block"
    checkout = fresh_copy(tmp_path / "checkout")
    home = tmp_path / "home"
    (home / ".cache").mkdir(parents=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    (home / ".cache" / "agyn").symlink_to(CACHE)
    script = "set -eo pipefail\n" + "".join(
        f"\necho '==> {readme.name} line {b.line}'\nset -x\n{b.text}\nset +x\n" for b in blocks)
    (tmp_path / "script.sh").write_text(script)
    log = tmp_path / "output.log"
    env = runner_env(home, free_port())
    try:
        with log.open("w") as output:
            result = subprocess.run(["bash", str(tmp_path / "script.sh")], cwd=checkout, env=env,
                                    stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                    timeout=RUN_TIMEOUT, check=False)
    finally:
        subprocess.run([str(checkout / ".venv" / "bin" / "agyn"), "stop", "--data-dir", str(checkout / ".agyn")],
                       cwd=checkout, env=env, capture_output=True, timeout=60, check=False)
    text = log.read_text()
    assert result.returncode == 0, f"{readme.relative_to(REPO)}: the blocks exited {result.returncode}:\n{text[-6000:]}"
    for phrase in NEVER:
        assert phrase not in text, f"{phrase!r} in the output of {readme.relative_to(REPO)}:\n{text[-6000:]}"
    for phrase in EXPECTED.get(str(readme.relative_to(REPO)), []):
        assert phrase in text, f"{phrase!r} missing from the output of {readme.relative_to(REPO)}:\n{text[-6000:]}"
