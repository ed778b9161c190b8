"""Data sources, generated for every registry resource that declares `data_source`: look one object up
by its declared lookup fields (by id with a GET, otherwise by listing with the filters the API has
and matching exactly)."""

from __future__ import annotations

from typing import Any

from tf.iface import DataSource, ReadDataContext

from agyn.kit.resources import Registry
from agyn_provider.client import ApiClient, ApiError, report
from agyn_provider.schema import RegistryBacked, data_source_schema, lookup_phrase
from agyn_provider.values import from_api

State = dict[str, Any]


class RegistryDataSource(RegistryBacked, DataSource):
    def read(self, ctx: ReadDataContext, config: State) -> State | None:
        diags, declaration = ctx.diagnostics, self.declaration
        assert declaration.data_source is not None
        lookup = declaration.data_source.lookup + declaration.data_source.optional_lookup
        criteria = {name: config[name] for name in lookup if config.get(name) is not None}
        what = f"Cannot read data.{declaration.terraform_type}"
        if not criteria:
            diags.add_error(what, f"set {lookup_phrase(declaration)}")
            return None
        client: ApiClient | None = self.provider.client(diags)
        if client is None:
            return None
        try:
            found = self._find(client, criteria)
        except ApiError as error:
            report(diags, error, what, set(criteria))
            return None
        shown = ", ".join(f"{k} = {v!r}" for k, v in criteria.items())
        if not found:
            diags.add_error(what, f"no {declaration.name.replace('_', ' ')} with {shown} is visible to this token")
            return None
        if len(found) > 1:
            narrower = [n for n in lookup if n not in criteria]
            diags.add_error(what, f"{len(found)} objects match {shown}"
                                  + (f"; set {' or '.join(narrower)} to narrow the lookup" if narrower else ""))
            return None
        return self._state(found[0])

    def _find(self, client: ApiClient, criteria: State) -> list[dict[str, Any]]:
        if "id" in criteria:
            body = client.get(self.declaration.path, criteria["id"])
            candidates = [] if body is None else [body]
        else:
            filters = {name: value for name, value in criteria.items() if self.declaration.field(name).filterable}
            candidates = list(client.list(self.declaration.path, filters))
        return [c for c in candidates if all(str(c.get(k)) == str(v) for k, v in criteria.items())]

    def _state(self, body: dict[str, Any]) -> State:
        """Values as Terraform's wire format wants them (this path has no schema encoding)."""
        attributes = {a.name: a for a in self.schema.attributes}
        state: State = {"id": str(body["id"])}
        for field in self.declaration.fields:
            if field.name in attributes:
                state[field.name] = attributes[field.name].type.encode(from_api(field, body.get(field.name), None))
        return state


def data_source_classes(registry: Registry) -> list[type[RegistryDataSource]]:
    """`data.agyn_<name>` for every resource that declares a data source."""
    return [type(f"{d.title}DataSource", (RegistryDataSource,),
                 {"declaration": d, "schema": data_source_schema(d), "__doc__": d.description})
            for d in registry if d.data_source is not None]
