"""Registry-style documentation of the provider, generated from its schemas and the examples.

    python -m agyn_provider.docs           # (re)write provider-bridge/docs/
    python -m agyn_provider.docs --check   # exit 1 when the committed docs are stale

The layout is the Terraform Registry's (as HashiCorp's tfplugindocs writes it): `index.md`,
`resources/<name>.md`, `data-sources/<name>.md`; each page shows its example from
`provider-bridge/examples/` (`provider/provider.tf`, `resources/agyn_<name>/resource.tf`,
`data-sources/agyn_<name>/data-source.tf`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TypeAlias

from tf import types
from tf.schema import Attribute, Schema

from agyn.kit import rules
from agyn.kit.resources import Resource as Declaration
from agyn.modules import load_registry
from agyn_provider.data_sources import data_source_classes
from agyn_provider.provider import MINIMUM_TERRAFORM, PROVIDER_SCHEMA, SOURCE, TESTED_TERRAFORM
from agyn_provider.resources import resource_classes
from agyn_provider.schema import NestedObject, ObjectBlock, object_blocks

ROOT = Path(__file__).resolve().parents[1]
DOCS, EXAMPLES = ROOT / "docs", ROOT / "examples"


INTRODUCTION = f"""\
The `agyn` provider (`source = "{SOURCE}"`) manages the control-plane resources of an Agyn platform through its \
API. Its resources and data sources are generated from the platform's own resource registry, so every field is \
declared once.

Install it into a Terraform filesystem mirror with `agyn provider install`; `terraform init` then finds it offline.

**Compatibility:** Terraform {".".join(map(str, MINIMUM_TERRAFORM))} or later (plugin protocol 6); tested on \
Terraform {" and ".join(TESTED_TERRAFORM)}. On an older Terraform the provider stops at configuration with \
"Unsupported Terraform version". Object arguments, such as an agent's `resources`, are nested blocks written at \
most once: `resources {{ limits_cpu = "2" }}`.

Write-only values (tokens, secret values) are never returned by the API: Terraform keeps the value it last sent \
and cannot see changes made elsewhere. Values shown once (service tokens) come from the create response. After \
`terraform import`, the first plan sends the write-only values again."""


class MissingExample(Exception):
    pass


def example(relative: str) -> str:
    path = EXAMPLES / relative
    if not path.is_file():
        raise MissingExample(f"write an example at {path.relative_to(ROOT.parent)}")
    return path.read_text().strip()


def _type_name(value_type: types.TfType) -> str:
    if isinstance(value_type, NestedObject):
        return "Object"
    if isinstance(value_type, types.List):
        return f"List of {_type_name(value_type.element_type)}"
    if isinstance(value_type, types.Map):
        return f"Map of {_type_name(value_type.element_type)}"
    return type(value_type).__name__


Member: TypeAlias = Attribute | ObjectBlock


def _line(member: Member, anchor: str) -> str:
    if isinstance(member, ObjectBlock):
        return (f"- `{member.name}` (Block) {member.block.description or ''} "
                f"(see [below for nested schema](#nestedblock--{member.name}))")
    kind = _type_name(member.type) + (", Sensitive" if member.sensitive else "")
    nested = f" (see [below for nested schema](#{anchor}--{member.name}))" \
        if isinstance(member.type, NestedObject) else ""
    return f"- `{member.name}` ({kind}) {member.description or ''}{nested}".rstrip()


def _group(member: Member) -> str:
    if isinstance(member, ObjectBlock):
        return "Required" if member.required else "Optional"
    if member.required:
        return "Required"
    return "Optional" if member.optional else "Read-Only"


def _groups(members: list[Member], anchor: str, title: str) -> list[str]:
    """Required / Optional / Read-Only lists (`title` formats each group's title)."""
    lines: list[str] = []
    for group in ("Required", "Optional", "Read-Only"):
        chosen = sorted((m for m in members if _group(m) == group), key=lambda m: m.name)
        if chosen:
            lines += [title.format(group), ""] + [_line(m, anchor) for m in chosen] + [""]
    return lines


def _schema(attributes: list[Attribute], blocks: list[ObjectBlock] | None = None) -> list[str]:
    """The attribute and block lists, then one section per nested block or object attribute."""
    members: list[Member] = [*attributes, *(blocks or [])]
    lines = _groups(members, "nestedatt", "### {}")
    for member in sorted(members, key=lambda m: m.name):
        if isinstance(member, ObjectBlock):
            anchor, nested = f"nestedblock--{member.name}", member.attributes
        elif isinstance(member.type, NestedObject):
            anchor, nested = f"nestedatt--{member.name}", member.type.attributes
        else:
            continue
        lines += [f'<a id="{anchor}"></a>', f"### Nested Schema for `{member.name}`", ""]
        lines += _groups(list(nested), anchor, "{}:")
    return lines


def _front_matter(title: str, description: str) -> list[str]:
    return ["---", f'page_title: "{title}"', 'subcategory: ""', "description: |-", f"  {description}", "---", ""]


def _import_id(declaration: Declaration) -> str:
    if declaration.id_kind == "composite":  # a relationship is named by its ends
        return ":".join(f"<{f.name}>" for f in declaration.input_fields if f.immutable and f.required)
    return "<id>"


def _rules(declaration: Declaration) -> list[str]:
    """The rules across fields and the uniqueness of an object, checked at plan (or, uniqueness, by the API)."""
    found = rules.resource_rules(declaration)
    for names in declaration.unique_together:
        scope = [f"`{n}`" for n in names[:-1]]
        found.append(f"`{names[-1]}` is unique" + (f" per {rules.phrase(scope, 'and')}" if scope else "")
                     + "; creating a second one fails with the existing object's id and the `terraform import` "
                       "command.")
    return ["## Rules", "", "Checked at `terraform plan` (uniqueness: by the API at apply):", "",
            *(f"- {rule}" for rule in found), ""] if found else []


def resource_page(declaration: Declaration, schema: Schema) -> str:
    name = declaration.terraform_type
    lines = _front_matter(f"{name} Resource - agyn", declaration.description)
    lines += [f"# {name} (Resource)", "", declaration.description, "", "## Example Usage", "", "```terraform",
              example(f"resources/{name}/resource.tf"), "```", "", "## Schema", ""]
    lines += _schema(schema.attributes, object_blocks(schema))
    lines += _rules(declaration)
    lines += ["## Import", "", "Import is supported using the following syntax:", "", "```shell",
              f"terraform import {name}.example {_import_id(declaration)}", "```", ""]
    return "\n".join(lines)


def data_source_page(declaration: Declaration, schema: Schema) -> str:
    name = declaration.terraform_type
    description = schema.description or ""
    lines = _front_matter(f"{name} Data Source - agyn", description)
    lines += [f"# {name} (Data Source)", "", description, "", "## Example Usage", "", "```terraform",
              example(f"data-sources/{name}/data-source.tf"), "```", "", "## Schema", ""]
    return "\n".join(lines + _schema(schema.attributes))


def index_page(resources: list[str], data_sources: list[str]) -> str:
    lines = _front_matter("Provider: agyn", "Declare an Agyn organization as code: members, LLM providers and "
                                            "models, secrets, runners, agents and their tools, apps.")
    lines += ["# agyn Provider", "", INTRODUCTION, "", "## Example Usage", "", "```terraform",
              example("provider/provider.tf"), "```", "", "## Schema", ""]
    lines += _schema(PROVIDER_SCHEMA.attributes)
    lines += ["## Resources", ""] + [f"- [{r}](resources/{r.removeprefix('agyn_')}.md)" for r in resources] + [""]
    lines += ["## Data Sources", ""]
    lines += [f"- [{d}](data-sources/{d.removeprefix('agyn_')}.md)" for d in data_sources] + [""]
    return "\n".join(lines)


def render() -> dict[str, str]:
    """Relative path → page, for every resource and data source of the registry."""
    registry = load_registry()
    resources = sorted(resource_classes(registry), key=lambda c: c.declaration.name)
    data_sources = sorted(data_source_classes(registry), key=lambda c: c.declaration.name)
    pages = {f"resources/{c.declaration.name}.md": resource_page(c.declaration, c.schema) for c in resources}
    pages |= {f"data-sources/{c.declaration.name}.md": data_source_page(c.declaration, c.schema)
              for c in data_sources}
    pages["index.md"] = index_page([c.declaration.terraform_type for c in resources],
                                   [c.declaration.terraform_type for c in data_sources])
    return pages


def stale(pages: dict[str, str], docs: Path = DOCS) -> list[str]:
    """The pages that differ from what is written in `docs`, and the written pages no longer made."""
    written = {str(p.relative_to(docs)) for p in docs.rglob("*.md")} if docs.is_dir() else set()
    changed = [path for path, text in pages.items() if not (docs / path).is_file() or (docs / path).read_text() != text]
    return sorted(changed + [path for path in written if path not in pages])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agyn_provider.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale pages (exit 1 if any)")
    args = parser.parse_args(argv)
    try:
        pages = render()
    except MissingExample as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    outdated = stale(pages)
    if args.check:
        for path in outdated:
            print(f"stale: {DOCS.relative_to(ROOT.parent) / path}")
        return 1 if outdated else 0
    for path in outdated:
        target = DOCS / path
        if path in pages:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(pages[path])
        else:
            target.unlink()
        print(f"wrote {DOCS.relative_to(ROOT.parent) / path}" if path in pages else f"removed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
