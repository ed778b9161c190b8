"""Construct ids of the items an L2 construct makes, from keys people chose: stable when a list is
reordered, so Terraform sees no change."""

from __future__ import annotations

import re
from collections.abc import Sequence

from agyn_cdk.framework import cdk


def construct_id(prefix: str, key: str, what: str) -> str:
    """A stable construct id from a key people chose (so reordering a list changes nothing in Terraform).
    A key that is a reference has no value at synth time, so the caller must name the item instead."""
    if cdk.Token.is_unresolved(key):
        raise ValueError(f"{what} is a reference, which cannot name a construct: give it a key")
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]', '-', key)}"


def unique(ids: Sequence[str], what: str) -> None:
    seen = {i for i in ids if ids.count(i) > 1}
    if seen:
        raise ValueError(f"{what}: {', '.join(sorted(seen))} appear more than once; give them distinct keys")
