"""`agyn serve --detach` and `agyn stop`: the platform in the background, with a pid file and a log file in
the data dir, so one terminal (or a script) can start it, use it and stop it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from agyn.cli.common import DataDirOption, console, errors, fail
from agyn.settings import Settings

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def pid_path(data_dir: Path) -> Path:
    return data_dir / "agyn.pid"


def log_path(data_dir: Path) -> Path:
    return data_dir / "agyn.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # a reused pid is not ours
        try:
            return b"agyn" in cmdline.read_bytes()
        except OSError:
            return False
    return True


def running_pid(data_dir: Path) -> int | None:
    """The pid of the detached platform of `data_dir`, if it runs; a stale pid file is removed."""
    path = pid_path(data_dir)
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    if _alive(pid):
        return pid
    path.unlink(missing_ok=True)
    return None


def forget_pid(data_dir: Path) -> None:
    """At a server's exit: remove the pid file if it names this process."""
    path = pid_path(data_dir)
    try:
        if int(path.read_text().strip()) == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def already_running(data_dir: Path) -> bool:
    """`agyn serve --detach` twice is not an error: the second says the platform runs, and where."""
    pid = running_pid(data_dir)
    if pid is None:
        return False
    console.print(f"agyn is already running with data dir {data_dir} (pid {pid}); logs in {log_path(data_dir)}; "
                  "stop it with `agyn stop`.", highlight=False, markup=False, soft_wrap=True)
    return True


def serve_detached(settings: Settings) -> None:
    """Start `agyn serve` as a background process of its own session; return once /healthz answers."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    token_path = data_dir / "admin-token"
    first_start = not token_path.exists()
    log = log_path(data_dir)
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a") as log_file:
        # stdout (the first start's token announcement) goes nowhere: this command shows it, never the log
        process = subprocess.Popen(
            [sys.executable, "-m", "agyn.cli.main", "serve", "--host", settings.host, "--port", str(settings.port),
             "--data-dir", str(data_dir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file, start_new_session=True)
    pid_path(data_dir).write_text(f"{process.pid}\n")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    url = f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pid_path(data_dir).unlink(missing_ok=True)
            errors.print(_tail(log), highlight=False, markup=False, soft_wrap=True)
            fail(f"agyn serve exited during start-up (code {process.returncode})", f"the log above is from {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            fail(f"agyn serve did not answer on {url} within {START_TIMEOUT:.0f} s", f"see {log}; `agyn stop` ends it")
        time.sleep(0.1)
    console.print(f"agyn is running on {url} (pid {process.pid}, data dir {data_dir}); logs in {log}; "
                  "stop it with `agyn stop`.", highlight=False, markup=False, soft_wrap=True)
    if first_start and token_path.exists():
        from agyn.bootstrap import announce_admin_token

        announce_admin_token(token_path.read_text().strip(), token_path, sys.stdout)


def stop(data_dir: DataDirOption = None) -> None:
    """Stop the platform `agyn serve --detach` started with this data dir (nothing to do if it is not running)."""
    if data_dir is None:
        try:
            data_dir = Settings().data_dir
        except ValueError:
            data_dir = Path(os.environ.get("AGYN_DATA_DIR", ".agyn"))
    data_dir = data_dir.resolve()
    pid = running_pid(data_dir)
    if pid is None:
        console.print(f"agyn is not running with data dir {data_dir} (no live {pid_path(data_dir)}).",
                      highlight=False, markup=False, soft_wrap=True)
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        errors.print(f"agyn (pid {pid}) did not stop within {STOP_TIMEOUT:.0f} s; killed it.", highlight=False)
    pid_path(data_dir).unlink(missing_ok=True)
    console.print(f"Stopped agyn (pid {pid}).", highlight=False)
