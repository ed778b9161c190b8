"""The provider's schemas stay within what every supported Terraform plans: object fields are single
nested blocks (resources) or object attributes (data sources), never protocol-v6 nested attributes,
which early Terraform 1.0 releases crash on (hashicorp/terraform#29388)."""

from __future__ import annotations

import pytest
from tf.gen import tfplugin_pb2 as pb

from agyn.kit.resources import Kind, Resource, nested, string
from agyn.modules import load_registry
from agyn_provider.data_sources import data_source_classes
from agyn_provider.resources import resource_classes
from agyn_provider.schema import object_block, resource_schema

REGISTRY = load_registry()


def nested_attributes(block: pb.Schema.Block) -> list[str]:
    found = [a.name for a in block.attributes if a.HasField("nested_type")]
    for nested_block in block.block_types:
        found += nested_attributes(nested_block.block)
    return found


def test_no_schema_declares_a_nested_attribute() -> None:
    for cls in [*resource_classes(REGISTRY), *data_source_classes(REGISTRY)]:
        assert nested_attributes(cls.schema.to_pb().block) == [], cls.declaration.terraform_type


def test_object_fields_are_single_blocks_required_when_the_field_is() -> None:
    objects = 0
    for cls in resource_classes(REGISTRY):
        blocks = {b.type_name: b for b in cls.schema.to_pb().block.block_types}
        for field in cls.declaration.fields:
            if field.kind != Kind.object:
                assert field.name not in blocks
                continue
            objects += 1
            block = blocks[field.name]
            assert block.nesting == pb.Schema.NestedBlock.NestingMode.SINGLE
            assert (block.min_items, block.max_items) == ((1, 1) if field.required else (0, 0)), field.name
            assert {a.name for a in block.block.attributes} == {s.name for s in field.fields}
    assert objects >= 3  # agent and MCP resources, secret provider vault


def test_data_sources_read_objects_as_object_attributes() -> None:
    for cls in data_source_classes(REGISTRY):
        schema = cls.schema.to_pb().block
        assert not schema.block_types
        for field in cls.declaration.fields:
            if field.kind == Kind.object and not field.sensitive:
                attribute = next(a for a in schema.attributes if a.name == field.name)
                assert attribute.computed and attribute.type.startswith(b'["object",')


def test_an_object_with_a_server_default_cannot_be_a_block() -> None:
    limits = nested("limits", "Limits.", (string("cpu", "CPU."),), default={"cpu": "1"})
    with pytest.raises(ValueError, match="cannot have a default"):
        object_block(limits)


def test_a_server_set_object_is_a_computed_attribute() -> None:
    status = nested("status", "Set by the server.", (string("phase", "Phase."),), computed=True)
    schema = resource_schema(Resource(name="gadget", collection="gadgets", description="A gadget.",
                                      fields=(string("name", "Name.", required=True), status)))
    assert not schema.block_types
    attribute = next(a for a in schema.attributes if a.name == "status")
    assert attribute.computed and not attribute.optional
