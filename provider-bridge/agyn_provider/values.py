"""Between Terraform values and API values, field by field, with the semantics Terraform users expect.

- A JSON document is compared by value: the configured spelling stays while the API's value equals
  it, or equals it once the keys the API added are left out.
- A duration is compared by length: "5m" in the configuration stays when the API says "5m0s".
- Null and empty are the same for lists, maps and strings without a default: whichever Terraform
  last had stays.
- Write-only values are never read back: Terraform keeps what it last sent. Values shown once (service
  tokens) come from the create response and are then kept.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tf.types import Unknown

from agyn.kit.durations import DurationError, format_duration, parse_duration
from agyn.kit.resources import Field, Kind
from agyn_provider.schema import json_string

EMPTY: tuple[Any, ...] = ("", [], {})


def to_api(field: Field, value: Any) -> Any:
    """A planned value as the API takes it."""
    if value is None:
        return None
    if field.kind == Kind.json:
        return json.loads(value)
    if field.kind == Kind.object:
        return {sub.name: to_api(sub, value.get(sub.name)) for sub in field.fields
                if value.get(sub.name) is not None}
    return value


def from_api(field: Field, value: Any, known: Any) -> Any:
    """The Terraform value of a field the API returned as `value`, where Terraform had `known` (the
    planned value after an apply, the prior state on a refresh, null after an import)."""
    if field.sensitive and not field.once:
        return None if known is Unknown else known
    if field.once:
        return value if value is not None else (None if known is Unknown else known)
    if known is Unknown:
        known = None
    if value is None:
        return known if _is_empty(known) else None
    if known is None and _is_empty(value) and not field.has_default:
        return None
    if field.kind == Kind.json:
        return known if isinstance(known, str) and _json_matches(value, known) else json_string(value)
    if field.kind == Kind.duration:
        return known if same(field, known, value) else short_duration(value)
    if field.kind == Kind.object:
        known = known if isinstance(known, dict) else {}
        return {sub.name: from_api(sub, value.get(sub.name), known.get(sub.name)) for sub in field.fields}
    return value


def same(field: Field, a: Any, b: Any) -> bool:
    """Equal in meaning (an unknown value equals nothing but itself)."""
    if a is Unknown or b is Unknown:
        return a is b
    if a is None or b is None:
        collection = field.kind in (Kind.string_list, Kind.string_map)
        return a is b or (collection and (a is None or _is_empty(a)) and (b is None or _is_empty(b)))
    if field.kind == Kind.json:
        return _parsed(a) == _parsed(b)
    if field.kind == Kind.duration:
        try:
            return parse_duration(a) == parse_duration(b)
        except DurationError:
            return a == b
    if field.kind == Kind.object:
        return all(same(sub, a.get(sub.name), b.get(sub.name)) for sub in field.fields)
    return bool(a == b)


def short_duration(value: str) -> str:
    """Go's spelling without trailing zero units ("5m0s" → "5m", "1h0m0s" → "1h"): what people write,
    so an imported duration matches its configuration."""
    try:
        text = format_duration(parse_duration(value))
    except DurationError:
        return value
    return re.sub(r"(?<=h)0m$", "", re.sub(r"(?<=[hm])0s$", "", text))


def _is_empty(value: Any) -> bool:
    return any(value == empty and type(value) is type(empty) for empty in EMPTY)


def _parsed(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def _json_matches(api_value: Any, configured: str) -> bool:
    try:
        wanted = json.loads(configured)
    except ValueError:
        return False
    return api_value == wanted or _project(api_value, wanted) == wanted


def _project(value: Any, shape: Any) -> Any:
    """`value` with only the object keys `shape` has (recursively): what the configuration asked for."""
    if isinstance(value, dict) and isinstance(shape, dict):
        return {k: _project(value[k], shape[k]) for k in shape if k in value}
    if isinstance(value, list) and isinstance(shape, list) and len(value) == len(shape):
        return [_project(v, s) for v, s in zip(value, shape, strict=True)]
    return value
