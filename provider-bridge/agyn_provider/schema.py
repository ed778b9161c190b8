"""Terraform schemas derived from the resource registry: a field is declared once, in the platform.

Field kind → attribute type: string, enum, reference, duration → string; integer → number;
boolean → bool; json → a JSON string; string_list → list(string); string_map → map(string);
object → a single nested attribute. Flags: required; computed for server-set fields;
optional + computed for fields with a default or `derived`; sensitive for write-only fields.
Immutable fields force a replacement (`RegistryResource.plan_change` says so). Every schema is
version 0.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from tf import types
from tf.gen import tfplugin_pb2 as pb
from tf.schema import Attribute, Schema
from tf.types import Unknown

from agyn.kit.resources import Field, Kind, Resource

SCHEMA_VERSION = 0
ID_DESCRIPTION = "The object's id."


class RegistryBacked:
    """What a generated resource or data source shares: its registry declaration and its schema."""

    declaration: ClassVar[Resource]
    schema: ClassVar[Schema]

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return cls.declaration.name

    @classmethod
    def get_schema(cls) -> Schema:
        return cls.schema


class NestedObject(types.TfType):
    """The value of a single nested attribute: a dict with every sub-attribute present."""

    def __init__(self, attributes: list[Attribute]) -> None:
        self.attributes = attributes

    def encode(self, value: Any) -> Any:
        if value is None or value is Unknown:
            return value
        return {a.name: a.type.encode(value.get(a.name)) for a in self.attributes}

    def decode(self, value: Any) -> Any:
        if value is None or value is Unknown:
            return value
        return {a.name: a.type.decode(value.get(a.name)) for a in self.attributes}

    def tf_type(self) -> bytes:
        members = ",".join(f'"{a.name}":{a.type.tf_type().decode()}' for a in self.attributes)
        return f'["object",{{{members}}}]'.encode()


class NestedAttribute(Attribute):
    """A single nested attribute (protocol v6 `nested_type`), as the plugin framework declares it."""

    type: NestedObject

    def to_pb(self) -> pb.Schema.Attribute:
        message = super().to_pb()
        message.ClearField("type")
        message.nested_type.CopyFrom(pb.Schema.Object(
            attributes=[a.to_pb() for a in self.type.attributes], nesting=pb.Schema.Object.NestingMode.SINGLE))
        return message


def tf_type(field: Field, *, read_only: bool = False) -> types.TfType:
    if field.kind == Kind.integer:
        return types.Number()
    if field.kind == Kind.boolean:
        return types.Bool()
    if field.kind == Kind.string_list:
        return types.List(types.String())
    if field.kind == Kind.string_map:
        return types.Map(types.String())
    if field.kind == Kind.object:
        return NestedObject([attribute(sub, read_only=read_only) for sub in field.fields
                             if not (read_only and sub.sensitive)])
    return types.String()  # string, enum, reference, json (a JSON document), duration (Go-style)


def encode_default(field: Field) -> Any:
    """A field's default as Terraform holds it (a JSON document is a string)."""
    return json_string(field.default) if field.kind == Kind.json else field.default


def json_string(value: Any) -> str:
    """The spelling of HCL's `jsonencode`: compact, keys sorted; so an import matches a config."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def is_optional_computed(field: Field) -> bool:
    return field.is_input and not field.required and (field.has_default or field.derived)


def description(field: Field) -> str:
    notes = []
    if field.kind == Kind.json:
        notes.append("A JSON document (use `jsonencode`); compared by value, not by spelling.")
    if field.kind == Kind.duration:
        notes.append('A duration such as `"30s"`, `"5m"` or `"1h30m"`.')
    if field.choices:
        notes.append("One of " + ", ".join(f"`{c}`" for c in field.choices) + ".")
    if field.has_default:
        notes.append(f"Default `{json.dumps(field.default)}`.")
    if field.immutable:
        notes.append("Changing it replaces the object.")
    if field.sensitive and not field.once:
        notes.append("Write-only: the API never returns it, so Terraform keeps the value it last sent.")
    return " ".join([field.description, *notes])


def attribute(field: Field, *, read_only: bool = False, **flags: bool) -> Attribute:
    """The resource attribute of a field; with `read_only`, the data source attribute (computed unless
    `flags` say otherwise)."""
    options: dict[str, Any] = {
        "description": field.description if read_only else description(field),
        "sensitive": field.sensitive,
    }
    if read_only:
        options.update(flags or {"computed": True})
    elif not field.is_input:
        options["computed"] = True
    elif field.required:
        options["required"] = True
    elif is_optional_computed(field):
        options.update(optional=True, computed=True)
    else:
        options["optional"] = True
    attribute_type = tf_type(field, read_only=read_only)
    if isinstance(attribute_type, NestedObject):
        return NestedAttribute(field.name, attribute_type, **options)
    return Attribute(field.name, attribute_type, **options)


def resource_schema(resource: Resource) -> Schema:
    attributes = [Attribute("id", types.String(), description=ID_DESCRIPTION, computed=True)]
    attributes += [attribute(f) for f in resource.fields]
    return Schema(version=SCHEMA_VERSION, attributes=attributes, description=resource.description)


def data_source_schema(resource: Resource) -> Schema:
    """Lookup fields are arguments (the declared `lookup` required, `optional_lookup` optional); every
    other readable field is read-only. Write-only values cannot be read, so they are left out."""
    assert resource.data_source is not None
    lookup, optional = resource.data_source.lookup, resource.data_source.optional_lookup
    attributes = [Attribute("id", types.String(), description=ID_DESCRIPTION,
                            **(_lookup_flags("id", lookup, optional) or {"computed": True}))]
    attributes += [attribute(f, read_only=True, **_lookup_flags(f.name, lookup, optional))
                   for f in resource.fields if not f.sensitive]
    return Schema(version=SCHEMA_VERSION, attributes=attributes,
                  description=f"Looks up one {resource.name.replace('_', ' ')} by "
                              f"{lookup_phrase(resource)}. {resource.description}")


def _lookup_flags(name: str, lookup: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, bool]:
    if name in lookup:
        return {"required": True}
    if name in optional:
        return {"optional": True, "computed": True}
    return {}


def lookup_phrase(resource: Resource) -> str:
    assert resource.data_source is not None
    required = " and ".join(resource.data_source.lookup)
    either = " or ".join(resource.data_source.optional_lookup)
    if required and either:
        return f"{required}, and {either}"
    return required or either
