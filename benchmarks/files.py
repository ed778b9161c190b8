"""Files: upload and download throughput against a plain copy on the same disk, and the server's memory
while a large file streams through it.

    python benchmarks/files.py [--mib 200] [--database-url URL]

Starts `agyn serve` on a fresh data dir (files up to `--mib` + 1 MiB allowed), writes a `--mib` MiB file
and measures, in the same run:

- copy: `shutil.copyfile` of that file on the same disk (the baseline);
- upload raw: POST /api/v1/files with the bytes as the body; upload multipart: the same as a `file` part;
- download: GET /api/v1/files/{id}/content to a file;
- the server's resident memory (VmRSS) before, at its highest during each transfer (sampled every 20 ms),
  and after; it must stay flat (a few MiB), not grow by the file's size;
- a decompression-bomb PNG (10 gigapixels in a few hundred bytes) through the media proxy with `size`:
  its status (413) and the memory after.

Figures are MB/s (10^6 bytes) and ratios to the copy; on a loaded machine they vary run to run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from served import ServedPlatform

CHUNK = 1024 * 1024


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Peak:
    """The highest RSS of a process while a block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._running = pid, rss_mib(pid), True
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._running = False
        self._thread.join()


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def bomb_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    size = args.mib * CHUNK
    workdir = Path(tempfile.mkdtemp(prefix="agyn-bench-files-"))
    source = workdir / "source.bin"
    with source.open("wb") as out:
        block = os.urandom(CHUNK)
        for index in range(args.mib):
            out.write(block[index % 256:] + block[:index % 256])  # incompressible, and no two MiB alike

    platform = ServedPlatform(workdir, args.database_url, AGYN_ORCHESTRATOR__ENABLED="false",
                              AGYN_FILES__MAX_BYTES=str(size + CHUNK))
    url, process = platform.url, platform.process
    try:
        admin_token = platform.admin
        admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=600)
        user = admin.post("/api/v1/users", json={"oidc_subject": "bench|files", "username": "bench"}).json()
        token = admin.post(f"/api/v1/users/{user['id']}/api-tokens", json={"name": "bench"}).json()["token"]
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600)
        organization = client.post("/api/v1/organizations", json={"name": "bench"}).json()["id"]
        params = {"organization_id": organization, "filename": "big.bin"}

        copy_seconds, _ = timed(lambda: shutil.copyfile(source, workdir / "copy.bin"))
        (workdir / "copy.bin").unlink()
        baseline = rss_mib(process.pid)
        print(f"file: {args.mib} MiB; server RSS at rest {baseline:.0f} MiB")
        print(f"{'transfer':<18} {'MB/s':>8} {'vs copy':>8} {'peak RSS':>9} {'growth':>8}")
        print(f"{'copy (baseline)':<18} {size / copy_seconds / 1e6:>8.0f} {'1.00':>8}")

        def report(name: str, seconds: float, peak: Peak) -> None:
            print(f"{name:<18} {size / seconds / 1e6:>8.0f} {copy_seconds / seconds:>8.2f} {peak.peak:>7.0f} M "
                  f"{peak.peak - baseline:>+6.0f} M")

        with Peak(process.pid) as peak:
            seconds, response = timed(lambda: client.post("/api/v1/files", params=params, content=chunks(source),
                                                          headers={"Content-Type": "application/octet-stream"}))
        assert response.status_code == 201, response.text
        file_id = response.json()["id"]
        report("upload raw", seconds, peak)

        with Peak(process.pid) as peak, source.open("rb") as handle:
            seconds, response = timed(lambda: client.post("/api/v1/files", params={"organization_id": organization},
                                                          files={"file": ("big.bin", handle,
                                                                          "application/octet-stream")}))
        assert response.status_code == 201, response.text
        report("upload multipart", seconds, peak)

        def download() -> int:
            received = 0
            with client.stream("GET", f"/api/v1/files/{file_id}/content") as streamed, \
                    (workdir / "download.bin").open("wb") as out:
                for part in streamed.iter_bytes(CHUNK):
                    out.write(part)
                    received += len(part)
            return received

        with Peak(process.pid) as peak:
            seconds, received = timed(download)
        assert received == size, received
        report("download", seconds, peak)

        bomb = client.post("/api/v1/files", params={**params, "filename": "bomb.png"},
                           content=bomb_png(100_000, 100_000), headers={"Content-Type": "image/png"}).json()["id"]
        with Peak(process.pid) as peak:
            proxied = client.get("/media/proxy", params={"url": f"agyn://file/{bomb}", "size": 200})
        print(f"decompression bomb (10 gigapixels) via the media proxy: {proxied.status_code}; peak RSS "
              f"{peak.peak:.0f} MiB ({peak.peak - baseline:+.0f} MiB)")
    finally:
        platform.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
