"""Terraform schemas derived from the resource registry: a field is declared once, in the platform.

Field kind → attribute type: string, enum, reference, duration → string; integer → number;
boolean → bool; json → a JSON string; string_list → list(string); string_map → map(string);
object → a nested block in a resource (`resources { ... }`, at most one; required when the field is),
a read-only object attribute in a data source or for a server-set object. Flags: required; computed
for server-set fields; optional + computed for fields with a default or `derived`; sensitive for
write-only fields.
Immutable fields force a replacement (`RegistryResource.plan_change` says so). Every schema is
version 0.

Objects are blocks, not protocol-v6 single nested attributes, because early Terraform 1.0 releases
(1.0.3 among them) crash planning a nested attribute whose prior value is null
(hashicorp/terraform#29388), and blocks work the same on every Terraform that speaks protocol v6.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from tf import types
from tf.schema import Attribute, Block, NestedBlock, NestMode, Schema
from tf.types import Unknown

from agyn.kit import rules
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
    """An object value: a dict with every sub-attribute present (a data source's read-only object)."""

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


class ObjectBlock(NestedBlock):
    """An object field of a resource as a block written at most once: `resources { cpu = "1" }`; with
    `required`, exactly once. Its value is the object (a dict) or null when the block is left out."""

    def __init__(self, field: Field, attributes: list[Attribute], *, required: bool) -> None:
        count = 1 if required else None  # Terraform: a single block's min and max are both 0 or both 1
        super().__init__(field.name, NestMode.Single, Block(attributes=attributes, description=description(field)),
                         min_items=count, max_items=count)
        self.name = field.name
        self.attributes = attributes
        self.required = required
        self.value_type = NestedObject(attributes)

    def encode(self, value: Any) -> Any:
        return self.value_type.encode(value)

    def decode(self, value: Any) -> Any:
        return self.value_type.decode(value)

    def semantically_equal(self, a_decoded: Any, b_decoded: Any) -> bool:
        return bool(a_decoded == b_decoded)


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
    """The field's description with every rule it must meet (`agyn.kit.rules`, checked at plan) and how
    Terraform treats it."""
    notes = rules.field_rules(field) if field.is_input else []
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
    return Attribute(field.name, tf_type(field, read_only=read_only), **options)


def is_block(field: Field) -> bool:
    """An object a configuration sets is a block; a server-set one is a computed object attribute."""
    return field.kind == Kind.object and field.is_input


def object_block(field: Field) -> ObjectBlock:
    """The resource block of an object field (its sub-fields are the block's attributes)."""
    if is_optional_computed(field):  # Terraform has no computed blocks
        raise ValueError(f"{field.name}: an object field a configuration sets cannot have a default or be derived")
    return ObjectBlock(field, [attribute(sub) for sub in field.fields], required=field.required)


def resource_schema(resource: Resource) -> Schema:
    attributes = [Attribute("id", types.String(), description=ID_DESCRIPTION, computed=True)]
    attributes += [attribute(f) for f in resource.fields if not is_block(f)]
    blocks: list[NestedBlock] = [object_block(f) for f in resource.fields if is_block(f)]
    return Schema(version=SCHEMA_VERSION, attributes=attributes, block_types=blocks,
                  description=resource.description)


def object_blocks(schema: Schema) -> list[ObjectBlock]:
    return [b for b in schema.block_types if isinstance(b, ObjectBlock)]


def data_source_schema(resource: Resource) -> Schema:
    """Lookup fields are arguments (the declared `lookup` required, `optional_lookup` optional); every
    other readable field is read-only. Write-only values cannot be read, so they are left out."""
    assert resource.data_source is not None
    lookup, optional = resource.data_source.lookup, resource.data_source.optional_lookup
    attributes = [Attribute("id", types.String(), description=ID_DESCRIPTION,
                            **(_lookup_flags("id", lookup, optional) or {"computed": True}))]
    attributes += [_lookup_attribute(resource, f, lookup, optional) for f in resource.fields if not f.sensitive]
    return Schema(version=SCHEMA_VERSION, attributes=attributes,
                  description=f"Looks up one {resource.name.replace('_', ' ')} by "
                              f"{lookup_phrase(resource)}. {resource.description}")


def _lookup_attribute(resource: Resource, field: Field, lookup: tuple[str, ...],
                      optional: tuple[str, ...]) -> Attribute:
    """A data source's attribute: a lookup argument says what it matches; the others are read."""
    flags = _lookup_flags(field.name, lookup, optional)
    found = attribute(field, read_only=True, **flags)
    if flags:
        found.description = (f"The {field.name} of the {resource.name.replace('_', ' ')} to find (matched exactly): "
                             f"{field.description}")
    return found


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
