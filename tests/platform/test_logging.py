"""The text log format keeps what the JSON one has: a request line says method, path, status and duration."""

from __future__ import annotations

import json
import logging
import sys

from agyn.kit.logging import JSONFormatter, TextFormatter


def access_record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("agyn.access", logging.INFO, __file__, 1, "request", None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


REQUEST = {"method": "GET", "path": "/me", "status": 200, "duration_ms": 1.25, "identity_id": None}


def test_text_request_line_has_method_path_status_and_duration() -> None:
    line = TextFormatter().format(access_record(**REQUEST))
    assert line.endswith(" INFO agyn.access: request method=GET path=/me status=200 duration_ms=1.25"), line


def test_text_values_with_spaces_are_quoted() -> None:
    line = TextFormatter().format(access_record(path="/a b", note='say "hi"'))
    assert 'path="/a b"' in line and r'note="say \"hi\""' in line


def test_text_traceback_stays_below_its_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("agyn", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    record.status = 500
    first, *rest = TextFormatter().format(record).splitlines()
    assert first.endswith("ERROR agyn: failed status=500")
    assert rest[0] == "Traceback (most recent call last):"


def test_json_carries_the_same_fields() -> None:
    entry = json.loads(JSONFormatter().format(access_record(**REQUEST)))
    assert {k: entry[k] for k in ("method", "path", "status", "duration_ms")} == {
        "method": "GET", "path": "/me", "status": 200, "duration_ms": 1.25}
