"""The Terraform suite's fixtures come from its plugin (`tests/terraform/plugin.py`, registered by
`tests/conftest.py`)."""

from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """This suite's tests that run Terraform against the platform are `slow` (about two minutes in
    all); the CI runs them anyway; `-m "not slow"` leaves them out while iterating."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and "agyn_platform" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
