"""Generates `agyn_cdk/l1.py` (the L1 classes) from the platform's resource registry, so a resource
declared there gets its CDK class with no hand-written code.

    python cdk/codegen.py            # rewrite cdk/agyn_cdk/l1.py
    python cdk/codegen.py --check    # exit 1 when it is stale against the registry

It lives outside the package so that it runs even when the package cannot be imported (a stale or
broken l1.py is what it repairs).

Per registry resource: `Agyn<Title>` (the Terraform resource `agyn_<name>`); per declared data source:
`DataAgyn<Title>`; per object field: a struct `Agyn<Title><Field>`; and `AgynProvider` from the
provider's own configuration schema. Kinds map as in the provider's schema (a JSON field is a string
attribute, so its argument also takes a dict and encodes it). Descriptions are the provider's.
"""

from __future__ import annotations

import json
import keyword
import os
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

from tf import types

from agyn.kit.resources import Field, Kind, Registry, Resource
from agyn.modules import load_registry
from agyn_provider.install import version
from agyn_provider.provider import PROVIDER_SCHEMA
from agyn_provider.schema import ID_DESCRIPTION, description, lookup_phrase

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # before jsii starts Node 20
from cdktf import TerraformDataSource, TerraformResource

OUTPUT = Path(__file__).parent / "agyn_cdk" / "l1.py"
WIDTH = 112

INPUT_TYPES = {
    Kind.string: "str",
    Kind.reference: "str",
    Kind.duration: "str",
    Kind.integer: "float",
    Kind.boolean: "bool",
    Kind.json: "typing.Mapping[str, typing.Any] | str",
    Kind.string_list: "typing.Sequence[str]",
    Kind.string_map: "typing.Mapping[str, str]",
}

# kind → (the getter's annotation, the framework's getter of a reference of that type)
GETTERS = {
    Kind.integer: ("float", "get_number_attribute"),
    Kind.boolean: ("cdk.IResolvable", "get_boolean_attribute"),
    Kind.string_list: ("list[str]", "get_list_attribute"),
    Kind.string_map: ("typing.Mapping[str, str]", "get_string_map_attribute"),
    Kind.object: ("cdk.IResolvable", "interpolation_for_attribute"),
}
STRING_GETTER = ("str", "get_string_attribute")  # string, enum, reference, duration, json

META_ARGUMENTS = (
    ("depends_on", "typing.Sequence[cdk.ITerraformDependable] | None"),
    ("count", "float | cdk.TerraformCount | None"),
    ("for_each", "cdk.ITerraformIterator | None"),
    ("lifecycle", "cdk.TerraformResourceLifecycle | None"),
    ("provider", "cdk.TerraformProvider | None"),
)
META_KEYWORDS = ", ".join(f"{name}={name}" for name, _ in META_ARGUMENTS)
META_DOC = (", ".join(name for name, _ in META_ARGUMENTS), "Terraform's meta-arguments.")

HEADER = '''"""L1 constructs: one class per resource and data source of the Terraform provider `agyn`
(source `agynio/agyn`), and the provider itself.

GENERATED from the platform's resource registry by `python cdk/codegen.py`: do not edit.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import constructs

from agyn_cdk.base import AgynDataSource, AgynProviderBase, AgynResource, json_document
from agyn_cdk.framework import cdk

PROVIDER_VERSION = {version}
"""The provider version these classes are generated for (and that they require)."""
'''


def literal(text: str) -> str:
    """A double-quoted Python string literal, in the repository's style."""
    return json.dumps(text, ensure_ascii=False)


def class_name(resource: Resource) -> str:
    return f"Agyn{resource.title}"


def struct_name(resource: Resource, field: Field) -> str:
    return class_name(resource) + "".join(part.capitalize() for part in field.name.split("_"))


def literals(choices: tuple[str, ...]) -> str:
    """`typing.Literal[...]` of the choices; a long list one choice a line."""
    joined = ", ".join(literal(c) for c in choices)
    if len(joined) > 60:
        joined = "\n" + "".join(f"            {literal(c)},\n" for c in choices) + "        "
    return f"typing.Literal[{joined}]"


def input_type(resource: Resource, field: Field) -> str:
    if field.kind == Kind.enum:
        return literals(field.choices)
    if field.kind == Kind.string_list and field.choices:
        return f"typing.Sequence[{literals(field.choices)}]"
    if field.kind == Kind.object:
        return f"{struct_name(resource, field)} | typing.Mapping[str, typing.Any]"
    return INPUT_TYPES[field.kind]


def wrap(text: str, indent: str, first: str = "", hanging: str = "    ") -> list[str]:
    """Docstring lines (backslashes escaped)."""
    return textwrap.wrap(text.replace("\\", "\\\\"), WIDTH, initial_indent=indent + first,
                         subsequent_indent=indent + hanging, break_on_hyphens=False, break_long_words=False)


def paragraph(text: str, indent: str) -> list[str]:
    return wrap(text, indent, "", "")


def docstring(indent: str, summary: str, *sections: Iterable[str]) -> list[str]:
    lines = wrap(summary, indent, '"""', "")
    for section in sections:
        section = list(section)
        if section:
            lines += ["", *section]
    if len(lines) == 1 and len(lines[0]) + 3 <= WIDTH and not lines[0].endswith('"'):
        return [lines[0] + '"""']
    return [*lines, f'{indent}"""']


def args_section(indent: str, documented: list[tuple[str, str]]) -> list[str]:
    lines = [f"{indent}Args:"]
    for name, text in documented:
        lines += wrap(text, indent + "    ", f"{name}: ")
    return lines


def check_names(resource: Resource, names: Iterable[str], base: type) -> None:
    """A field must not shadow a member of the framework's class, nor be a Python keyword."""
    for name in names:
        if keyword.iskeyword(name) or hasattr(base, name):
            raise SystemExit(f"{resource.terraform_type}.{name}: the name clashes with Python or "
                             f"{base.__name__}; rename the field")


def signature(inputs: list[tuple[str, str, bool]], meta: bool = True) -> list[str]:
    """`(self, scope, id_, *, <inputs, required first>, <meta-arguments>)`; inputs are (name, type, required)."""
    lines = ["        self,", "        scope: constructs.Construct,", "        id_: str,", "        *,"]
    lines += [f"        {name}: {annotation}," for name, annotation, required in inputs if required]
    lines += [f"        {name}: {annotation} | None = None," for name, annotation, required in inputs if not required]
    if meta:
        lines += [f"        {name}: {annotation} = None," for name, annotation in META_ARGUMENTS]
    return ["    def __init__(", *lines, "    ) -> None:"]


def super_call(arguments: str, values: list[tuple[str, str]], keywords: str) -> list[str]:
    """`super().__init__(<arguments>, {<attribute>: <value>, ...}, <keywords>)`."""
    return [f"        super().__init__({arguments}, {{",
            *(f"            {literal(name)}: {value}," for name, value in values),
            f"        }}, {keywords})"]


def getter(name: str, annotation: str, method: str, text: str) -> list[str]:
    return ["", "    @property", f"    def {name}(self) -> {annotation}:",
            *docstring("        ", text), f"        return self.{method}({literal(name)})"]


def getter_of(field: Field, text: str) -> list[str]:
    annotation, method = GETTERS.get(field.kind, STRING_GETTER)
    return getter(field.name, annotation, method, text)


def id_getter() -> list[str]:
    return getter("id", *STRING_GETTER, ID_DESCRIPTION)


def ordered(fields: Iterable[Field]) -> list[Field]:
    """Required arguments first, each group in declaration order."""
    fields = list(fields)
    return [f for f in fields if f.required] + [f for f in fields if not f.required]


def argument_doc(field: Field) -> str:
    if field.kind == Kind.json:
        return f"{description(field)} Here: a dict, which is encoded, or a JSON string."
    return description(field)


def render_struct(resource: Resource, field: Field) -> list[str]:
    lines = ["", "", "@dataclass(frozen=True, kw_only=True)", f"class {struct_name(resource, field)}:"]
    lines += docstring("    ", f"{field.description} The value of `{resource.terraform_type}.{field.name}`.")
    lines.append("")
    for sub in ordered(field.fields):
        annotation = input_type(resource, sub)
        lines.append(f"    {sub.name}: {annotation}" if sub.required else f"    {sub.name}: {annotation} | None = None")
        lines += docstring("    ", description(sub))
    return lines


def render_resource(resource: Resource) -> list[str]:
    inputs = ordered(resource.input_fields)
    check_names(resource, [f.name for f in resource.fields], TerraformResource)
    lines: list[str] = []
    for field in resource.fields:
        if field.kind == Kind.object:
            lines += render_struct(resource, field)
    import_id = ":".join(f"<{part}>" for part in resource.import_id)
    lines += ["", "", f"class {class_name(resource)}(AgynResource):"]
    where = f"The Terraform resource `{resource.terraform_type}`; import it by `{import_id}`."
    lines += docstring("    ", resource.description, paragraph(where, "    "))
    lines.append("")
    lines += signature([(f.name, input_type(resource, f), f.required) for f in inputs])
    lines += docstring("        ", f"Declares `{resource.terraform_type}.<id_>`.",
                       args_section("        ", [(f.name, argument_doc(f)) for f in inputs] + [META_DOC]))
    values = [(f.name, f"json_document({f.name})" if f.kind == Kind.json else f.name) for f in inputs]
    lines += super_call(f"scope, id_, {literal(resource.terraform_type)}, PROVIDER_VERSION", values, META_KEYWORDS)
    lines += id_getter()
    for field in resource.fields:
        lines += getter_of(field, description(field))
    return lines


def render_data_source(resource: Resource) -> list[str]:
    assert resource.data_source is not None
    lookup, optional = resource.data_source.lookup, resource.data_source.optional_lookup
    readable = [f for f in resource.fields if not f.sensitive]
    check_names(resource, [f.name for f in readable], TerraformDataSource)

    def argument(name: str) -> tuple[str, str, str]:
        if name == "id":
            return "id", "str", ID_DESCRIPTION
        field = resource.field(name)
        return name, input_type(resource, field), field.description

    arguments = [(*argument(name)[:2], True) for name in lookup] + [(*argument(name)[:2], False) for name in optional]
    lines = ["", "", f"class Data{class_name(resource)}(AgynDataSource):"]
    what = f"The Terraform data source `{resource.terraform_type}`. {resource.description}"
    lines += docstring("    ", f"Looks up one {resource.name.replace('_', ' ')} by {lookup_phrase(resource)}.",
                       paragraph(what, "    "))
    lines.append("")
    lines += signature(arguments)
    lines += docstring("        ", f"Declares `data.{resource.terraform_type}.<id_>`.",
                       args_section("        ", [(argument(n)[0], argument(n)[2]) for n in lookup + optional]
                                    + [META_DOC]))
    values = [(name, name) for name, _, _ in arguments]
    lines += super_call(f"scope, id_, {literal(resource.terraform_type)}, PROVIDER_VERSION", values, META_KEYWORDS)
    lines += id_getter()
    for field in readable:
        lines += getter_of(field, field.description)
    return lines


def render_provider() -> list[str]:
    attributes = PROVIDER_SCHEMA.attributes
    for attribute in attributes:
        if not isinstance(attribute.type, types.String) or attribute.required:
            raise SystemExit(f"provider attribute {attribute.name}: only optional strings are generated")
    inputs = [(a.name, "str", False) for a in attributes] + [("alias", "str", False)]
    lines = ["", "", "class AgynProvider(AgynProviderBase):"]
    lines += docstring("    ", "The `agyn` provider (source `agynio/agyn`): which platform to talk to, as whom.",
                       paragraph("Without arguments it reads `AGYN_API_URL` and `AGYN_API_TOKEN` when Terraform runs.",
                                 "    "))
    lines.append("")
    lines += signature(inputs, meta=False)
    lines += docstring("        ", "Declares the provider configuration `<id_>`.",
                       args_section("        ", [(a.name, a.description or "") for a in attributes]
                                    + [("alias", "Names this configuration when a stack has several.")]))
    lines += super_call("scope, id_, PROVIDER_VERSION", [(a.name, a.name) for a in attributes], "alias=alias")
    return lines


def render(registry: Registry | None = None) -> str:
    # by name: the registry's order is the order modules happened to be imported in
    resources = sorted(registry or load_registry(), key=lambda r: r.name)
    lines = [HEADER.format(version=literal(version())).rstrip("\n")]
    lines += render_provider()
    for resource in resources:
        lines += render_resource(resource)
    for resource in resources:
        if resource.data_source is not None:
            lines += render_data_source(resource)
    names = ["AgynProvider", "PROVIDER_VERSION"]
    for resource in resources:
        names += [struct_name(resource, f) for f in resource.fields if f.kind == Kind.object]
        names.append(class_name(resource))
    names += [f"Data{class_name(r)}" for r in resources if r.data_source is not None]
    lines += ["", "", "__all__ = [", *(f"    {literal(name)}," for name in names), "]"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale against the registry: run `python cdk/codegen.py`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
