"""One generic resource implementation; a class per registry resource is generated from it.

`resource_classes` is the generator: it makes `agyn_<name>` for every resource of the registry, so a
resource another module declares appears in the provider with no code here. Each generated class
carries its declaration (`declaration`) and its schema; CRUD goes to the resource's REST collection.
"""

from __future__ import annotations

from typing import Any

import msgpack
from tf.iface import (
    CreateContext,
    DeleteContext,
    ImportContext,
    ReadContext,
    Resource,
    UpdateContext,
)
from tf.types import Unknown
from tf.utils import Diagnostics

from agyn.kit import rules
from agyn.kit.resources import Field, Kind, Registry
from agyn_provider.client import ApiClient, ApiError, report
from agyn_provider.schema import (
    RegistryBacked,
    encode_default,
    is_optional_computed,
    object_blocks,
    resource_schema,
)
from agyn_provider.values import from_api, same, to_api

State = dict[str, Any]


class RegistryResource(RegistryBacked, Resource):
    """CRUD of one registry resource through its collection `POST/GET/PATCH/DELETE /api/v1/<collection>`."""

    @property
    def path(self) -> str:
        return self.declaration.path

    @property
    def attribute_names(self) -> set[str]:
        """The names at the top of the schema: attributes, and the blocks of object fields."""
        return {a.name for a in self.schema.attributes} | {b.type_name for b in self.schema.block_types}

    def _client(self, diags: Diagnostics) -> ApiClient | None:
        return self.provider.client(diags)

    def _fail(self, diags: Diagnostics, error: ApiError, action: str) -> None:
        paths = self.attribute_names | {f"{b.name}.{a.name}" for b in object_blocks(self.schema) for a in b.attributes}
        hint = ""
        if error.code == "already_exists" and error.existing_id:
            kind = self.declaration.terraform_type
            hint = (f"To manage the existing one with Terraform instead, import it: terraform import "
                    f"{kind}.<name> {error.existing_id} (or an import block with id = \"{error.existing_id}\")")
        report(diags, error, f"Cannot {action} {self.declaration.terraform_type}", paths, hint)

    # --- validation and planning ------------------------------------------------------------------

    def validate(self, diags: Diagnostics, type_name: str, config: State) -> None:
        """The registry's rules (`agyn.kit.rules`) on every known value, before anything is created;
        Terraform calls this at `validate` and again at `plan`, when more values are known."""
        super().validate(diags, type_name, config)
        if diags.has_errors():
            return
        for path, message in rules.problems(self.declaration, rule_values(config)):
            name = ".".join(path) or self.declaration.terraform_type
            diags.add_error(f"Invalid {name}", rules.describe((path, message)),
                            **({"path": list(path)} if path else {}))

    def plan_change(self, prior: State | None, proposed: State, config: State) -> tuple[State, list[str]]:
        """The planned state, and the attributes whose change needs a replacement.

        Defaults are planned when the configuration leaves a field out (so removing it goes back to
        the default); server-set values are unknown on create, and again whenever an update changes
        something (except values shown once, which stay)."""
        planned = dict(proposed)
        for field in self.declaration.fields:
            planned[field.name] = _planned_value(field, proposed.get(field.name), config.get(field.name),
                                                 None if prior is None else prior.get(field.name),
                                                 creating=prior is None)
        if prior is None:
            planned["id"] = Unknown
            return planned, []
        replace = [f.name for f in self.declaration.input_fields
                   if f.immutable and not same(f, planned[f.name], prior.get(f.name))]
        if any(planned[f.name] != prior.get(f.name) for f in self.declaration.input_fields):
            for field in self.declaration.fields:
                if not field.is_input and not field.once:
                    planned[field.name] = Unknown
        return planned, replace

    # --- lifecycle --------------------------------------------------------------------------------

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        client = self._client(ctx.diagnostics)
        if client is None:
            return None
        body = {f.name: to_api(f, planned[f.name]) for f in self.declaration.input_fields
                if planned.get(f.name) is not None and planned.get(f.name) is not Unknown}
        try:
            created = client.create(self.path, body)
        except ApiError as error:
            self._fail(ctx.diagnostics, error, "create")
            return None
        return self.state(created, planned)

    def read(self, ctx: ReadContext, current: State) -> State | None:
        client = self._client(ctx.diagnostics)
        if client is None:
            return current
        try:
            body = client.get(self.path, current["id"])
        except ApiError as error:
            self._fail(ctx.diagnostics, error, "read")
            return current
        return None if body is None else self.state(body, current)  # gone: Terraform plans to create it

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        client = self._client(ctx.diagnostics)
        if client is None:
            return current
        changes = {f.name: to_api(f, planned[f.name]) for f in self.declaration.input_fields
                   if not f.immutable and planned.get(f.name) != current.get(f.name)}
        try:
            body = client.update(self.path, current["id"], changes) if changes else \
                client.get(self.path, current["id"])
        except ApiError as error:
            self._fail(ctx.diagnostics, error, "update")
            return current
        if body is None:
            ctx.diagnostics.add_error(f"Cannot update {self.declaration.terraform_type}",
                                      f"{self.declaration.name} {current['id']} no longer exists")
            return current
        return self.state(body, planned)

    def delete(self, ctx: DeleteContext, current: State) -> State | None:
        client = self._client(ctx.diagnostics)
        if client is None:
            return current
        try:
            client.delete(self.path, current["id"])  # already gone counts as deleted
        except ApiError as error:
            self._fail(ctx.diagnostics, error, "delete")
            return current
        return None

    def import_(self, ctx: ImportContext, id: str) -> State | None:
        """Import by id (a relationship's is composite, e.g. `<agent_id>:<identity_id>`); Terraform
        then reads the object, and a malformed or unknown id fails there with the API's message."""
        return {**{name: None for name in self.attribute_names}, "id": id}

    def state(self, body: dict[str, Any], known: State) -> State:
        """The Terraform state of an API object, given what Terraform had (see `values.from_api`)."""
        state: State = {"id": str(body["id"])}
        for field in self.declaration.fields:
            state[field.name] = from_api(field, body.get(field.name), known.get(field.name))
        return state


def rule_values(value: Any) -> Any:
    """Terraform's values as the rules take them: unknown values (at any depth) as `rules.UNKNOWN`,
    refined ones too (newer Terraform sends what it knows of an unknown, e.g. a string's prefix, as
    another msgpack extension)."""
    if value is Unknown or isinstance(value, msgpack.ExtType):
        return rules.UNKNOWN
    if isinstance(value, dict):
        return {k: rule_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rule_values(v) for v in value]
    return value


def _planned_value(field: Field, proposed: Any, config: Any, prior: Any, *, creating: bool) -> Any:
    """One field's planned value: the configured value, or what the server will set."""
    if field.kind == Kind.object and isinstance(proposed, dict):
        config = config if isinstance(config, dict) else {}
        prior = prior if isinstance(prior, dict) else {}
        return {sub.name: _planned_value(sub, proposed.get(sub.name), config.get(sub.name), prior.get(sub.name),
                                         creating=creating)
                for sub in field.fields}
    if config is not None or proposed is Unknown:
        return proposed
    if is_optional_computed(field) and field.has_default:
        default = encode_default(field)
        return prior if prior is not None and same(field, prior, default) else default
    if field.is_input and not field.derived:
        return None
    return Unknown if creating else prior  # derived or computed: the server sets it, once


def resource_classes(registry: Registry) -> list[type[RegistryResource]]:
    """`agyn_<name>` for every resource the registry declares."""
    return [type(f"{d.title}Resource", (RegistryResource,),
                 {"declaration": d, "schema": resource_schema(d), "__doc__": d.description})
            for d in registry]
