"""The Terraform suite's fixtures come from its plugin (`tests/terraform/plugin.py`)."""

from pathlib import Path

import pytest

from tests.terraform.plugin import (  # noqa: F401  (fixtures)
    agyn_platform,
    cli_config,
    dev_provider,
    parametrize_builds,
    provider_mirror,
    terraform,
    terraform_build,
    terraform_root,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_builds(metafunc)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """This suite's tests that run Terraform against the platform are `slow` (about two minutes in
    all); the CI runs them anyway; `-m "not slow"` leaves them out while iterating."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and "agyn_platform" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
