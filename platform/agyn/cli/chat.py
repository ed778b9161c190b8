"""`agyn chat @assistant`: a conversation in the terminal.

It opens a conversation with the agent (or continues one with `--conversation`), shows what was said,
then reads lines and sends them. Replies arrive live: a background thread listens to the conversation's
events (Server-Sent Events) and, on each, pulls the messages it has not shown yet (events are hints;
the messages are read from the API). While the agent works its activity (pending, running) is shown.
Replies are Markdown, rendered with rich. Ctrl-D ends.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape

from agyn.cli.client import DEFAULT_URL, ApiUrlOption, DataDirOption, TokenOption, call, connect, fail, organization_id

STATUS_POLL_SECONDS = 0.5
RECONNECT_SECONDS = 1.0


class ChatSession:
    def __init__(self, client: httpx.Client, console: Console, conversation: dict[str, Any], me: str,
                 names: dict[str, str]) -> None:
        self.client = client
        self.console = console
        self.conversation_id = str(conversation["id"])
        self.me = me
        self.names = names
        self.shown: set[str] = set()
        self.lock = threading.Lock()
        self.waiting = threading.Event()
        self.stopped = threading.Event()
        self.activity: str | None = conversation.get("activity_status")

    def name_of(self, identity_id: str) -> str:
        return "you" if identity_id == self.me else self.names.get(identity_id, identity_id[:8])

    def show_new(self) -> None:
        """Print the messages not shown yet (the API is the truth; an event only says there is news)."""
        with self.lock:
            fresh: list[dict[str, Any]] = []
            token: str | None = None
            while True:
                page = self.client.get(f"/api/v1/conversations/{self.conversation_id}/messages",
                                       params={"page_size": 100, **({"page_token": token} if token else {})})
                page.raise_for_status()
                document = page.json()
                fresh += [m for m in document["items"] if m["id"] not in self.shown]
                token = document.get("next_page_token")
                if not token:
                    break
            for message in fresh:
                self.shown.add(message["id"])
                self.print_message(message)
            if any(m["sender_id"] != self.me for m in fresh):
                self.waiting.clear()
                self.client.post(f"/api/v1/conversations/{self.conversation_id}/read")

    def print_message(self, message: dict[str, Any]) -> None:
        sender = message["sender_id"]
        if sender == self.me:
            self.console.print(f"[bold cyan]you[/]: {escape(message['body'])}", highlight=False)
            return
        self.console.print(f"[bold green]{escape(self.name_of(sender))}[/]:", highlight=False)
        self.console.print(Markdown(message["body"]))

    def listen(self) -> None:
        """The conversation's events; each one pulls the news. On every (re)connection, pull too."""
        rooms = f"conversation:{self.conversation_id},thread_participant:me"
        while not self.stopped.is_set():
            try:
                with self.client.stream("GET", "/api/v1/events", params={"rooms": rooms},
                                        timeout=httpx.Timeout(10.0, read=None)) as response:
                    if response.status_code != 200:
                        raise httpx.HTTPError(f"events answered {response.status_code}")
                    self.show_new()
                    event = ""
                    for line in response.iter_lines():
                        if self.stopped.is_set():
                            return
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:") and event == "message.created":
                            payload = json.loads(line[5:]).get("payload", {})
                            if payload.get("thread_id") == self.conversation_id:
                                self.show_new()
            except (httpx.HTTPError, ValueError):
                if self.stopped.wait(RECONNECT_SECONDS):
                    return

    def watch_activity(self) -> None:
        """While a reply is awaited: the agents' activity, each change on its own line."""
        while not self.stopped.is_set():
            if self.waiting.wait(0.2) and not self.stopped.is_set():
                try:
                    response = self.client.get(f"/api/v1/conversations/{self.conversation_id}")
                    status = response.json().get("activity_status") if response.status_code == 200 else None
                except (httpx.HTTPError, ValueError):
                    status = None
                if status in ("pending", "running") and status != self.activity and self.waiting.is_set():
                    self.console.print(f"[dim]… {status}[/]", highlight=False)
                self.activity = status
                time.sleep(STATUS_POLL_SECONDS)

    def send(self, text: str) -> None:
        response = self.client.post(f"/api/v1/conversations/{self.conversation_id}/messages", json={"body": text})
        if response.status_code >= 400:
            self.console.print(f"[bold red]not sent[/] ({response.status_code}): "
                               f"{escape(response.json().get('detail', response.text))}", highlight=False)
            return
        with self.lock:
            self.shown.add(response.json()["id"])  # the terminal already shows what was typed
        self.activity = None
        self.waiting.set()


def chat(
    agent: Annotated[str, typer.Argument(metavar="@AGENT", help="The agent (its @nickname, or its id).")],
    organization: Annotated[str | None, typer.Option("--org", envvar="AGYN_ORGANIZATION_ID", metavar="ORG",
                                                     help="The agent's organization (id or name); needed when "
                                                          "you belong to several.")] = None,
    conversation_id: Annotated[str | None, typer.Option("--conversation", metavar="ID",
                                                        help="Continue this conversation.")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", metavar="TEXT", show_default=False,
                                                help="Send this, print the reply, and exit (for scripts).")] = None,
    wait: Annotated[float, typer.Option(help="With --message: seconds to wait for the reply.")] = 120.0,
    api_url: ApiUrlOption = DEFAULT_URL, token: TokenOption = None, data_dir: DataDirOption = None,
) -> None:
    """Chat with an agent in the terminal: replies arrive live, Markdown rendered; Ctrl-D ends."""
    console = Console(highlight=False)
    with connect(api_url, token, data_dir) as client:
        me = str(call(client, "GET", "/me")["identity_id"])
        if conversation_id:
            conversation = call(client, "GET", f"/api/v1/conversations/{conversation_id}")
        else:
            org = organization_id(client, organization) if organization else _only_organization(client)
            conversation = call(client, "POST", "/api/v1/conversations",
                                json={"organization_id": org, "participants": [agent]})
        names = {str(p): agent.lstrip("@") for p in conversation["participants"] if str(p) != me}
        session = ChatSession(client, console, conversation, me, names)
        console.print(f"[bold]Conversation {conversation['id']}[/] with {escape(agent)}"
                      + ("" if message is not None else " — type a message and press Enter; Ctrl-D ends."),
                      highlight=False)
        session.show_new()
        if message is not None:
            _one_exchange(session, message, wait)
            return
        threads = [threading.Thread(target=session.listen, daemon=True),
                   threading.Thread(target=session.watch_activity, daemon=True)]
        for thread in threads:
            thread.start()
        try:
            while True:
                try:
                    line = console.input("[bold cyan]> [/]")
                except EOFError:
                    break
                if line.strip():
                    session.send(line)
        except KeyboardInterrupt:
            pass
        finally:
            session.stopped.set()
    console.print(f"\nBye. Continue with: agyn chat {escape(agent)} --conversation {conversation['id']}",
                  highlight=False)


def _one_exchange(session: ChatSession, message: str, wait: float) -> None:
    """Send one message and print the reply when it comes (the events wake the pull)."""
    listener = threading.Thread(target=session.listen, daemon=True)
    listener.start()
    session.console.print(f"[bold cyan]you[/]: {escape(message)}", highlight=False)
    session.send(message)
    replied = _wait_cleared(session, wait)
    session.stopped.set()
    if not replied:
        fail(f"no reply within {wait:g} s", "see `agyn conversations list` for the agent's activity, and "
             "the platform's log")


def _wait_cleared(session: ChatSession, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not session.waiting.is_set():
            return True
        time.sleep(0.05)
    return False


def _only_organization(client: httpx.Client) -> str:
    found = call(client, "GET", "/api/v1/organizations", params={"page_size": 2})["items"]
    if len(found) != 1:
        fail("which organization?" if found else "you belong to no organization",
             "pass --org NAME (or set AGYN_ORGANIZATION_ID)")
    return str(found[0]["id"])
