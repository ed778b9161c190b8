"""The resource registry: one declaration per control-plane resource.

A `Resource` says, once, what each field is (type, required / optional / computed, immutable,
sensitive, default, validators, references) and how the resource relates to others. The database
table, the pydantic schemas, the REST router and the OpenAPI document are derived from it, and so
are the Terraform provider's schemas and the CDK's classes. Nothing else declares a field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Kind(StrEnum):
    string = "string"
    integer = "integer"
    boolean = "boolean"
    enum = "enum"
    reference = "reference"
    json = "json"
    duration = "duration"
    string_list = "string_list"
    string_map = "string_map"
    object = "object"


URL = r"https?://[^\s/$.?#][^\s]*"
URL_MESSAGE = "must be an http(s) URL such as https://example.com"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Field:
    """One attribute of a resource.

    - `required`: must be given on create. Otherwise optional (null when omitted, or `default`).
    - `computed`: set by the server; never accepted as input.
    - `immutable`: cannot change after create (Terraform plans a replacement).
    - `sensitive`: write-only. Stored encrypted, never in a response or a log line.
    - `once`: a computed sensitive value returned only in the create response (service tokens).
    - `derived`: optional input the server fills in when omitted (Terraform: optional + computed).
    - `choices`: the allowed values of an enum, or of each item of a string_list.
    - `positive`: a duration must be longer than zero.
    - `key_pattern`: what each key of a string_map must match (`key_pattern_message` says it plainly).
    Every rule is checked by `agyn.kit.rules`, in the API, the Terraform provider and the CDK alike.
    - references: `on_delete` says what deleting the target does to this object (`restrict`: refused
      while this object exists; `cascade`: this object goes too); `same_organization` requires the
      target to live in this object's organization.
    """

    name: str
    kind: Kind
    description: str
    required: bool = False
    computed: bool = False
    immutable: bool = False
    sensitive: bool = False
    once: bool = False
    default: Any = MISSING
    derived: bool = False
    filterable: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    choices: tuple[str, ...] = ()
    positive: bool = False
    key_pattern: str | None = None
    key_pattern_message: str | None = None
    references: str | None = None
    on_delete: Literal["restrict", "cascade"] = "restrict"
    same_organization: bool = True
    fields: tuple[Field, ...] = ()

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING

    @property
    def is_input(self) -> bool:
        return not self.computed

    @property
    def readable(self) -> bool:
        """Appears in ordinary responses (GET, list, update)."""
        return not self.sensitive

    def validate_pattern(self, value: str) -> str | None:
        if self.pattern and not re.fullmatch(self.pattern, value):
            return self.pattern_message or f"must match {self.pattern}"
        return None


def string(name: str, description: str, **options: Any) -> Field:
    return Field(name, Kind.string, description, **options)


def integer(name: str, description: str, **options: Any) -> Field:
    return Field(name, Kind.integer, description, **options)


def boolean(name: str, description: str, **options: Any) -> Field:
    return Field(name, Kind.boolean, description, **options)


def enum(name: str, description: str, choices: tuple[str, ...], **options: Any) -> Field:
    return Field(name, Kind.enum, description, choices=choices, **options)


def reference(name: str, collection: str, description: str, **options: Any) -> Field:
    return Field(name, Kind.reference, description, references=collection, **options)


def json_object(name: str, description: str, **options: Any) -> Field:
    return Field(name, Kind.json, description, **options)


def url(name: str, description: str, **options: Any) -> Field:
    """An http(s) URL."""
    return Field(name, Kind.string, description, pattern=URL, pattern_message=URL_MESSAGE, **options)


def duration(name: str, description: str, **options: Any) -> Field:
    return Field(name, Kind.duration, description, **options)


def string_list(name: str, description: str, **options: Any) -> Field:
    return Field(name, Kind.string_list, description, **options)


def string_map(name: str, description: str, **options: Any) -> Field:
    return Field(name, Kind.string_map, description, **options)


def nested(name: str, description: str, fields: tuple[Field, ...], **options: Any) -> Field:
    return Field(name, Kind.object, description, fields=fields, **options)


def organization_id(description: str = "The organization that owns it.", **options: Any) -> Field:
    options.setdefault("required", True)
    options.setdefault("immutable", True)
    return reference("organization_id", "organizations", description, filterable=True, **options)


@dataclass(frozen=True)
class Scope:
    """Whose an object is, for authorization: callers read and write it through relations on the
    object that `column` names (its organization, or the agent whose configuration it is part of).

    A `derived` column is not a declared field: the platform finds its value through the resource's
    cascading references and keeps it in the row.
    """

    object_type: str
    collection: str
    column: str
    read_relation: str
    write_relation: str
    derived: bool = False


ORGANIZATION_SCOPE = Scope("organization", "organizations", "organization_id", read_relation="can_view",
                           write_relation="can_manage_organization")


@dataclass(frozen=True)
class Condition:
    """A rule that depends on another field's value: when `field` is one of `values`, the fields of
    `require` must be set and those of `forbid` must not be."""

    field: str
    values: tuple[Any, ...]
    require: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataSource:
    """A Terraform data source reading one object of the resource by these lookup fields."""

    lookup: tuple[str, ...]
    optional_lookup: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resource:
    """A control-plane resource: a REST collection, a Terraform resource and a CDK class."""

    name: str
    collection: str
    description: str
    fields: tuple[Field, ...]
    exactly_one_of: tuple[tuple[str, ...], ...] = ()
    required_together: tuple[tuple[str, ...], ...] = ()
    conditions: tuple[Condition, ...] = ()
    unique_together: tuple[tuple[str, ...], ...] = ()
    import_id: tuple[str, ...] = ("id",)
    data_source: DataSource | None = None
    storage: Literal["table", "custom"] = "table"
    scope: Scope | None = ORGANIZATION_SCOPE
    """None: the module's service states its own rules."""
    id_kind: Literal["uuid", "composite"] = "uuid"

    @property
    def terraform_type(self) -> str:
        return f"agyn_{self.name}"

    @property
    def table_name(self) -> str:
        return self.collection.replace("-", "_")

    @property
    def title(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def path(self) -> str:
        return f"/api/v1/{self.collection}"

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name}")

    @property
    def input_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_input)

    @property
    def filters(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.filterable)

    @property
    def references(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kind == Kind.reference)

    @property
    def fully_immutable(self) -> bool:
        return all(f.immutable for f in self.input_fields)


@dataclass
class Registry:
    resources: dict[str, Resource] = field(default_factory=dict)

    def register(self, resource: Resource) -> Resource:
        if resource.collection in self.resources:
            raise ValueError(f"resource collection {resource.collection} is declared twice")
        self.resources[resource.collection] = resource
        return resource

    def __getitem__(self, collection: str) -> Resource:
        return self.resources[collection]

    def __iter__(self) -> Any:
        return iter(self.resources.values())

    def referrers(self, collection: str) -> list[tuple[Resource, Field]]:
        """Every (resource, field) whose value refers to an object of `collection`."""
        return [(r, f) for r in self for f in r.references if f.references == collection]


REGISTRY = Registry()
