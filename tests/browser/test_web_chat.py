"""The web chat page in Debian's chromium (headless, driven by Playwright), against a real platform with
its orchestrator, local runner and test LLM: the issue's scenario with two people in two browser
profiles, reload and server restart mid-conversation, expired sign-in, a phone-sized screen and inert
hostile messages. Every request leaving 127.0.0.1 is refused; screenshots of each step go to
artifacts/browser/<backend>/<test>/."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import CHROMIUM, PHONE, Console, Platform, World, browser, context_for, sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: `apt-get install -y chromium` "
                                                     "(.ci/run does)"),
]

REPLY = "The weather in Paris is currently 18°C and partly cloudy."
REPLY_TIMEOUT = 90_000
NOTES = b"Pack an umbrella, just in case.\n"


def png(width: int = 120, height: int = 80) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (37, 99, 235)).save(buffer, format="PNG")
    return buffer.getvalue()


class Steps:
    """Numbered screenshots of a test's steps."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0

    def shot(self, page: Page, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"))


def item(page: Page, conversation_id: str) -> Any:
    return page.locator(f'[data-testid="conversation-item"][data-id="{conversation_id}"]')


def messages_in(page: Page) -> Any:
    return page.get_by_test_id("message")


def start_conversation(page: Page, *handles: str) -> str:
    page.get_by_test_id("new-conversation").click()
    for handle in handles:
        page.get_by_test_id("participant-input").fill(handle)
        page.get_by_test_id("suggestion").filter(has_text=f"@{handle}").first.click()
    page.get_by_test_id("start-conversation").click()
    page.wait_for_url(re.compile(r"#c="))
    return page.url.split("#c=", 1)[1]


def test_two_people_and_the_agent_chat_live(web_platform: Platform, world: World, shots: Path) -> None:
    steps = Steps(shots)
    console_a, console_b = Console(), Console()
    with browser() as chromium:
        a = context_for(chromium, world.url, console_a).new_page()
        b = context_for(chromium, world.url, console_b).new_page()
        console_a.watch(a)
        console_b.watch(b)
        sign_in(a, world.url, world.alice.token)
        sign_in(b, world.url, world.bob.token)
        steps.shot(a, "a-signed-in")

        # A starts a conversation with the agent and B, picked by @nickname suggestions
        conversation_id = start_conversation(a, "assistant", world.bob.username)
        expect(a.get_by_test_id("conversation-title")).to_be_visible()
        composer = a.get_by_test_id("composer")
        composer.fill("What is the weather in Paris?")
        a.get_by_test_id("attach-input").set_input_files(files=[
            {"name": "map.png", "mimeType": "image/png", "buffer": png()},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": NOTES}])
        expect(a.get_by_test_id("pending-file").filter(has_text="✓")).to_have_count(2)
        composer.press("Enter")
        mine = messages_in(a).filter(has_text="What is the weather in Paris?")
        expect(mine).to_have_count(1)
        # the image inline, through the media proxy; the text file to download
        image = mine.get_by_test_id("attachment-image")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.naturalWidth") == 120
        expect(mine.get_by_test_id("attachment-download")).to_have_text("⬇ notes.txt")
        steps.shot(a, "a-sent")

        # the agent's reply arrives without a reload
        expect(messages_in(a).filter(has_text=REPLY)).to_have_count(1, timeout=REPLY_TIMEOUT)
        # its workload's state reaches the list live: it has answered and waits
        expect(item(a, conversation_id).get_by_test_id("activity")).to_have_text("finished", timeout=30_000)
        steps.shot(a, "a-agent-replied")

        # B sees the conversation appear, unread; opening it clears the badge
        expect(item(b, conversation_id).get_by_test_id("unread-badge")).to_be_visible(timeout=30_000)
        steps.shot(b, "b-unread")
        item(b, conversation_id).click()
        expect(messages_in(b).filter(has_text=REPLY)).to_have_count(1)
        expect(item(b, conversation_id).get_by_test_id("unread-badge")).to_have_count(0)
        # B gets both attachments too
        theirs = messages_in(b).filter(has_text="What is the weather in Paris?")
        expect(theirs.get_by_test_id("attachment-image")).to_be_visible()
        with b.expect_download() as downloading:
            theirs.get_by_test_id("attachment-download").click()
        assert downloading.value.suggested_filename == "notes.txt"
        assert Path(downloading.value.path()).read_bytes() == NOTES
        steps.shot(b, "b-opened")
        b.get_by_test_id("composer").fill("Thanks, **see you** there!")
        b.get_by_test_id("composer").press("Enter")

        # A sees B's reply live, rendered
        reply = messages_in(a).filter(has_text="Thanks, see you there!")
        expect(reply).to_have_count(1, timeout=30_000)
        expect(reply.locator(".body strong")).to_have_text("see you")
        expect(item(a, conversation_id).get_by_test_id("unread-badge")).to_have_count(0)  # seen: read
        steps.shot(a, "a-sees-b")

        messages_in(a).filter(has_text=REPLY).get_by_test_id("view-run").click()
        run = a.get_by_role("dialog", name="Run timeline").get_by_test_id("selected-run")
        # the message, the LLM asking for the tool, the tool's answer, the LLM answering — in order
        expect(run.locator("[data-kind]")).to_have_count(4, timeout=30_000)
        kinds = run.locator("[data-kind]").evaluate_all("nodes => nodes.map(n => n.dataset.kind)")
        assert kinds == ["message", "llm_call", "tool_execution", "llm_call"], kinds
        expect(run.locator('[data-kind="message"]')).to_contain_text("What is the weather in Paris?")
        llm = run.locator('[data-kind="llm_call"]')
        expect(llm.first).to_contain_text("scripted")  # the model, by name
        expect(llm.first).to_contain_text("tokens")
        expect(llm.first.locator("details").first).to_contain_text("Input")
        llm.first.locator("summary").first.click()  # the full input, on demand
        expect(llm.first.locator("pre").first).to_contain_text("What is the weather in Paris?")
        tool = run.locator('[data-kind="tool_execution"]')
        expect(tool).to_contain_text("get_weather")
        expect(tool).to_contain_text("18°C")
        steps.shot(a, "a-run-timeline")
        a.get_by_role("dialog", name="Run timeline").get_by_role("button", name="Close").click()

        # the organization's usage: the agent's tokens, per model per day
        deadline = time.monotonic() + 30
        while True:
            a.get_by_role("button", name="Chats").click()
            a.get_by_role("button", name="Usage").click()
            tokens = a.get_by_test_id("usage-tokens")
            expect(tokens).to_be_visible()
            if tokens.inner_text() != "0" or time.monotonic() > deadline:
                break
            a.wait_for_timeout(500)  # the metering writer flushes in batches
        assert int(tokens.inner_text().replace(",", "")) > 0
        expect(a.get_by_test_id("usage-chart").locator("canvas")).to_be_visible()
        expect(a.get_by_test_id("usage-chart")).to_contain_text("scripted")
        steps.shot(a, "a-usage")
        a.get_by_role("button", name="Chats").click()

        # A renames it; B's list follows live
        a.get_by_role("button", name="Rename").click()
        a.get_by_label("Summary").fill("Paris trip")
        a.get_by_label("Summary").press("Enter")
        expect(a.get_by_test_id("conversation-title")).to_have_text("Paris trip")
        expect(item(b, conversation_id)).to_contain_text("Paris trip", timeout=30_000)

        # A resolves it: it leaves the Open list, and is under Resolved
        a.get_by_test_id("resolve").click()
        expect(item(a, conversation_id)).to_have_count(0)
        a.get_by_role("tab", name="Resolved").click()
        expect(item(a, conversation_id)).to_have_count(1)
        steps.shot(a, "a-resolved")

    assert console_a.errors == [] and console_b.errors == [], (console_a.errors, console_b.errors)
    assert console_a.outside == [] and console_b.outside == [], (console_a.outside, console_b.outside)


def api_messages(world: World, conversation_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"page_size": 100}
    while True:
        found = httpx.get(f"{world.url}/api/v1/conversations/{conversation_id}/messages",
                          headers=world.alice.headers, params=params, timeout=30)
        assert found.status_code == 200, found.text
        items += found.json()["items"]
        if not found.json()["next_page_token"]:
            return items
        params["page_token"] = found.json()["next_page_token"]


def human_conversation(world: World) -> str:
    created = httpx.post(f"{world.url}/api/v1/conversations", headers=world.alice.headers, timeout=30, json={
        "organization_id": world.organization_id, "participants": [f"@{world.bob.username}"],
        "message": "Hello Bob"})
    assert created.status_code == 201, created.text
    conversation_id: str = created.json()["id"]
    return conversation_id


def say(world: World, conversation_id: str, body: str) -> None:
    sent = httpx.post(f"{world.url}/api/v1/conversations/{conversation_id}/messages", headers=world.bob.headers,
                      json={"body": body}, timeout=30)
    assert sent.status_code == 201, sent.text


def shown_ids(page: Page) -> list[str]:
    ids: list[str] = page.get_by_test_id("message").evaluate_all("nodes => nodes.map(n => n.dataset.id)")
    return ids


def test_reload_and_a_server_restart_lose_nothing_and_duplicate_nothing(
        web_platform: Platform, world: World, shots: Path) -> None:
    steps = Steps(shots)
    conversation_id = human_conversation(world)
    history = 104  # with the first one, more than a page (100): the page pulls the history, then its tail
    for n in range(history):
        say(world, conversation_id, f"earlier {n}")
    console = Console()
    with browser() as chromium:
        page = context_for(chromium, world.url, console).new_page()
        console.watch(page)
        sign_in(page, world.url, world.alice.token)
        item(page, conversation_id).click()
        expect(messages_in(page)).to_have_count(history + 1)
        for n in range(3):
            page.get_by_test_id("composer").fill(f"note {n}")
            page.get_by_test_id("composer").press("Enter")
        expect(messages_in(page)).to_have_count(history + 4)

        page.reload()  # the token is kept for the tab's session, the open conversation in the address
        expect(messages_in(page)).to_have_count(history + 4)
        assert shown_ids(page) == [m["id"] for m in api_messages(world, conversation_id)]
        steps.shot(page, "after-reload")

        web_platform.stop()
        expect(page.get_by_test_id("live-status")).to_have_text("reconnecting…", timeout=30_000)
        expect(page.get_by_role("status")).to_contain_text("reconnecting")
        steps.shot(page, "server-down")
        web_platform.start()
        say(world, conversation_id, "sent while your page was reconnecting")  # reached by the resync
        expect(page.get_by_test_id("live-status")).to_have_text("live", timeout=30_000)
        expect(messages_in(page).filter(has_text="sent while your page was reconnecting")).to_have_count(1)
        say(world, conversation_id, "and one after")  # reached live
        expect(messages_in(page).filter(has_text="and one after")).to_have_count(1)
        steps.shot(page, "after-restart")
        assert shown_ids(page) == [m["id"] for m in api_messages(world, conversation_id)]

    # while the server was down the browser reported the failed connections; nothing else may fail
    unexpected = [e for e in console.errors if "ERR_CONNECTION_REFUSED" not in e and "WebSocket" not in e]
    assert unexpected == [], console.errors
    assert console.outside == []


def test_a_revoked_token_signs_the_page_out_with_a_reason(web_platform: Platform, world: World, shots: Path) -> None:
    console = Console()
    with web_platform.admin as admin:
        token = admin.post(f"/api/v1/users/{world.alice.id}/api-tokens", json={"name": "short-lived"}).json()
    with browser() as chromium:
        page = context_for(chromium, world.url, console).new_page()
        sign_in(page, world.url, token["token"])
        revoked = httpx.delete(f"{world.url}/api/v1/api-tokens/{token['id']}", headers=world.alice.headers, timeout=30)
        assert revoked.status_code == 204, revoked.text
        page.get_by_role("tab", name="All").click()  # the next request is refused
        expect(page.get_by_role("alert")).to_contain_text("Sign in again", timeout=30_000)
        expect(page.get_by_label("API token")).to_be_visible()
        Steps(shots).shot(page, "signed-out")
        page.get_by_label("API token").fill("agyn_not-a-token")
        page.get_by_role("button", name="Sign in with token").click()
        expect(page.get_by_role("alert")).to_contain_text("not accepted")


def test_a_phone_sized_screen_shows_the_list_then_the_conversation(
        web_platform: Platform, world: World, shots: Path) -> None:
    steps = Steps(shots)
    conversation_id = human_conversation(world)
    console = Console()
    with browser() as chromium:
        page = context_for(chromium, world.url, console, PHONE).new_page()
        console.watch(page)
        sign_in(page, world.url, world.bob.token)
        steps.shot(page, "list")
        item(page, conversation_id).click()
        expect(page.get_by_test_id("composer")).to_be_visible()
        expect(page.get_by_test_id("conversations")).to_be_hidden()
        page.get_by_test_id("composer").fill("line one")
        page.get_by_test_id("composer").press("Shift+Enter")  # a new line, not sent
        page.get_by_test_id("composer").press_sequentially("line two")
        expect(messages_in(page)).to_have_count(1)
        page.get_by_test_id("composer").press("Enter")
        expect(messages_in(page).last.locator(".body")).to_have_text(re.compile(r"line one\s*line two"))
        steps.shot(page, "conversation")
        page.get_by_role("button", name="Back to the list").click()
        expect(page.get_by_test_id("conversations")).to_be_visible()
    assert console.errors == [] and console.outside == []


HOSTILE = """<script>window.__xss = 1</script>

<img src="x" onerror="window.__xss = 2">

[a link](javascript:window.__xss=3)

<a href="javascript:window.__xss=4">raw link</a> and <iframe src="javascript:window.__xss=5"></iframe>

<svg onload="window.__xss=6"></svg>

![picture](javascript:window.__xss=7)

<details open ontoggle="window.__xss=8">x</details>

| tool | result |
|------|--------|
| weather | **18°C** |

```python
print("<b>not bold</b>")
```

[the docs](https://example.com/docs)"""


def test_hostile_messages_render_inert(web_platform: Platform, world: World, shots: Path) -> None:
    conversation_id = human_conversation(world)
    say(world, conversation_id, HOSTILE)
    console = Console()
    with browser() as chromium:
        page = context_for(chromium, world.url, console).new_page()
        console.watch(page)
        sign_in(page, world.url, world.alice.token)
        item(page, conversation_id).click()
        body = messages_in(page).filter(has_text="raw link").locator(".body")
        expect(body).to_have_count(1)
        body.locator("a", has_text="a link").click()  # its javascript: address is gone
        page.wait_for_timeout(300)  # let any handler that got through run, had one got through
        Steps(shots).shot(page, "hostile")
        assert page.evaluate("window.__xss") is None
        assert body.locator("script, iframe, svg, img, [onerror], [onload], [ontoggle]").count() == 0
        hrefs = body.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert not any(href and href.strip().lower().startswith("javascript:") for href in hrefs), hrefs
        # the HTML written in the message is shown as text; Markdown still renders
        expect(body).to_contain_text('<script>window.__xss = 1</script>')
        expect(body.locator("table td strong")).to_have_text("18°C")
        expect(body.locator("pre code")).to_contain_text('print("<b>not bold</b>")')
        docs = body.get_by_role("link", name="the docs")
        expect(docs).to_have_attribute("href", "https://example.com/docs")
        expect(docs).to_have_attribute("rel", "noopener noreferrer nofollow")
    assert [e for e in console.errors if "uncaught" in e] == []
    assert console.outside == []


def test_a_long_list_shows_more_on_demand(web_platform: Platform, world: World) -> None:
    for n in range(101):  # a page is 100
        created = httpx.post(f"{world.url}/api/v1/conversations", headers=world.alice.headers, timeout=30, json={
            "organization_id": world.organization_id, "participants": [f"@{world.bob.username}"],
            "message": f"topic {n}"})
        assert created.status_code == 201, created.text
    console = Console()
    with browser() as chromium:
        page = context_for(chromium, world.url, console).new_page()
        console.watch(page)
        sign_in(page, world.url, world.bob.token)
        conversations = page.get_by_test_id("conversation-item")
        expect(conversations).to_have_count(100)
        page.get_by_role("button", name="Show more").click()
        expect(conversations).to_have_count(101)
        expect(page.get_by_role("button", name="Show more")).to_have_count(0)
        expect(conversations.last).to_contain_text("topic 0")  # newest first
    assert console.errors == [] and console.outside == []
