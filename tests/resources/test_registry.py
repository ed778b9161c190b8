"""The registry is the one declaration of every resource: the API must agree with it, everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from agyn.app import create_app
from agyn.kit.resources import Kind, Resource
from agyn.modules import load_registry
from agyn.settings import Settings

REGISTRY = load_registry()


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("d"))).openapi()


def _schema(openapi: dict[str, Any], ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in ref_or_schema:
        return openapi["components"]["schemas"][ref_or_schema["$ref"].rsplit("/", 1)[1]]
    return ref_or_schema


def _body_schema(openapi: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    return _schema(openapi, operation["requestBody"]["content"]["application/json"]["schema"])


def _response_schema(openapi: dict[str, Any], operation: dict[str, Any], status: str) -> dict[str, Any]:
    return _schema(openapi, operation["responses"][status]["content"]["application/json"]["schema"])


RESOURCES = [pytest.param(r, id=r.collection) for r in REGISTRY]


@pytest.mark.parametrize("resource", RESOURCES)
def test_collection_paths_exist(openapi: dict[str, Any], resource: Resource) -> None:
    item_paths = [p for p in openapi["paths"] if p.startswith(resource.path + "/{") and p.count("/") == 4]
    assert {"post", "get"} <= set(openapi["paths"][resource.path])
    assert len(item_paths) == 1, item_paths
    expected = {"get", "delete"} | ({"patch"} if not resource.fully_immutable else set())
    assert expected <= set(openapi["paths"][item_paths[0]])


@pytest.mark.parametrize("resource", RESOURCES)
def test_create_body_is_the_declared_inputs(openapi: dict[str, Any], resource: Resource) -> None:
    body = _body_schema(openapi, openapi["paths"][resource.path]["post"])
    assert set(body["properties"]) == {f.name for f in resource.input_fields}
    assert set(body.get("required", [])) == {f.name for f in resource.input_fields if f.required}
    assert body.get("additionalProperties") is False  # unknown fields are errors


@pytest.mark.parametrize("resource", RESOURCES)
def test_responses_never_carry_sensitive_fields(openapi: dict[str, Any], resource: Resource) -> None:
    item_path = next(p for p in openapi["paths"] if p.startswith(resource.path + "/{") and p.count("/") == 4)
    read = _response_schema(openapi, openapi["paths"][item_path]["get"], "200")
    readable = {f.name for f in resource.fields if f.readable}
    sensitive = {f.name for f in resource.fields if f.sensitive}
    assert readable <= set(read["properties"])
    assert not sensitive & set(read["properties"])
    assert {"id", "etag", "created_at", "updated_at"} <= set(read["properties"])
    created = _response_schema(openapi, openapi["paths"][resource.path]["post"], "201")
    assert {f.name for f in resource.fields if f.once} <= set(created["properties"])
    assert not {f.name for f in resource.fields if f.sensitive and not f.once} & set(created["properties"])


@pytest.mark.parametrize("resource", RESOURCES)
def test_list_filters_are_the_declared_ones(openapi: dict[str, Any], resource: Resource) -> None:
    parameters = {p["name"] for p in openapi["paths"][resource.path]["get"].get("parameters", [])}
    assert {f.name for f in resource.filters} <= parameters
    assert {"page_size", "page_token"} <= parameters


def test_every_declared_enum_and_reference_is_sound() -> None:
    collections = {r.collection for r in REGISTRY} | {"identities"}
    for resource in REGISTRY:
        for field in resource.fields:
            if field.kind == Kind.enum:
                assert field.choices, f"{resource.name}.{field.name} has no choices"
                assert not field.has_default or field.default in field.choices
            if field.kind == Kind.reference:
                assert field.references in collections, f"{resource.name}.{field.name} → {field.references}"
        for group in (*resource.exactly_one_of, *resource.required_together, *resource.unique_together):
            for name in group:
                resource.field(name)
