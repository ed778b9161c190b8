"""A conversation's history, kept as one JSON file per conversation in the runtime's state directory.

The state directory outlives the workload (`AGYN_STATE_DIR`), so a restarted runtime continues the same
conversation. Only finished turns are written: a turn that fails leaves the file as it was.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from agyn.token_counting.counting import CountingError, ItemCounter

Kind = Literal["user", "assistant", "tool_call", "tool_output", "summary"]
SAFE_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")
COUNTING_MODEL = "gpt-4o"  # model ids are platform ids; every current OpenAI vocabulary is o200k


@dataclass
class Entry:
    """One item of the conversation: what was said, a tool call, a tool's output, or a summary."""

    kind: Kind
    text: str = ""
    call_id: str = ""
    name: str = ""
    arguments: str = ""
    output: str | list[dict[str, Any]] = ""
    tokens: int = 0
    """0 until counted: a conversation far from its budget needs no tokenizer (`Conversation.most_tokens`)."""
    bound: int = field(default=0, compare=False, repr=False)
    """`most_tokens` once worked out (not stored: an entry's text never changes, but the bound may)."""

    def input_item(self) -> dict[str, Any]:
        """The Responses API input item this entry is sent as."""
        if self.kind == "tool_call":
            return {"type": "function_call", "call_id": self.call_id, "name": self.name, "arguments": self.arguments}
        if self.kind == "tool_output":
            return {"type": "function_call_output", "call_id": self.call_id, "output": self.output}
        role = {"user": "user", "assistant": "assistant", "summary": "system"}[self.kind]
        return {"type": "message", "role": role, "content": self.text}

    def counted(self) -> Entry:
        item = self.input_item()
        try:
            self.tokens = ItemCounter(COUNTING_MODEL).count_item(item)
        except CountingError:  # content the tokenizer cannot read (a binary file): an estimate
            self.tokens = len(json.dumps(item)) // 4 + 1
        return self

    def most_tokens(self) -> int:
        """Its token count, or a bound above it without the tokenizer: a BPE token is at least one byte,
        and the JSON item's punctuation outweighs the message framing. Images can cost more than their
        bytes, so content parts are counted."""
        if self.tokens:
            return self.tokens
        if not isinstance(self.output, str):
            return self.counted().tokens
        if not self.bound:
            self.bound = len(json.dumps(self.input_item(), ensure_ascii=False).encode())
        return self.bound

    def rendered(self) -> str:
        """One line of the text the summarizer reads."""
        if self.kind == "tool_call":
            return f"assistant (tool_call): {self.name}({self.arguments})"
        if self.kind == "tool_output":
            output = self.output if isinstance(self.output, str) else json.dumps(self.output)
            return f"tool (tool_output): {output}"
        role = {"user": "user", "assistant": "assistant", "summary": "system"}[self.kind]
        return f"{role} ({self.kind}): {self.text}"


@dataclass
class Conversation:
    id: str
    entries: list[Entry] = field(default_factory=list)
    last_turn: str = ""
    """The key of the last finished turn (which messages it answered) and its reply: a runtime that crashed
    after saving a turn but before acknowledging its messages answers them again from here."""
    last_reply: str = ""

    def most_tokens(self) -> int:
        """At least its token count (exact when every entry is counted)."""
        return sum(entry.most_tokens() for entry in self.entries)

    def count(self) -> int:
        """Its token count, counting the entries not counted yet."""
        return sum(entry.tokens or entry.counted().tokens for entry in self.entries)


STORED = tuple(f.name for f in fields(Entry) if f.name != "bound")


class HistoryStore:
    """Conversations under `<state dir>/conversations/<id>.json`, each written whole and atomically.

    What was saved is also kept in memory, so a turn does not read and parse the whole history again: the
    runtime is the file's only writer."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = state_dir / "conversations"
        self._saved: dict[str, Conversation] = {}

    def path(self, conversation_id: str) -> Path:
        if not SAFE_ID.fullmatch(conversation_id):
            raise ValueError(f"conversation id {conversation_id!r} is not a safe file name")
        return self.directory / f"{conversation_id}.json"

    def load(self, conversation_id: str) -> Conversation:
        """A copy the caller may change: what a failed turn added is never saved, nor kept."""
        saved = self._saved.get(conversation_id)
        if saved is None:
            path = self.path(conversation_id)
            if not path.exists():
                return Conversation(conversation_id)
            document = json.loads(path.read_text())
            saved = self._saved[conversation_id] = Conversation(
                conversation_id, [Entry(**entry) for entry in document["entries"]], document.get("last_turn", ""),
                document.get("last_reply", ""))
        return Conversation(saved.id, list(saved.entries), saved.last_turn, saved.last_reply)

    def save(self, conversation: Conversation) -> None:
        path = self.path(conversation.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"id": conversation.id,
                                         "entries": [{name: getattr(entry, name) for name in STORED}
                                                     for entry in conversation.entries],
                                         "last_turn": conversation.last_turn, "last_reply": conversation.last_reply},
                                        ensure_ascii=False))
        os.replace(temporary, path)  # a crash mid-write leaves the previous turn's file, never half of one
        self._saved[conversation.id] = Conversation(conversation.id, list(conversation.entries),
                                                    conversation.last_turn, conversation.last_reply)
