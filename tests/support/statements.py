"""Counting the SQL statements a platform's database runs, for tests that hold a path to a fixed number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from agyn.kit.db import Database


class Statements:
    """Counts the statements run on `database` until `close()`."""

    def __init__(self, database: Database) -> None:
        self.count = 0
        self.engine = database.engine.sync_engine
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)
