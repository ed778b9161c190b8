"""HTTP `Range` (RFC 9110 §14): one byte range of a representation of known length."""

from __future__ import annotations

from dataclasses import dataclass

from agyn.kit.errors import ProblemError


class RangeNotSatisfiable(ProblemError):
    status, code, title = 416, "range_not_satisfiable", "Range not satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__(f"the range lies outside the file's {size} bytes",
                         headers={"Content-Range": f"bytes */{size}"})


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range `header` asks for; None for the whole file (no header, several ranges, or a header
    that is not a byte range: those are ignored, as the RFC allows). 416 when it lies past the end."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if not first:  # the last `last` bytes
            suffix = int(last)
            if suffix <= 0:
                raise RangeNotSatisfiable(size)
            start, end = max(size - suffix, 0), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start < 0 or start > end or start >= size:
        raise RangeNotSatisfiable(size)
    return ByteRange(start, end, size)
