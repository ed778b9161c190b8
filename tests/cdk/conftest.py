"""The CDK suite reuses the Terraform suite's fixtures (`tests/terraform/plugin.py`): one platform,
the provider in a temporary filesystem mirror, and a CLI configuration that reads only that mirror."""

import os
from pathlib import Path
from typing import Any

import pytest

# the project runs on Node 20 (SPEC D7); jsii prints an end-of-life banner when its kernel starts
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from agyn_cdk import cdk


@pytest.fixture
def stack(tmp_path: Path) -> Any:
    """An empty stack of a fresh app (in-process synth; the framework is cdktf here)."""
    return cdk.TerraformStack(cdk.App(outdir=str(tmp_path / "cdktf.out")), "test")
