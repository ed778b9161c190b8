"""The registry's rules, checked in one place: the API, the Terraform provider (at validate and plan)
and the CDK (at synth) all call these functions, so a rule changed in the registry changes all three.

A problem is `(path, message)`: the attribute it belongs to (`("vault", "address")`; empty for a rule
about the whole object) and one plain sentence. One rule gives at most one problem. Values the caller
cannot know yet (Terraform's unknown values, CDK tokens) are passed as `UNKNOWN` and skipped: a rule
that needs them is not checked until they are known.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from agyn.kit.durations import DurationError, parse_duration
from agyn.kit.resources import Condition, Field, Kind, Resource

Path = tuple[str, ...]
Problem = tuple[Path, str]
MAX_ITEM_LENGTH = 255
"""The longest list item or map key the API takes."""


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
"""A value not known yet: every rule that reads it is skipped."""


def is_set(value: Any) -> bool:
    return value is not None and value is not UNKNOWN


def phrase(names: Iterable[str], word: str = "or") -> str:
    """`a`, `a or b`, `a, b or c`."""
    items = list(names)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def choices_message(choices: tuple[str, ...]) -> str:
    return f"must be {phrase(choices)}" if len(choices) <= 2 else f"must be one of {', '.join(choices)}"


def length_message(field: Field, value: str) -> str | None:
    if field.min_length is not None and len(value) < field.min_length:
        return "must not be empty" if field.min_length == 1 else f"must be at least {field.min_length} characters"
    if field.max_length is not None and len(value) > field.max_length:
        return f"must be at most {field.max_length} characters (got {len(value)})"
    return None


def value_problem(field: Field, value: Any) -> str | None:
    """What is wrong with one known, non-null value of `field` (not inside it: see `field_problems`)."""
    if field.kind in (Kind.string, Kind.enum, Kind.duration) and not isinstance(value, str):
        return "must be a string"
    if field.kind == Kind.reference:
        try:
            uuid.UUID(str(value))
        except ValueError:
            collection = str(field.references).replace("-", " ")
            what = collection[:-3] + "y" if collection.endswith("ies") else collection.removesuffix("s")
            article = "an" if what[0] in "aeiou" or what.startswith("llm") else "a"
            what = what.replace("llm", "LLM")
            return f"must be the id of {article} {what} (a UUID), not {shown(value)}"
        return None
    if field.kind == Kind.enum:
        return None if value in field.choices else f"{choices_message(field.choices)} (got {shown(value)})"
    if field.kind == Kind.string:
        return length_message(field, value) or field.validate_pattern(value)
    if field.kind == Kind.duration:
        try:
            length = parse_duration(value)
        except DurationError:
            return f"must be a duration such as 30s, 5m or 1h30m (got {shown(value)})"
        if field.positive and length <= 0:
            return "must be longer than zero"
        return None
    if field.kind == Kind.json:
        if isinstance(value, str):  # Terraform and the CDK hold a JSON document as its text
            try:
                value = json.loads(value)
            except ValueError as error:
                return f"is not valid JSON: {error}"
        return None if isinstance(value, dict) else "must be a JSON object, e.g. jsonencode({ key = \"value\" })"
    if field.kind == Kind.string_list:
        if not isinstance(value, list):
            return "must be a list of strings"
        for item in value:
            if not is_set(item):
                continue
            if field.choices and item not in field.choices:
                return f"each item {choices_message(field.choices)} (got {shown(item)})"
            if not isinstance(item, str) or not 1 <= len(item) <= MAX_ITEM_LENGTH:
                return f"each item must be a string of 1 to {MAX_ITEM_LENGTH} characters"
        return None
    if field.kind == Kind.string_map:
        if not isinstance(value, Mapping):
            return "must be a map of strings"
        for key, item in value.items():
            if not 1 <= len(key) <= MAX_ITEM_LENGTH:
                return f"each key must be 1 to {MAX_ITEM_LENGTH} characters"
            if field.key_pattern and not re.fullmatch(field.key_pattern, key):
                return f"key {shown(key)} {field.key_pattern_message or f'must match {field.key_pattern}'}"
            if is_set(item) and not isinstance(item, str):
                return f"the value of {shown(key)} must be a string"
        return None
    if field.kind == Kind.integer and (isinstance(value, bool) or not isinstance(value, int)):
        return "must be a whole number"
    if field.kind == Kind.boolean and not isinstance(value, bool):
        return "must be true or false"
    if field.kind == Kind.object and not isinstance(value, Mapping):
        return "must be an object"
    return None


def field_problems(field: Field, value: Any, path: Path = ()) -> list[Problem]:
    """The problems of a field's value, and of each sub-field of an object (unknown and null values
    have none)."""
    if not is_set(value):
        return []
    here = (*path, field.name)
    problem = value_problem(field, value)
    if problem is not None:
        return [(here, problem)]
    if field.kind != Kind.object:
        return []
    found: list[Problem] = []
    for sub in field.fields:
        found.extend(field_problems(sub, value.get(sub.name), here))
    return found


def combination_problems(resource: Resource, values: Mapping[str, Any]) -> list[Problem]:
    """The rules across fields: exactly one of, required together, and conditions. An unknown value
    counts as possibly set and possibly not, so a rule that depends on it is not decided."""
    found: list[Problem] = []
    for group in resource.exactly_one_of:
        given = [name for name in group if is_set(values.get(name))]
        unknown = any(values.get(name) is UNKNOWN for name in group)
        if len(given) > 1:
            found.append(((given[1],), f"conflicts with {given[0]}: set exactly one of {phrase(group)}"))
        elif not given and not unknown:  # on the first of them, so that Terraform and clients point somewhere
            found.append(((group[0],), f"set exactly one of {phrase(group)}"))
    for group in resource.required_together:
        given = [name for name in group if is_set(values.get(name))]
        missing = [name for name in group if values.get(name) is None]
        if given and missing and not any(values.get(name) is UNKNOWN for name in group):
            found.append(((missing[0],), f"is required when {given[0]} is set: {phrase(group, 'and')} go together"))
    for condition in resource.conditions:
        found.extend(_condition_problems(condition, values))
    return found


def _condition_problems(condition: Condition, values: Mapping[str, Any]) -> list[Problem]:
    current = values.get(condition.field)
    if current is UNKNOWN or current not in condition.values:
        return []
    when = f"when {condition.field} is {_spelled(current)}"
    found: list[Problem] = []
    missing = [name for name in condition.require if values.get(name) is None or values.get(name) == {}]
    if missing:
        found.append(((missing[0],), f"is required {when}"))
    given = [name for name in condition.forbid if is_set(values.get(name)) and values.get(name) != {}]
    if given:
        found.append(((given[0],), f"is not used {when}"))
    return found


def _spelled(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def problems(resource: Resource, values: Mapping[str, Any], *, fields: Iterable[str] | None = None) -> list[Problem]:
    """Every problem of an object's values: each given field's, then the rules across fields (only
    the fields named in `fields`, when given, are checked one by one)."""
    names = set(fields) if fields is not None else None
    found: list[Problem] = []
    for field in resource.fields:
        if field.is_input and (names is None or field.name in names):
            found.extend(field_problems(field, values.get(field.name)))
    return found + combination_problems(resource, values)


def describe(problem: Problem) -> str:
    """`name: must not be empty`, or the message alone for a rule about the whole object."""
    path, message = problem
    return f"{'.'.join(path)}: {message}" if path else message


def field_rules(field: Field) -> list[str]:
    """The rules of one field in words, for documentation."""
    rules: list[str] = []
    if field.kind == Kind.reference:
        rules.append("An id (a UUID), such as another resource's `id`, not a name.")
    if field.kind == Kind.enum:
        rules.append(f"One of {', '.join(f'`{c}`' for c in field.choices)}.")
    if field.kind == Kind.string_list and field.choices:
        rules.append(f"Each item one of {', '.join(f'`{c}`' for c in field.choices)}.")
    if field.min_length == 1 and field.max_length:
        rules.append(f"1 to {field.max_length} characters.")
    elif field.min_length and field.max_length:
        rules.append(f"{field.min_length} to {field.max_length} characters.")
    elif field.max_length:
        rules.append(f"At most {field.max_length} characters.")
    elif field.min_length == 1:
        rules.append("Must not be empty.")
    if field.pattern:
        rules.append(f"Must match `{field.pattern}`: {field.pattern_message or 'see the pattern'}.")
    if field.kind == Kind.duration:
        rules.append('A duration such as `"30s"`, `"5m"` or `"1h30m"`' + (", longer than zero." if field.positive
                                                                        else "."))
    if field.kind == Kind.json:
        rules.append("A JSON object (use `jsonencode`); compared by value, not by spelling.")
    if field.key_pattern:
        rules.append(f"Each key must match `{field.key_pattern}`: {field.key_pattern_message}.")
    return rules


def resource_rules(resource: Resource) -> list[str]:
    """The rules across fields of a resource in words, for documentation."""
    rules = [f"Set exactly one of {phrase([f'`{n}`' for n in group])}." for group in resource.exactly_one_of]
    rules += [f"{phrase([f'`{n}`' for n in group], 'and')} go together: set all of them or none."
              for group in resource.required_together]
    for condition in resource.conditions:
        when = f"When `{condition.field}` is {phrase([f'`{_spelled(v)}`' for v in condition.values])}"
        if condition.require:
            rules.append(f"{when}, {phrase([f'`{n}`' for n in condition.require], 'and')} must be set.")
        if condition.forbid:
            rules.append(f"{when}, {phrase([f'`{n}`' for n in condition.forbid], 'and')} must not be set.")
    return rules
