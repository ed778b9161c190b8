"""What an app wrote, said in a line per stack: `python main.py` otherwise prints nothing on success."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO


def synth(app: Any, out: TextIO | None = None) -> list[Path]:
    """`app.synth()`, then one line per stack: the file, what it declares, and how to deploy it."""
    app.synth()
    outdir = Path(app.outdir)
    manifest = json.loads((outdir / "manifest.json").read_text())
    written = []
    for name, stack in manifest["stacks"].items():
        path = outdir / stack["synthesizedStackPath"]
        document = json.loads(path.read_text())
        resources = sum(len(v) for v in document.get("resource", {}).values())
        data = sum(len(v) for v in document.get("data", {}).values())
        shown = os.path.relpath(path) if path.is_absolute() else str(path)
        print(f"Wrote {shown}: stack {name}, {resources} resources, {data} data sources. Deploy with "
              "`cdktf deploy --auto-approve --skip-provider-lock`, or `terraform init && terraform apply` in "
              f"{os.path.dirname(shown)}.", file=out, flush=True)
        written.append(path)
    return written
