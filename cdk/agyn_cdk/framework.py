"""The CDK for Terraform the constructs derive from: `cdktf`, or its maintained fork `cdktn` (CDK Terrain).

Both have the same API but their own classes, and an app's constructs must all come from one of them,
so this picks the framework once, at import time:

1. `AGYN_CDK_FRAMEWORK=cdktf|cdktn`, when set;
2. otherwise the one the application imported first (`sys.modules` keeps import order);
3. otherwise `cdktf` when installed, else `cdktn`.

Type checkers see `cdktf` (the two have the same API), so `cdk.TerraformStack` and every L1 type
resolve for users; at run time `cdk` is whichever framework was chosen.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import TYPE_CHECKING

__all__ = ["ENV", "FRAMEWORKS", "NAME", "cdk", "choose"]

FRAMEWORKS = ("cdktf", "cdktn")
ENV = "AGYN_CDK_FRAMEWORK"


def choose() -> str:
    """The framework's module name, by the rules above."""
    wanted = os.environ.get(ENV, "").strip()
    if wanted:
        if wanted not in FRAMEWORKS:
            raise ImportError(f"{ENV}={wanted!r}: use one of {', '.join(FRAMEWORKS)}")
        return wanted
    imported = [name for name in sys.modules if name in FRAMEWORKS]
    if imported:
        return imported[0]
    for name in FRAMEWORKS:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ImportError("agyn_cdk needs cdktf or cdktn: pip install 'agyn[cdk]' (or cdktn==0.24.0)")


NAME = choose()
if TYPE_CHECKING:
    import cdktf as cdk
else:
    cdk = importlib.import_module(NAME)
    """The chosen framework module: `cdk.App`, `cdk.TerraformStack`, `cdk.Fn`, ... whichever it is."""
