"""What every generated L1 class shares: its framework base class, and values turned into what the
Terraform JSON holds (structs into objects, JSON documents into strings)."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from typing import Any

import constructs
import jsii

from agyn.kit import rules
from agyn.kit.resources import Resource
from agyn_cdk.framework import cdk

PROVIDER_NAME = "agyn"
PROVIDER_SOURCE = "agynio/agyn"


def plain(value: Any) -> Any:
    """A struct (dataclass) as a dict without its unset members; tuples as lists; the rest as is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(v) for f in dataclasses.fields(value) if (v := getattr(value, f.name)) is not None}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def json_document(value: Mapping[str, Any] | str | None) -> str | None:
    """A JSON attribute's value: a dict is encoded (references inside it stay references, as the
    encoded string is interpolated); a string is taken as JSON already (e.g. `cdk.Fn.jsonencode`)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def generator_metadata(version: str) -> Any:
    """Names the provider and pins its version: `cdktf deploy` works offline only with a constraint."""
    return cdk.TerraformProviderGeneratorMetadata(provider_name=PROVIDER_NAME, provider_version_constraint=version)


class _Attributes:
    """Attributes fixed at construction, synthesized as they are."""

    def __init__(self, scope: constructs.Construct, id_: str, terraform_type: str, version: str,
                 attributes: dict[str, Any], **meta: Any) -> None:
        super().__init__(scope, id_, terraform_resource_type=terraform_type,  # type: ignore[call-arg]
                         terraform_generator_metadata=generator_metadata(version), **meta)
        self._attributes: dict[str, Any] = plain(attributes)

    def _synthesize_attributes(self) -> dict[str, Any]:
        return self._attributes


class InvalidConfiguration(ValueError):
    """A resource's attributes break rules of the platform's registry (the same rules the Terraform
    provider checks at plan and the API at apply), found before anything is synthesized or deployed."""


def rule_values(value: Any) -> Any:
    """Attribute values as the registry's rules take them: references (tokens) are not known yet."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and cdk.Token.is_unresolved(value):
        return rules.UNKNOWN
    if isinstance(value, Mapping):
        return {k: rule_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rule_values(v) for v in value]
    return value


def check_attributes(terraform_type: str, path: str, attributes: Mapping[str, Any]) -> None:
    """Raise `InvalidConfiguration` naming every broken rule of `agyn.kit.rules` (one per rule)."""
    declaration = _declarations().get(terraform_type)
    if declaration is None:
        return
    found = rules.problems(declaration, rule_values(dict(attributes)))
    if found:
        listed = "\n".join(f"  - {rules.describe(problem)}" for problem in found)
        raise InvalidConfiguration(f"{terraform_type} at {path} is invalid:\n{listed}")


@functools.cache
def _declarations() -> dict[str, Resource]:
    from agyn.modules import load_registry  # the registry alone: its declarations, no platform

    return {r.terraform_type: r for r in load_registry()}


class AgynResource(_Attributes, cdk.TerraformResource):
    """A resource of the agyn provider; its attributes are checked against the registry's rules when it
    is constructed, so a mistake fails `cdktf synth` with the attribute and the rule."""

    def __init__(self, scope: constructs.Construct, id_: str, terraform_type: str, version: str,
                 attributes: dict[str, Any], **meta: Any) -> None:
        super().__init__(scope, id_, terraform_type, version, attributes, **meta)
        check_attributes(terraform_type, self.node.path, self._attributes)


class AgynDataSource(_Attributes, cdk.TerraformDataSource):
    """A data source of the agyn provider."""


class AgynProviderBase(cdk.TerraformProvider):
    """The agyn provider block, with its source and version constraint."""

    def __init__(self, scope: constructs.Construct, id_: str, version: str, attributes: dict[str, Any],
                 alias: str | None = None) -> None:
        self._alias = alias
        super().__init__(scope, id_, terraform_resource_type=PROVIDER_NAME, terraform_provider_source=PROVIDER_SOURCE,
                         terraform_generator_metadata=generator_metadata(version))
        self._attributes: dict[str, Any] = plain(attributes)

    # the framework's own `alias` keeps nothing: a provider class overrides it (as generated bindings do);
    # the framework then writes it into the block and into references (`provider = agyn.<alias>`)
    @property
    @jsii.member(jsii_name="alias")
    def alias(self) -> str | None:
        return self._alias

    @alias.setter
    def alias(self, value: str | None) -> None:
        self._alias = value

    def _synthesize_attributes(self) -> dict[str, Any]:
        return self._attributes
