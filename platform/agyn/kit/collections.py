"""What every registry resource gets for free: its table, its schemas, its service rules, its router.

Modules subclass `CollectionService` only for what is particular to them (tuples, identities,
events, tokens); the shared rules — authorization by scope, validation, references, uniqueness,
immutability, encryption of sensitive fields, ETags — live here, once.
"""

import builtins
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Strict, TypeAdapter, WithJsonSchema, create_model
from pydantic import Field as PydanticField
from pydantic_core import PydanticCustomError
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    and_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import mapped_column

from agyn.kit import rules
from agyn.kit.access import object_name
from agyn.kit.db import RecordModel, utcnow
from agyn.kit.durations import normalise_duration
from agyn.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from agyn.kit.http import ReadSchema, ResourceRead, Schema, validated_json
from agyn.kit.ids import uuid7
from agyn.kit.pagination import PageRequest, paginate_ids
from agyn.kit.platform import Platform
from agyn.kit.principal import Principal
from agyn.kit.readcache import Snapshot, snapshot_of_row
from agyn.kit.resources import REGISTRY, Field, Kind, Resource, Scope

MODELS: dict[str, Any] = {}
FULL_VIEW = "full"
"""The view of a record that shows every readable field (`CollectionService.views`)."""
"""Collection → its table's model, for the rules that follow references between collections."""

# --- tables ----------------------------------------------------------------------------------------


def _column(resource: Resource, field: Field) -> Any:
    nullable = not (field.required or field.has_default)
    if field.sensitive:
        return mapped_column(Text, nullable=nullable)
    if field.kind == Kind.reference:
        target = str(field.references).replace("-", "_")
        ondelete = "CASCADE" if field.on_delete == "cascade" else "RESTRICT"
        return mapped_column(Uuid, ForeignKey(f"{target}.id", ondelete=ondelete), nullable=nullable, index=True)
    column_type: Any = {
        Kind.string: String(field.max_length) if field.max_length else Text,
        Kind.integer: Integer,
        Kind.boolean: Boolean,
        Kind.enum: String(field.max_length or 32),
        Kind.json: JSON,
        Kind.duration: String(32),
        Kind.string_list: JSON,
        Kind.string_map: JSON,
        Kind.object: JSON,
    }[field.kind]
    return mapped_column(column_type, nullable=nullable)


def build_model(resource: Resource) -> Any:
    """The SQLAlchemy model of a table-backed resource, derived from its declaration (a `RecordModel`
    whose columns are known only at run time, hence `Any` to the type checker)."""
    attributes: dict[str, Any] = {
        "__tablename__": resource.table_name,
        "__table_args__": tuple(UniqueConstraint(*names) for names in resource.unique_together),
        "__doc__": resource.description,
    }
    for field in resource.fields:
        if not field.once:
            attributes[field.name] = _column(resource, field)
    scope = resource.scope
    if scope is not None and scope.derived:
        attributes[scope.column] = mapped_column(
            Uuid, ForeignKey(f"{scope.collection.replace('-', '_')}.id", ondelete="CASCADE"), index=True,
            nullable=False)
    model = type(f"{resource.title}Record", (RecordModel,), attributes)
    MODELS[resource.collection] = model
    return model


# --- schemas ---------------------------------------------------------------------------------------


def _rule_validator(field: Field) -> Callable[[Any], Any]:
    """The registry's rules for one value (`agyn.kit.rules`), reported in their own words."""

    def validate(value: Any) -> Any:
        problem = rules.value_problem(field, value)
        if problem is not None:
            raise PydanticCustomError("invalid_value", problem)
        return normalise_duration(value) if field.kind == Kind.duration else value

    return validate


def _reference_validator(field: Field) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        problem = rules.value_problem(field, value) if isinstance(value, str) else None
        if problem is not None:
            raise PydanticCustomError("invalid_value", problem)
        return value

    return validate


def _with_rules(base: Any, field: Field, **schema: Any) -> Any:
    """`base` checked by the registry's rules; `schema` states them in the OpenAPI document."""
    documented = {k: v for k, v in schema.items() if v is not None}
    return Annotated[base, AfterValidator(_rule_validator(field)), WithJsonSchema(
        {**TypeAdapter(base).json_schema(), **documented})]


def python_type(resource: Resource, field: Field, *, output: bool) -> Any:
    if field.kind == Kind.string:
        if output:
            return str
        return _with_rules(Annotated[str, Strict()], field, minLength=field.min_length, maxLength=field.max_length)
    if field.kind == Kind.integer:
        return Annotated[int, Strict()]
    if field.kind == Kind.boolean:
        return Annotated[bool, Strict()]
    if field.kind == Kind.enum:
        return Literal[field.choices] if output else _with_rules(Annotated[str, Strict()], field,
                                                                 enum=list(field.choices))
    if field.kind == Kind.reference:
        return uuid.UUID if output else Annotated[uuid.UUID, BeforeValidator(_reference_validator(field))]
    if field.kind == Kind.json:
        return dict[str, Any] if output else _with_rules(Any, field, type="object")
    if field.kind == Kind.duration:
        return str if output else _with_rules(Annotated[str, Strict()], field)
    if field.kind == Kind.string_list:
        if output:
            return list[str]
        items = {"enum": list(field.choices)} if field.choices else {"minLength": 1, "maxLength": rules.MAX_ITEM_LENGTH}
        return _with_rules(list[Annotated[str, Strict()]], field, items={"type": "string", **items})
    if field.kind == Kind.string_map:
        if output:
            return dict[str, str]
        return _with_rules(dict[str, Annotated[str, Strict()]], field)
    if field.kind == Kind.object:
        return _nested_model(resource, field, output=output)
    raise AssertionError(field.kind)


def rule_check(resource: Resource, name: str) -> Any:
    """The registry's rules of one field as pydantic metadata, for modules whose schemas are their own
    (users, organizations): `Annotated[str, rule_check(USER, "email")]` says what every resource says."""
    field = resource.field(name)
    if field.kind == Kind.reference:
        return BeforeValidator(_reference_validator(field))
    return AfterValidator(_rule_validator(field))


def _nested_model(resource: Resource, field: Field, *, output: bool) -> type[BaseModel]:
    sub_fields = {
        sub.name: _schema_field(resource, sub, output=output, optional=not sub.required)
        for sub in field.fields if not (output and sub.sensitive)
    }
    base = ReadSchema if output else Schema
    name = f"{resource.title}{field.name.title().replace('_', '')}{'' if output else 'Input'}"
    return derived_model(name, base, None, sub_fields)


def _schema_field(resource: Resource, field: Field, *, output: bool, optional: bool) -> tuple[Any, Any]:
    field_type = python_type(resource, field, output=output)
    description = f"{field.description} Write-only: never returned." if field.sensitive else field.description
    info = PydanticField(default=None if optional else ..., description=description)
    return (field_type | None, info) if optional else (field_type, info)


def derived_model(name: str, base: type[BaseModel], doc: str | None, fields: dict[str, Any]) -> type[BaseModel]:
    """A pydantic model built from declarations (fields are only known at run time)."""
    model: type[BaseModel] = create_model(name, __base__=base, __doc__=doc, **fields)
    return model


@dataclass(frozen=True)
class Schemas:
    create: type[BaseModel]
    update: type[BaseModel]
    read: type[BaseModel]
    created: type[BaseModel]


def build_schemas(resource: Resource) -> Schemas:
    """Create (required inputs required), Update (every input optional), Read (no secrets),
    Created (Read plus the values shown once)."""
    title = resource.title
    create = derived_model(
        f"{title}Create", Schema, f"Create: {resource.description}",
        {f.name: _schema_field(resource, f, output=False, optional=not f.required) for f in resource.input_fields})
    update = derived_model(
        f"{title}Update", Schema, f"Update (send only what changes): {resource.description}",
        {f.name: _schema_field(resource, f, output=False, optional=True) for f in resource.input_fields})
    id_type: Any = uuid.UUID if resource.id_kind == "uuid" else str
    timestamps: dict[str, Any] = {}
    if resource.id_kind == "composite":  # a relationship (an authorization tuple) records no timestamps
        unrecorded = "Not recorded for a relationship."
        timestamps = {name: (datetime | None, PydanticField(default=None, description=unrecorded))
                      for name in ("created_at", "updated_at")}
    read_fields = {f.name: _schema_field(resource, f, output=True, optional=not f.required or f.computed)
                   for f in resource.fields if f.readable}
    read = derived_model(title, ResourceRead, resource.description,
                         {"id": (id_type, ...), **timestamps, **read_fields})
    created = derived_model(
        f"{title}Created", read, f"{resource.description} Values shown only once are included.",
        {f.name: (str, PydanticField(description=f.description)) for f in resource.fields if f.once})
    return Schemas(create, update, read, created)


# --- service ---------------------------------------------------------------------------------------


def encrypted_paths(resource: Resource) -> list[tuple[str, str | None]]:
    """Where a resource keeps ciphertext: (field, None) for a stored sensitive field, (field, sub) for
    a sensitive field nested in an object."""
    paths: list[tuple[str, str | None]] = []
    for field in resource.fields:
        if field.sensitive and not field.once:
            paths.append((field.name, None))
        elif field.kind == Kind.object:
            paths.extend((field.name, sub.name) for sub in field.fields if sub.sensitive)
    return paths


def value_aad(resource: Resource, record_id: uuid.UUID, path: str) -> bytes:
    """The associated data that binds a ciphertext to its table, row and field: a value copied
    elsewhere does not decrypt."""
    return f"{resource.table_name}:{record_id}:{path}".encode()


async def ensure_unreferenced(session: AsyncSession, collection: str, object_id: uuid.UUID, what: str) -> None:
    """Refuse to delete an object that another resource still refers to (restrict references)."""
    for referrer, field in REGISTRY.referrers(collection):
        if field.on_delete != "restrict" or referrer.storage != "table":
            continue
        model = MODELS[referrer.collection]
        referrer_id = await session.scalar(select(model.id).where(getattr(model, field.name) == object_id).limit(1))
        if referrer_id is not None:
            raise FailedPrecondition(
                f"{what} is still used by {referrer.name} {referrer_id} (its {field.name}); delete that "
                f"{referrer.name} or point it elsewhere first")


async def resolve_reference(platform: Platform, session: AsyncSession, principal: Principal, field: Field,
                            target_id: uuid.UUID) -> uuid.UUID | None:
    """Check that the object a reference field names exists and is visible; return its organization."""
    target = platform.references[str(field.references)]
    try:
        return await target.resolve_reference(session, principal, target_id)
    except NotFound:
        singular = str(field.references).rstrip("s").replace("-", " ")
        raise InvalidArgument.field(field.name, f"no {singular} {target_id} exists, or you cannot see it") \
            from None


class CollectionService:
    """CRUD of one table-backed resource with the shared rules; hooks for the particular ones.

    Subclasses name their `resource`, `model` and `schemas`.
    """

    resource: Resource
    model: type[RecordModel]
    schemas: Schemas
    cache_reads = True
    """Serve `GET /{id}` from the platform's read cache (rows only: access is decided every time)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.authz = platform.authz
        if self.cache_reads:
            platform.read_cache.track(self.resource.table_name)
        self._shown = [(f.name, [sub.name for sub in f.fields if not sub.sensitive] if f.kind == Kind.object else None)
                       for f in self.resource.fields if f.readable and not f.once]
        """What `to_read` shows: (field, the parts shown of an object field, or None for any other)."""

    # --- authorization (scope rules; override for particular resources) ---------------------------

    async def authorize_create(self, session: AsyncSession, principal: Principal, values: dict[str, Any]) -> None:
        await self.authz.require(principal, self.write_relation, self._anchor_object(values),
                                 f"create {self.resource.collection} here")

    async def can_read(self, session: AsyncSession, principal: Principal, record: Any) -> bool:
        return await self.authz.check(principal, self.read_relation, self._anchor_object(self.values_of(record)))

    async def authorize_write(self, session: AsyncSession, principal: Principal, record: Any, action: str) -> None:
        await self.authz.require(principal, self.write_relation, self._anchor_object(self.values_of(record)),
                                 f"{action} this {self.resource.name}")

    async def visible(self, session: AsyncSession, principal: Principal, statement: Select[Any]) -> Select[Any]:
        if await self.authz.is_cluster_admin(principal):
            return statement
        scope = self._scope
        ids = await self.related_ids(principal, scope.read_relation, scope.object_type)
        return statement.where(self.platform.database.among(self.model.__table__.c[scope.column], ids))

    async def related_ids(self, principal: Principal, relation: str, object_type: str) -> Sequence[uuid.UUID]:
        """The ids of every `object_type` on which the caller holds `relation` (for list filters)."""
        return await self.authz.list_object_uuids(principal, relation, object_type)

    @property
    def _scope(self) -> Scope:
        if self.resource.scope is None:
            raise NotImplementedError(f"{type(self).__name__} states its own authorization rules")
        return self.resource.scope

    @property
    def read_relation(self) -> str:
        return self._scope.read_relation

    @property
    def write_relation(self) -> str:
        return self._scope.write_relation

    def _anchor_object(self, values: dict[str, Any]) -> str:
        return object_name(self._scope.object_type, values[self._scope.column])

    # --- lifecycle hooks (override) -------------------------------------------------------------

    def validate_values(self, values: dict[str, Any]) -> None:
        """Rules across fields particular to this resource (the whole new state is given)."""

    async def before_create(self, session: AsyncSession, principal: Principal, record: Any,
                            values: dict[str, Any]) -> None:
        """Runs before the insert; may set computed columns."""

    async def after_create(self, session: AsyncSession, principal: Principal, record: Any) -> dict[str, Any]:
        """Runs after the insert; returns values shown only in the create response."""
        return {}

    async def before_update(self, session: AsyncSession, principal: Principal, record: Any,
                            changes: dict[str, Any]) -> None:
        """Runs before changes are applied (`changes` holds the new values)."""

    async def after_write(self, session: AsyncSession, principal: Principal, record: Any, action: str) -> None:
        """Runs after a create, update or delete took effect in the session."""

    async def before_delete(self, session: AsyncSession, principal: Principal, record: Any) -> None:
        """Runs before the delete (after the reference check)."""

    # --- operations -----------------------------------------------------------------------------

    async def create(self, session: AsyncSession, principal: Principal, data: BaseModel) -> tuple[Any, dict[str, Any]]:
        values = {f.name: getattr(data, f.name) for f in self.resource.input_fields}
        for field in self.resource.input_fields:
            if values[field.name] is None and field.has_default:
                values[field.name] = field.default
        values = self._plain(values)
        self._validate_combinations(values)
        self.validate_values(values)
        await self._check_references(session, principal, values)
        record = self.model(id=uuid7())
        if self.resource.scope is not None and self.resource.scope.derived:
            values[self.resource.scope.column] = await self._scope_owner(session, values)
        await self.authorize_create(session, principal, values)
        await self._ensure_unique(session, values, None)
        self._assign(record, values)
        await self.before_create(session, principal, record, values)
        session.add(record)
        await session.flush()
        once = await self.after_create(session, principal, record)
        await self.after_write(session, principal, record, "create")
        return record, once

    async def get(self, session: AsyncSession, principal: Principal, object_id: uuid.UUID) -> Any:
        record = await session.get(self.model, object_id)
        if record is None or not await self.can_read(session, principal, record):
            raise NotFound(f"{self.resource.name} {object_id} not found")
        return record

    async def get_readonly(self, session: AsyncSession, principal: Principal, object_id: uuid.UUID) -> Any:
        """The object for a read-only answer (`GET /{id}`): as `get`, but the row may come from the read
        cache (a detached copy: not for writes)."""
        if not self.cache_reads:
            return await self.get(session, principal, object_id)
        cache, table = self.platform.read_cache, self.resource.table_name
        record: Any = cache.get(table, object_id)
        if record is None:
            record = await session.get(self.model, object_id)
            if record is not None:
                cache.put(session, table, object_id, record)
        if record is None or not await self.can_read(session, principal, record):
            raise NotFound(f"{self.resource.name} {object_id} not found")
        return record

    async def resolve_reference(self, session: AsyncSession, principal: Principal,
                                object_id: uuid.UUID) -> uuid.UUID | None:
        return await self.organization_of(session, await self.get(session, principal, object_id))

    async def list(self, session: AsyncSession, principal: Principal, page: PageRequest,
                   filters: dict[str, Any]) -> tuple[list[Any], str | None]:
        columns = self.model.__table__.c  # Core columns: the page's ids need nothing of the ORM
        statement = await self.visible(session, principal, select(columns.id))
        conditions = [columns[name] == value for name, value in filters.items() if value is not None]
        if conditions:
            statement = statement.where(and_(*conditions))
        ids, next_token = await paginate_ids(session, statement, columns.id, page)
        return await self._rows(session, ids), next_token

    async def _rows(self, session: AsyncSession, ids: Sequence[uuid.UUID]) -> builtins.list[Any]:
        """The rows of `ids` in that order, read-only: from the read cache where it holds them, the others
        in one query (as detached copies: converting a page's columns, not the query, is what costs)."""
        cache, table = self.platform.read_cache, self.resource.table_name
        found = {object_id: row for object_id in ids
                 if self.cache_reads and (row := cache.get(table, object_id)) is not None}
        missing = [object_id for object_id in ids if object_id not in found]
        if missing:
            result = await session.execute(select(*self.model.__table__.columns)
                                           .where(self.platform.database.among(self.model.id, missing)))
            for row in map(snapshot_of_row, result):
                found[row.id] = row
                if self.cache_reads:
                    cache.put(session, table, row.id, row)
        return [found[object_id] for object_id in ids if object_id in found]  # less any deleted meanwhile

    async def update(self, session: AsyncSession, principal: Principal, record: Any, data: BaseModel) -> Any:
        await self.authorize_write(session, principal, record, "change")
        if self.resource.fully_immutable:
            raise InvalidArgument(f"a {self.resource.name.replace('_', ' ')} cannot be changed; delete it and "
                                  "create a new one (Terraform replaces it)")
        given = self._plain(data.model_dump(exclude_unset=True))
        current = self.values_of(record)
        changes: dict[str, Any] = {}
        for name, value in given.items():
            field = self.resource.field(name)
            if value is None and field.required:
                raise InvalidArgument.field(name, "is required and cannot be null")
            if value is None and field.has_default:
                value = field.default
            if field.immutable:
                if value != current.get(name):
                    raise InvalidArgument.field(name, "cannot be changed; create a new "
                                                      f"{self.resource.name} instead (Terraform replaces it)")
                continue
            if field.sensitive or value != self._comparable(record, field):
                changes[name] = value
        for group in self.resource.exactly_one_of:
            chosen = [name for name in group if given.get(name) is not None]
            if chosen:
                changes.update({name: None for name in group if name not in given and current.get(name) is not None})
        cleared = {name for name, value in changes.items() if value is None and name not in given}
        for group in self.resource.required_together:  # what went with a cleared field goes too
            if cleared.intersection(group):
                changes.update({name: None for name in group if name not in given and current.get(name) is not None})
        merged = {**current, **changes}
        self._validate_combinations(merged)
        self.validate_values({**self._decrypted(record), **changes})
        await self._check_references(session, principal, merged)
        await self._ensure_unique(session, merged, record.id)
        if all(self.resource.field(n).sensitive for n in changes) and self._sensitive_unchanged(record, changes):
            return record  # nothing changes: no new version, no event
        await self.before_update(session, principal, record, changes)
        self._assign(record, changes)
        record.updated_at = utcnow()
        await session.flush()
        await self.after_write(session, principal, record, "update")
        return record

    async def delete(self, session: AsyncSession, principal: Principal, record: Any) -> None:
        await self.authorize_write(session, principal, record, "delete")
        await ensure_unreferenced(session, self.resource.collection, record.id,
                                  f"{self.resource.name} {record.id}")
        await self.before_delete(session, principal, record)
        await session.delete(record)
        await session.flush()
        await self.after_write(session, principal, record, "delete")

    # --- values ---------------------------------------------------------------------------------

    def values_of(self, record: Any) -> dict[str, Any]:
        """The record's stored values (sensitive ones still encrypted)."""
        names = [f.name for f in self.resource.fields if not f.once]
        if self.resource.scope is not None and self.resource.scope.derived:
            names.append(self.resource.scope.column)
        return {name: getattr(record, name) for name in names}

    async def views(self, session: AsyncSession, principal: Principal, records: Sequence[Any]) -> Sequence[str]:
        """What this caller may see of each record, as the name of a view (`to_read`); override to hide
        what some callers may not read."""
        return [FULL_VIEW] * len(records)

    async def present(self, session: AsyncSession, principal: Principal,
                      records: Sequence[Any]) -> Sequence[dict[str, Any]]:
        """The response bodies of records for this caller."""
        views = await self.views(session, principal, records)
        return [self.to_read(record, view) for record, view in zip(records, views, strict=True)]

    async def present_json(self, session: AsyncSession, principal: Principal,
                           records: Sequence[Any]) -> Sequence[bytes]:
        """`present` as JSON validated by the read schema. A body depends on nothing but the row and the
        view, so a cached row (`Snapshot`) keeps its bodies: a page of cached rows validates and encodes
        only what it has not met before."""
        views = await self.views(session, principal, records)
        return [self._body_json(record, view) for record, view in zip(records, views, strict=True)]

    def _body_json(self, record: Any, view: str) -> bytes:
        bodies = record.derived if isinstance(record, Snapshot) else {}
        key = (self.resource.collection, view)
        body = bodies.get(key)
        if body is None:
            body = bodies[key] = validated_json(self.schemas.read, self.to_read(record, view))
        return body

    def to_read(self, record: Any, view: str = FULL_VIEW) -> dict[str, Any]:
        """The response body of a record as `view` shows it: no sensitive value, not even encrypted."""
        body: dict[str, Any] = {"id": record.id, "created_at": record.created_at, "updated_at": record.updated_at,
                                "etag": record.etag}
        for name, parts in self._shown:
            value = getattr(record, name)
            body[name] = value if parts is None or value is None else {part: value.get(part) for part in parts}
        return body

    def decrypt(self, record: Any, field_name: str, sub_field: str | None = None) -> Any:
        """The plain value of a sensitive field, for internal use (resolution), never for responses."""
        value = getattr(record, field_name)
        if sub_field is not None:
            value = (value or {}).get(sub_field)
        if value is None:
            return None
        path = f"{field_name}.{sub_field}" if sub_field else field_name
        plain = self.platform.require_cipher().decrypt(value, self._aad(record.id, path))
        field = self.resource.field(field_name)
        return plain if sub_field is not None or field.kind == Kind.string else json.loads(plain)

    def _comparable(self, record: Any, field: Field) -> Any:
        """The stored value of a field to compare with a new one: an object's sensitive parts decrypted."""
        value = getattr(record, field.name)
        if field.kind != Kind.object or value is None:
            return value
        return {**value, **{sub.name: self.decrypt(record, field.name, sub.name)
                            for sub in field.fields if sub.sensitive and value.get(sub.name) is not None}}

    def _decrypted(self, record: Any) -> dict[str, Any]:
        """Every stored value with sensitive top-level fields in the clear (for validation)."""
        values = self.values_of(record)
        for field in self.resource.fields:
            if field.sensitive and not field.once:
                values[field.name] = self.decrypt(record, field.name)
        return values

    def _plain(self, values: dict[str, Any]) -> dict[str, Any]:
        """JSON-ready values: nested models become dicts, UUIDs stay UUIDs."""
        return {k: (v.model_dump() if isinstance(v, BaseModel) else v) for k, v in values.items()}

    def _aad(self, record_id: uuid.UUID, path: str) -> bytes:
        return value_aad(self.resource, record_id, path)

    def _assign(self, record: Any, values: dict[str, Any]) -> None:
        cipher = None
        derived = self.resource.scope.column if self.resource.scope is not None and self.resource.scope.derived \
            else None
        for name, value in values.items():
            if name == derived:
                setattr(record, name, value)
                continue
            field = self.resource.field(name)
            if field.sensitive and value is not None:
                cipher = cipher or self.platform.require_cipher()
                plain = value if field.kind == Kind.string else json.dumps(value, sort_keys=True)
                value = cipher.encrypt(plain, self._aad(record.id, name))
            elif field.kind == Kind.object and value is not None:
                value = dict(value)
                for sub in field.fields:
                    if sub.sensitive and value.get(sub.name) is not None:
                        cipher = cipher or self.platform.require_cipher()
                        value[sub.name] = cipher.encrypt(str(value[sub.name]),
                                                         self._aad(record.id, f"{name}.{sub.name}"))
            setattr(record, name, value)

    def _sensitive_unchanged(self, record: Any, changes: dict[str, Any]) -> bool:
        """True when every sensitive change re-sends the value already stored (no version bump)."""
        for name, value in changes.items():
            field = self.resource.field(name)
            if not field.sensitive:
                continue
            stored = getattr(record, name)
            if (stored is None) != (value is None):
                return False
            if stored is not None and self.decrypt(record, name) != value:
                return False
        return True

    def _validate_combinations(self, values: dict[str, Any]) -> None:
        """The registry's rules across fields (`agyn.kit.rules`): one error per broken rule."""
        found = rules.combination_problems(self.resource, values)
        if found:
            raise InvalidArgument("; ".join(rules.describe(p) for p in found),
                                  errors=[{"field": ".".join(path), "message": message}
                                          for path, message in found if path])

    async def _check_references(self, session: AsyncSession, principal: Principal, values: dict[str, Any]) -> None:
        """Every referenced object exists and is visible to the caller, and all of them (and the
        resource itself) live in one organization."""
        organizations: dict[str, uuid.UUID] = {}
        for field in self.resource.references:
            target_id = values.get(field.name)
            if target_id is None:
                continue
            organization_id = await resolve_reference(self.platform, session, principal, field, target_id)
            if organization_id is not None and field.same_organization:
                organizations[field.name] = organization_id
        if len(set(organizations.values())) > 1:
            first = next(iter(organizations))
            other = next(n for n, o in organizations.items() if o != organizations[first])
            raise InvalidArgument.field(other, f"{other} and {first} belong to different organizations")

    async def organization_of(self, session: AsyncSession, record: Any) -> uuid.UUID | None:
        """The org a record belongs to: its own organization_id, or its scope owner's."""
        if hasattr(record, "organization_id"):
            organization_id: uuid.UUID | None = record.organization_id
            return organization_id
        scope = self.resource.scope
        if scope is not None and scope.derived:
            owners = MODELS[scope.collection]
            owner_id = getattr(record, scope.column)
            found: uuid.UUID | None = await session.scalar(
                select(owners.organization_id).where(owners.id == owner_id))
            return found
        return None

    async def _scope_owner(self, session: AsyncSession, values: dict[str, Any]) -> uuid.UUID:
        """The object this one is part of (e.g. the agent a configuration item configures), found
        through whichever cascading reference is set."""
        scope = self._scope
        for field in self.resource.references:
            target_id = values.get(field.name)
            if target_id is None or field.on_delete != "cascade":
                continue
            if field.references == scope.collection:
                owner_id: uuid.UUID = target_id
                return owner_id
            target_model = MODELS.get(str(field.references))
            if target_model is not None and hasattr(target_model, scope.column):
                owner = await session.scalar(select(getattr(target_model, scope.column))
                                             .where(target_model.id == target_id))
                if owner is not None:
                    return owner  # type: ignore[no-any-return]
        raise InvalidArgument(f"a {self.resource.name} must belong to a {scope.object_type}")

    async def _ensure_unique(self, session: AsyncSession, values: dict[str, Any],
                             exclude: uuid.UUID | None) -> None:
        for names in self.resource.unique_together:
            if values.get(names[-1]) is None:
                continue  # an unset name is unique to nobody (e.g. an LLM provider's optional name)
            statement = select(self.model.id).where(*(getattr(self.model, n) == values.get(n) for n in names))
            if exclude is not None:
                statement = statement.where(self.model.id != exclude)
            existing = await session.scalar(statement.limit(1))
            if existing is not None:
                label, value = names[-1], values.get(names[-1])
                scope = next((name for name in names[:-1] if values.get(name) is not None), None)
                where = f" in this {scope.removesuffix('_id').replace('_', ' ')}" if scope else ""
                what = self.resource.name.replace("_", " ")
                article = "an" if what[0] in "aeiou" else "a"
                message = f"{article} {what} with {label} {rules.shown(value)} already exists{where} (id {existing})"
                raise AlreadyExists(message, errors=[{"field": label, "message": message}],
                                    extensions={"existing_id": str(existing)})
