"""Go-style durations ("300ms", "1.5h", "2h45m"), normalised the way Go prints them ("5m0s")."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_UNITS_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
             "m": 60_000_000_000, "h": 3_600_000_000_000}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> int:
    """Nanoseconds in a Go duration string; `0` needs no unit, everything else does."""
    value = text.strip()
    if value in {"0", "+0", "-0"}:
        return 0
    sign = -1 if value.startswith("-") else 1
    value = value.lstrip("+-")
    if not value:
        raise DurationError(f"{text!r} is not a duration; use e.g. 30s, 5m or 1h30m")
    total = Decimal(0)
    position = 0
    for match in _PART.finditer(value):
        if match.start() != position:
            break
        try:
            total += Decimal(match.group(1)) * _UNITS_NS[match.group(2)]
        except InvalidOperation:
            break
        position = match.end()
    if position != len(value):
        raise DurationError(f"{text!r} is not a duration; use e.g. 30s, 5m or 1h30m")
    return sign * int(total)


def format_duration(nanoseconds: int) -> str:
    """Go's `time.Duration.String()`."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    ns = abs(nanoseconds)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim(Decimal(ns) / size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _trim(Decimal(rest) / 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def normalise_duration(text: str) -> str:
    return format_duration(parse_duration(text))


def _trim(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
