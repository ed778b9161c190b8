"""One bad value for every rule of the registry, generated from the registry itself: the table the
Terraform provider's and the CDK's validation tests run (a rule added to the registry adds a case).

A case is a change to a resource's documented `example` object that breaks exactly one rule, the
attribute the error must be on, and words the message must contain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agyn.kit import rules
from agyn.kit.resources import Field, Kind, Resource
from agyn.modules import load_registry

REGISTRY = {r.terraform_type: r for r in load_registry()}
SOME_ID = "00000000-0000-7000-8000-000000000001"
NOT_A_CHOICE = "not-a-choice"
PATTERN_CANDIDATES = ("Not Valid!", "-", "relative/path", "a", "1BAD", "x y")
VALID_CANDIDATES = ("x", "a1", "1", "/x", "a/b/c", "https://example.com", "x@example.com", "10Gi")


@dataclass(frozen=True)
class Long:
    """A string of `length` zeros (HCL: `format("%0<length>d", 0)`), so configurations stay short."""

    length: int

    @property
    def text(self) -> str:
        return "0" * self.length


@dataclass(frozen=True)
class RuleCase:
    type: str
    rule: str  # e.g. "name: max_length"
    changes: dict[str, Any]  # attribute → value (None: leave it out)
    attribute: str  # where the error must be: `name`, `vault.address`
    words: tuple[str, ...]  # what the message must say

    @property
    def id(self) -> str:
        return f"{self.type}.{self.rule}"

    @property
    def declaration(self) -> Resource:
        return REGISTRY[self.type]


def valid_value(field: Field) -> Any:
    """A value that passes every rule of the field."""
    if field.kind == Kind.reference:
        return SOME_ID
    if field.kind == Kind.enum:
        return field.choices[0]
    if field.kind == Kind.boolean:
        return True
    if field.kind == Kind.string_map:
        return {"X_KEY": "v"}
    if field.kind == Kind.string_list:
        return [field.choices[0]] if field.choices else ["x"]
    if field.kind == Kind.duration:
        return "5m"
    if field.kind == Kind.json:
        return "{}"
    if field.kind == Kind.object:
        return {sub.name: valid_value(sub) for sub in field.fields if sub.required}
    for candidate in VALID_CANDIDATES:
        if (field.pattern is None or re.fullmatch(field.pattern, candidate)) and \
                (field.max_length is None or len(candidate) <= field.max_length):
            return candidate
    raise AssertionError(f"no valid sample for {field.name}")


def bad_values(field: Field) -> list[tuple[str, Any, tuple[str, ...]]]:
    """(rule, bad value, words of its message) for each rule of one field."""
    cases: list[tuple[str, Any, tuple[str, ...]]] = []
    if field.kind == Kind.enum:
        cases.append(("choices", NOT_A_CHOICE, (*field.choices, NOT_A_CHOICE)))
    if field.kind == Kind.string_list and field.choices:
        cases.append(("choices", [NOT_A_CHOICE], ("each item", *field.choices)))
    if field.kind == Kind.reference:
        cases.append(("id", "by-name", ("must be the id of", '"by-name"')))
    if field.kind == Kind.string:
        if field.min_length:
            cases.append(("min_length", "", ("must not be empty",) if field.min_length == 1 else ("at least",)))
        if field.max_length:
            cases.append(("max_length", Long(field.max_length + 1), (f"at most {field.max_length} characters",)))
        if field.pattern:
            bad = next(c for c in PATTERN_CANDIDATES if not re.fullmatch(field.pattern, c)
                       and len(c) >= (field.min_length or 0))
            cases.append(("pattern", bad, (str(field.pattern_message),)))
    if field.kind == Kind.duration:
        cases.append(("duration", "5 minutes", ("must be a duration",)))
        if field.positive:
            cases.append(("positive", "0s", ("longer than zero",)))
    if field.kind == Kind.json:
        cases.append(("json_object", "[1, 2]", ("must be a JSON object",)))
        cases.append(("json_syntax", "{", ("is not valid JSON",)))
    if field.kind == Kind.string_map and field.key_pattern:
        cases.append(("key_pattern", {"1BAD": "v"}, (str(field.key_pattern_message),)))
    return cases


def _field_cases(resource: Resource) -> list[RuleCase]:
    cases = []
    for field in resource.input_fields:
        if field.kind == Kind.object:
            for sub in field.fields:
                for rule, bad, words in bad_values(sub):
                    block = {**valid_value(field), sub.name: bad}
                    cases.append(RuleCase(resource.terraform_type, f"{field.name}.{sub.name}: {rule}",
                                          {field.name: block}, f"{field.name}.{sub.name}", words))
            continue
        for rule, bad, words in bad_values(field):
            cases.append(RuleCase(resource.terraform_type, f"{field.name}: {rule}",
                                  {**_consistent_with(resource, field.name), field.name: bad}, field.name, words))
    return cases


def _others_of_exactly_one(resource: Resource, name: str) -> dict[str, Any]:
    """Leave out what `name`, once set, would conflict with."""
    return {other: None for group in resource.exactly_one_of if name in group for other in group if other != name}


def _consistent_with(resource: Resource, name: str) -> dict[str, Any]:
    """The other changes that setting `name` needs so that only its own rule breaks: its partners of
    required-together set, and what it (or they) would conflict with left out."""
    partners = [other for group in resource.required_together if name in group for other in group if other != name]
    changes: dict[str, Any] = {}
    for member in (name, *partners):
        changes.update(_others_of_exactly_one(resource, member))
    changes.update({partner: valid_value(resource.field(partner)) for partner in partners})
    return changes


def _combination_cases(resource: Resource) -> list[RuleCase]:
    cases = []
    kind = resource.terraform_type
    for group in resource.exactly_one_of:
        both = {name: valid_value(resource.field(name)) for name in group[:2]}
        both.update({partner: valid_value(resource.field(partner)) for together in resource.required_together
                     for partner in together if set(together) & set(group[:2]) and partner not in both})
        cases.append(RuleCase(kind, f"exactly one of {'/'.join(group)}: two", both, group[1],
                              ("conflicts with", group[0], "exactly one of")))
        cases.append(RuleCase(kind, f"exactly one of {'/'.join(group)}: none", dict.fromkeys(group), group[0],
                              ("set exactly one of", *group)))
    for group in resource.required_together:
        first = group[0]
        changes = {**_others_of_exactly_one(resource, first), **dict.fromkeys(group[1:]),
                   first: valid_value(resource.field(first))}
        cases.append(RuleCase(kind, f"together {'/'.join(group)}", changes, group[1],
                              ("is required when", first, "go together")))
    for condition in resource.conditions:
        value = condition.values[0]
        spelled = str(value).lower() if isinstance(value, bool) else str(value)
        base = {condition.field: value, **dict.fromkeys(condition.forbid)}
        base.update({name: valid_value(resource.field(name)) for name in condition.require})
        if condition.require:
            cases.append(RuleCase(kind, f"when {condition.field}={spelled}: requires {condition.require[0]}",
                                  {**base, condition.require[0]: None}, condition.require[0],
                                  ("is required when", f"{condition.field} is {spelled}")))
        if condition.forbid:
            forbidden = condition.forbid[0]
            cases.append(RuleCase(kind, f"when {condition.field}={spelled}: forbids {forbidden}",
                                  {**base, forbidden: valid_value(resource.field(forbidden))}, forbidden,
                                  ("is not used when", f"{condition.field} is {spelled}")))
    return cases


def rule_cases() -> list[RuleCase]:
    """Every rule of every registry resource, broken once."""
    return [case for resource in REGISTRY.values() for case in (*_field_cases(resource),
                                                                *_combination_cases(resource))]


def valid_attributes(resource: Resource) -> dict[str, Any]:
    """Attributes that break no rule: the required ones, one of each exactly-one-of group, and what
    conditions then require."""
    values = {f.name: valid_value(f) for f in resource.input_fields if f.required}
    for group in resource.exactly_one_of:
        values.setdefault(group[0], valid_value(resource.field(group[0])))
    for condition in resource.conditions:
        if values.get(condition.field) in condition.values:
            values.update({n: valid_value(resource.field(n)) for n in condition.require})
    assert rules.problems(resource, values) == [], resource.name
    return values


def plain(value: Any) -> Any:
    if isinstance(value, Long):
        return value.text
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
