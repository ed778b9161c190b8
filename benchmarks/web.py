"""The web chat page in headless chromium (Debian's `/usr/bin/chromium`, driven by Playwright):

    python benchmarks/web.py [--loads 10] [--messages 30] [--conversations 50] [--database-url URL]

Starts `agyn serve` on a fresh data dir (the page built first when missing or stale), creates two people
and `--conversations` conversations between them, then prints:

- transfer size: the bytes that cross the wire for a cold load of `/` (compressed, as sent) and the
  bundle's size unpacked;
- time to the first conversation list: from navigation (fresh browser profile, cold cache, token already
  in the tab's session) until the first conversation is on screen; median and max of `--loads`, next to
  the same measure for `/docs` (Swagger UI, rendered from the same server) as a baseline of this run;
- a message from one open browser to another: Enter pressed in A's page until the message is in B's
  page (both pages timestamp with the same clock), p50 / p95 / max of `--messages`, next to the same
  way without a browser (the API call, and a Socket.IO client's `message.created`) in the same run.

The machine may be shared: compare the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from served import ServedPlatform, percentile

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]

# In B's page: the wall-clock time each message text appeared (performance.timeOrigin + now: the same
# clock as A's page, both being on this machine).
WATCH = """() => {
  window.__seen = {};
  new MutationObserver(() => {
    for (const body of document.querySelectorAll('[data-testid="message"] .body')) {
      const text = body.textContent.trim();
      if (!(text in window.__seen)) window.__seen[text] = performance.timeOrigin + performance.now();
    }
  }).observe(document.body, { childList: true, subtree: true });
}"""
SEND = """(text) => {
  const composer = document.querySelector('[data-testid="composer"]');
  composer.value = text;
  const at = performance.timeOrigin + performance.now();
  composer.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
  return at;
}"""


class Platform(ServedPlatform):
    def __init__(self, workdir: Path, database_url: str | None) -> None:
        super().__init__(workdir, database_url, AGYN_ORCHESTRATOR__ENABLED="false")


def setup(platform: Platform, conversations: int) -> dict[str, Any]:
    admin = httpx.Client(base_url=platform.url, headers={"Authorization": f"Bearer {platform.admin}"}, timeout=30)
    people = {}
    for name in ("alice", "bob"):
        user = admin.post("/api/v1/users", json={"oidc_subject": f"bench|{name}", "username": name}).json()
        token = admin.post(f"/api/v1/users/{user['id']}/api-tokens", json={"name": "bench"}).json()["token"]
        people[name] = {"id": user["id"], "token": token}
    alice = httpx.Client(base_url=platform.url, headers={"Authorization": f"Bearer {people['alice']['token']}"},
                         timeout=30)
    org = alice.post("/api/v1/organizations", json={"name": "bench"}).json()["id"]
    admin.post("/api/v1/memberships", json={"organization_id": org, "identity_id": people["bob"]["id"]}
               ).raise_for_status()
    ids = []
    for n in range(conversations):
        created = alice.post("/api/v1/conversations", json={"organization_id": org, "participants": ["@bob"],
                                                             "message": f"conversation {n}: **hello** Bob"})
        created.raise_for_status()
        ids.append(created.json()["id"])
    return {"org": org, "people": people, "conversation": ids[-1]}


def transfer(browser: Any, url: str, token: str) -> int:
    """Bytes on the wire (headers included) for a cold load of the page up to its conversation list: the
    page, its bundle and its first API and Socket.IO calls."""
    context = browser.new_context()
    context.add_init_script(f"sessionStorage.setItem('agyn.token', {token!r})")
    page = context.new_page()
    client = context.new_cdp_session(page)
    client.send("Network.enable")
    wire: dict[str, int] = {}
    client.on("Network.loadingFinished", lambda e: wire.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    page.goto(f"{url}/")
    page.get_by_test_id("conversation-item").first.wait_for()
    page.wait_for_timeout(300)
    context.close()
    return sum(wire.values())


def bundle_sizes() -> tuple[int, int]:
    """(bytes as served, gzip for the assets; bytes unpacked) of index.html and the bundle."""
    import gzip

    from agyn.web.bundle import STATIC

    files = [STATIC / "index.html", *(p for p in (STATIC / "assets").iterdir() if p.suffix in {".js", ".css"})]
    served = sum(len(gzip.compress(p.read_bytes())) if p.parent.name == "assets" else p.stat().st_size for p in files)
    return served, sum(p.stat().st_size for p in files)


def time_to_list(browser: Any, url: str, token: str, path: str, selector: str) -> float:
    context = browser.new_context()  # a fresh profile: nothing cached
    context.add_init_script(f"sessionStorage.setItem('agyn.token', {token!r})")
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{url}{path}", wait_until="commit")
    page.locator(selector).first.wait_for(timeout=60_000)
    elapsed = time.perf_counter() - started
    context.close()
    return elapsed


def browser_to_browser(browser: Any, url: str, world: dict[str, Any], messages: int) -> list[float]:
    pages = {}
    for name in ("alice", "bob"):
        context = browser.new_context()
        context.add_init_script(f"sessionStorage.setItem('agyn.token', {world['people'][name]['token']!r})")
        page = context.new_page()
        page.goto(f"{url}/#c={world['conversation']}")
        page.get_by_test_id("live-status").filter(has_text="live").wait_for(timeout=60_000)
        page.get_by_test_id("composer").wait_for()
        pages[name] = page
    pages["bob"].evaluate(WATCH)
    delays = []
    for n in range(messages):
        text = f"ping {n} {time.time_ns()}"
        sent_at = pages["alice"].evaluate(SEND, text)
        pages["bob"].wait_for_function("(t) => t in window.__seen", arg=text, timeout=30_000)
        delays.append((pages["bob"].evaluate("(t) => window.__seen[t]", text) - sent_at) / 1000)
    return delays


async def api_to_client(url: str, world: dict[str, Any], messages: int) -> list[float]:
    """The same way without browsers: the API call, and `message.created` at a Socket.IO client."""
    import socketio

    client = socketio.AsyncClient()
    arrived: asyncio.Queue[float] = asyncio.Queue()

    @client.on("message.created")
    async def created(envelope: dict[str, Any]) -> None:
        arrived.put_nowait(time.perf_counter())

    await client.connect(url, auth={"token": world["people"]["bob"]["token"]}, transports=["websocket"])
    await client.call("subscribe", {"rooms": ["thread_participant:me"]})
    delays = []
    async with httpx.AsyncClient(base_url=url, timeout=30,
                                 headers={"Authorization": f"Bearer {world['people']['alice']['token']}"}) as api:
        for n in range(messages):
            started = time.perf_counter()
            sent = await api.post(f"/api/v1/conversations/{world['conversation']}/messages", json={"body": f"api {n}"})
            sent.raise_for_status()
            delays.append(await asyncio.wait_for(arrived.get(), 30) - started)
    await client.disconnect()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite in a temporary dir)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from agyn.web.bundle import build

    build()
    with tempfile.TemporaryDirectory() as workdir:
        platform = Platform(Path(workdir), args.database_url)
        try:
            world = setup(platform, args.conversations)
            token = world["people"]["alice"]["token"]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                try:
                    wire = transfer(browser, platform.url, token)
                    served, unpacked = bundle_sizes()
                    print(f"page and bundle: {served / 1024:.1f} KiB as served (gzip), {unpacked / 1024:.1f} KiB "
                          f"unpacked; a cold load up to the conversation list moves {wire / 1024:.1f} KiB in all "
                          f"(with its API and Socket.IO calls)")
                    page = [time_to_list(browser, platform.url, token, "/", '[data-testid="conversation-item"]')
                            for _ in range(args.loads)]
                    docs = [time_to_list(browser, platform.url, token, "/docs", ".opblock-summary-path")
                            for _ in range(args.loads)]
                    print(f"time to the first conversation list ({args.conversations} conversations, cold profile, "
                          f"{args.loads} loads): median {statistics.median(page) * 1000:.0f} ms, "
                          f"max {max(page) * 1000:.0f} ms; /docs to its first operation: median "
                          f"{statistics.median(docs) * 1000:.0f} ms (ratio "
                          f"{statistics.median(page) / statistics.median(docs):.2f})")
                    delays = browser_to_browser(browser, platform.url, world, args.messages)
                finally:
                    browser.close()
            direct = asyncio.run(api_to_client(platform.url, world, args.messages))
            p50, p50_direct = percentile(delays, 0.5), percentile(direct, 0.5)
            print(f"message from one open browser to another ({args.messages}): p50 {p50 * 1000:.0f} ms, "
                  f"p95 {percentile(delays, 0.95) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms; "
                  f"API call to a Socket.IO client's event: p50 {p50_direct * 1000:.0f} ms, "
                  f"p95 {percentile(direct, 0.95) * 1000:.0f} ms (ratio {p50 / p50_direct:.1f})")
        finally:
            platform.stop()


if __name__ == "__main__":
    main()
