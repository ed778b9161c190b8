"""The repository's CDK apps synthesize as committed (snapshots), under cdktf and under cdktn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cdk.support import (
    QUICKSTART,
    SYNTH_TIMEOUT,
    TENANT,
    app_env,
    assert_snapshot,
    copy_app,
    normalized,
    run_app,
    synth,
)


def test_quickstart_synthesizes_as_committed(tmp_path: Path) -> None:
    app = copy_app(QUICKSTART, tmp_path / "quickstart")
    document = synth(app, "quickstart")
    assert document["//"]["metadata"]["version"] == "0.21.0"  # cdktf
    assert_snapshot("quickstart", normalized(document, app))


def test_tenant_stack_synthesizes_as_committed(tmp_path: Path) -> None:
    app = copy_app(TENANT, tmp_path / "tenant")
    assert_snapshot("tenant", normalized(synth(app, "tenant"), app))


@pytest.mark.parametrize("how", ["imported first", "AGYN_CDK_FRAMEWORK"])
def test_tenant_stack_synthesizes_the_same_under_cdktn(tmp_path: Path, how: str) -> None:
    """The app uses cdktn, so the constructs must derive from cdktn's classes: chosen because the app
    imported cdktn first, or because AGYN_CDK_FRAMEWORK says so."""
    app = copy_app(TENANT, tmp_path / "tenant")
    if how == "imported first":
        document = synth(app, "tenant", sys.executable, "-c",
                         "import cdktn, runpy; runpy.run_path('main.py', run_name='__main__')")
    else:
        document = synth(app, "tenant", AGYN_CDK_FRAMEWORK="cdktn")
    assert document["//"]["metadata"]["version"] == "0.24.0"  # cdktn
    assert_snapshot("tenant", normalized(document, app))


@pytest.mark.parametrize(("setup", "expected"), [
    ("import cdktn", "cdktn"),
    ("import cdktf, cdktn", "cdktf"),
    ("import cdktn, cdktf", "cdktn"),
    ("import os; os.environ['AGYN_CDK_FRAMEWORK'] = 'cdktn'; import cdktf", "cdktn"),
    ("", "cdktf"),
])
def test_the_framework_is_the_one_the_app_uses(tmp_path: Path, setup: str, expected: str) -> None:
    check = (f"{setup}\nimport importlib, agyn_cdk\n"
             "framework = importlib.import_module(agyn_cdk.FRAMEWORK)\n"
             "assert issubclass(agyn_cdk.l1.AgynAgent, framework.TerraformResource)\n"
             "assert issubclass(agyn_cdk.l1.DataAgynAgent, framework.TerraformDataSource)\n"
             "assert issubclass(agyn_cdk.AgynProvider, framework.TerraformProvider)\n"
             "print(agyn_cdk.FRAMEWORK)")
    result = run_app(tmp_path, sys.executable, "-c", check)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_an_unknown_framework_is_refused(tmp_path: Path) -> None:
    result = run_app(tmp_path, sys.executable, "-c", "import agyn_cdk", AGYN_CDK_FRAMEWORK="pulumi")
    assert result.returncode == 1
    assert "AGYN_CDK_FRAMEWORK='pulumi': use one of cdktf, cdktn" in result.stderr


@pytest.mark.parametrize(("change", "message"), [
    (("model: gpt-4o\n", "model: gpt-5\n"), "agents[0] (reviewer): model 'gpt-5' is not in llm.models"),
    (("GITHUB_TOKEN: {secret: github-token}", "GITHUB_TOKEN: {secret: gh}"),
     "agents[0] (reviewer): secret 'gh' is not in secrets (github-token)"),
    (("member: bob", "member: carol"), "member 'carol' is not in members (alice, bob)"),
    (("    nickname: reviewer\n", "    nick: reviewer\n"), "agents[0].nick: unknown key"),
    (("  - user: bob\n", "  - role: member\n"), "members[1]: give either user (a username) or identity_id"),
])
def test_tenant_file_mistakes_are_named(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    app = copy_app(TENANT, tmp_path / "tenant")
    text = (app / "tenant.yaml").read_text()
    assert change[0] in text
    (app / "tenant.yaml").write_text(text.replace(change[0], change[1], 1))
    result = run_app(app)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: {app / 'tenant.yaml'}: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr  # one line, no pydantic dump or links
    assert not (app / "cdktf.out").exists()


def test_tenant_file_problems_are_a_line_each(tmp_path: Path) -> None:
    app = copy_app(TENANT, tmp_path / "tenant")
    text = (app / "tenant.yaml").read_text()
    for old, new in [("model: gpt-4o\n", "model: gpt-5\n"), ("member: bob", "member: carol")]:
        text = text.replace(old, new, 1)
    (app / "tenant.yaml").write_text(text)
    result = run_app(app)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: {app / 'tenant.yaml'}: agents[0] (reviewer): model 'gpt-5' is not in llm.models (gpt-4o, gpt-4o-mini)",
        f"error: {app / 'tenant.yaml'}: agents[0] (reviewer): member 'carol' is not in members (alice, bob)"]


def test_the_apps_say_what_they_wrote(tmp_path: Path) -> None:
    for source, stack in [(QUICKSTART, "quickstart"), (TENANT, "tenant")]:
        app = copy_app(source, tmp_path / stack)
        env = {k: v for k, v in app_env().items() if k != "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"}
        result = subprocess.run([sys.executable, "main.py"], cwd=app, env=env, capture_output=True, text=True,
                                timeout=SYNTH_TIMEOUT, check=False)  # main.py silences jsii's banner itself
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"Wrote cdktf.out/stacks/{stack}/cdk.tf.json: stack {stack}, "), result.stdout
        assert "cdktf deploy --auto-approve --skip-provider-lock" in result.stdout
        assert "end-of-life" not in result.stdout + result.stderr and "b'" not in result.stdout + result.stderr
