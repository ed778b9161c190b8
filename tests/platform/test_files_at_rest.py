"""What the platform keeps on disk is readable by its owner alone: the SQLite database (token hashes,
ciphertext) and its journal files, the encryption key and the admin token are 0600; the first admin
token reaches a terminal only, never redirected output."""

from __future__ import annotations

import os
import pty
import stat
from pathlib import Path

from agyn.app import create_app
from agyn.bootstrap import announce_admin_token
from agyn.kit.db import Database
from agyn.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_sqlite_database_and_its_journal_are_0600(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask, under which SQLite would create 0644
    try:
        app = create_app(Settings(data_dir=tmp_path / "data", log_format="text"))
        async with app.router.lifespan_context(app):
            data = tmp_path / "data"
            database = data / "agyn.db"
            assert mode(database) == 0o600
            for journal in (data / "agyn.db-wal", data / "agyn.db-shm"):
                if journal.exists():  # WAL files live while a connection is open
                    assert mode(journal) == 0o600, journal
            assert mode(data / "admin-token") == 0o600
            assert mode(data / "encryption-key") == 0o600
            assert database.stat().st_size > 0
    finally:
        os.umask(previous)


async def test_an_existing_database_file_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "kept.db"
    path.write_bytes(b"")
    path.chmod(0o640)  # an operator's choice (e.g. a backup group) is not overridden
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await database.ping()
    finally:
        await database.dispose()
    assert mode(path) == 0o640


def test_the_admin_token_is_shown_on_a_terminal_only(tmp_path: Path) -> None:
    token, path = "agyn_" + "T" * 44, tmp_path / "admin-token"
    controller, terminal = pty.openpty()
    with os.fdopen(terminal, "w") as stream:
        announce_admin_token(token, path, stream)
    shown = os.read(controller, 4096).decode()
    os.close(controller)
    assert token in shown and str(path) in shown

    readable, writable = os.pipe()
    with os.fdopen(writable, "w") as stream:  # redirected output, as to a log file
        announce_admin_token(token, path, stream)
    with os.fdopen(readable) as pipe:
        redirected = pipe.read()
    assert token not in redirected
    assert f"Its API token is in {path} (mode 0600)" in redirected
