"""Suites: YAML files of scripted conversations, their strict models, and a store that re-reads them.

A suite file::

    name: demo                 # the suite, part of the URL
    protocol: openai           # openai | anthropic
    tests:
      simple-hello:            # a test; its name is the request's `model`
        - {type: message, role: user, content_contains: "hi"}
        - {type: message, role: assistant, content: "Hi! How are you?"}

OpenAI suites hold `message`, `function_call` and `function_call_output` items; Anthropic suites hold
`anthropic_system` and `anthropic_message` items. An assistant message and a function call are what
the model answers (output); everything else is what the request must contain (input).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

log = logging.getLogger("agyn.testllm")

BUNDLED_SUITES_DIR = Path(__file__).parent / "suites"
SUITE_FILE_SUFFIXES = (".yaml", ".yml")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- Anthropic content blocks --------------------------------------------------------------------

class TextBlock(_Strict):
    type: Literal["text"]
    text: str


class ToolUseBlock(_Strict):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)


class ToolResultBlock(_Strict):
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | list[TextBlock] = ""
    is_error: bool | None = None


Block = Annotated[TextBlock | ToolUseBlock | ToolResultBlock, Field(discriminator="type")]


# --- items ---------------------------------------------------------------------------------------

class _InputContent(_Strict):
    """How an input item's content is matched: exactly, by a substring, or not at all."""

    content: str | None = None
    content_contains: str | None = None
    any_content: bool = False

    def _check_content_rule(self, who: str) -> None:
        if self.content_contains is not None and self.content:
            raise ValueError(f"{who}: give `content` or `content_contains`, not both")
        if self.any_content and (self.content or self.content_contains is not None):
            raise ValueError(f"{who}: `any_content` matches anything; drop `content`/`content_contains`")


class MessageItem(_InputContent):
    """An OpenAI message. Role `assistant` is the model's answer; user, system and developer are input."""

    type: Literal["message"]
    role: Literal["user", "system", "developer", "assistant"] | None = None
    any_role: bool = False
    repeat: bool = False

    @model_validator(mode="after")
    def _check(self) -> MessageItem:
        if self.role is None and not self.any_role:
            raise ValueError("a message needs a `role` (or `any_role: true`)")
        if self.role == "assistant":
            if self.content is None:
                raise ValueError("an assistant message is the scripted answer: it needs `content`")
            if self.any_content or self.any_role or self.repeat or self.content_contains is not None:
                raise ValueError("an assistant message is the scripted answer: "
                                 "`any_content`, `any_role`, `repeat` and `content_contains` apply to input only")
        else:
            self._check_content_rule("message")
            if self.content is None and self.content_contains is None and not self.any_content:
                raise ValueError("an input message needs `content`, `content_contains` or `any_content: true`")
        if self.repeat and not (self.any_role and self.any_content):
            raise ValueError("`repeat` is a wildcard: it needs `any_role: true` and `any_content: true`")
        return self

    @property
    def is_output(self) -> bool:
        return self.role == "assistant"


class FunctionCallItem(_Strict):
    """A tool call the model makes (output); echoed back verbatim in later requests."""

    type: Literal["function_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str

    @property
    def is_output(self) -> bool:
        return True


class FunctionCallOutputItem(_Strict):
    """A tool's result the request must carry; equal as a string or as JSON."""

    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1)
    output: str

    @property
    def is_output(self) -> bool:
        return False


class AnthropicSystemItem(_InputContent):
    """The request's `system` prompt."""

    type: Literal["anthropic_system"]
    content_blocks: list[TextBlock] | None = None

    @property
    def is_output(self) -> bool:
        return False

    @model_validator(mode="after")
    def _check(self) -> AnthropicSystemItem:
        self._check_content_rule("anthropic_system")
        given = [self.content is not None, self.content_blocks is not None, self.content_contains is not None,
                 self.any_content]
        if sum(given) != 1:
            raise ValueError("anthropic_system needs exactly one of `content`, `content_blocks`, `content_contains` "
                             "and `any_content: true`")
        return self


class AnthropicMessageItem(_InputContent):
    """An Anthropic message: a user message is input; an assistant message is the answer (or its echo)."""

    type: Literal["anthropic_message"]
    role: Literal["user", "assistant"]
    content_blocks: list[Block] | None = None

    @model_validator(mode="after")
    def _check(self) -> AnthropicMessageItem:
        if self.role == "assistant":
            if self.any_content or self.content_contains is not None:
                raise ValueError("an assistant message is the scripted answer: "
                                 "`any_content` and `content_contains` apply to user messages only")
            if (self.content is None) == (self.content_blocks is None):
                raise ValueError("an assistant message needs exactly one of `content` and `content_blocks`")
            if self.content_blocks is not None and any(isinstance(b, ToolResultBlock) for b in self.content_blocks):
                raise ValueError("an assistant message cannot hold `tool_result` blocks")
        else:
            self._check_content_rule("anthropic_message")
            given = [self.content is not None, self.content_blocks is not None, self.content_contains is not None,
                     self.any_content]
            if sum(given) != 1:
                raise ValueError("a user message needs exactly one of `content`, `content_blocks`, "
                                 "`content_contains` and `any_content: true`")
        return self

    @property
    def is_output(self) -> bool:
        return self.role == "assistant"


OpenAIItem = Annotated[MessageItem | FunctionCallItem | FunctionCallOutputItem, Field(discriminator="type")]
AnthropicItem = Annotated[AnthropicSystemItem | AnthropicMessageItem, Field(discriminator="type")]
ScriptItem = MessageItem | FunctionCallItem | FunctionCallOutputItem | AnthropicSystemItem | AnthropicMessageItem
AnyItem = Annotated[ScriptItem, Field(discriminator="type")]

OPENAI_ITEM_TYPES = frozenset({"message", "function_call", "function_call_output"})
ANTHROPIC_ITEM_TYPES = frozenset({"anthropic_system", "anthropic_message"})


class Suite(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    protocol: Literal["openai", "anthropic"] = "openai"
    description: str | None = None
    tests: dict[str, list[AnyItem]]

    @field_validator("tests")
    @classmethod
    def _check_tests(cls, tests: dict[str, list[ScriptItem]]) -> dict[str, list[ScriptItem]]:
        for name, items in tests.items():
            if not name.strip():
                raise ValueError("a test needs a non-empty name")
            if not any(item.is_output for item in items):
                raise ValueError(f"test {name!r} has no scripted answer (an assistant message or a function call)")
        return tests

    @model_validator(mode="after")
    def _check_protocol(self) -> Suite:
        allowed = OPENAI_ITEM_TYPES if self.protocol == "openai" else ANTHROPIC_ITEM_TYPES
        for name, items in self.tests.items():
            for position, item in enumerate(items, start=1):
                if item.type not in allowed:
                    raise ValueError(f"test {name!r}, item {position}: {item.type} items do not belong in an "
                                     f"{self.protocol} suite (use {', '.join(sorted(allowed))})")
            systems = [i for i, item in enumerate(items) if isinstance(item, AnthropicSystemItem)]
            if systems and systems != [0]:
                raise ValueError(f"test {name!r}: `anthropic_system` can only be the first item, once")
        return self


# --- loading -------------------------------------------------------------------------------------

class SuiteFileError(ValueError):
    """A suite file that cannot be used; the message names the file and, where known, the test and item."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def load_suite(path: Path) -> Suite:
    """Parse and check one suite file."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise SuiteFileError(path, f"cannot read: {error}") from None
    return parse_suite_text(content, path)


def parse_suite_text(content: bytes, path: Path) -> Suite:
    try:
        data = yaml.safe_load(content.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise SuiteFileError(path, f"not UTF-8 text: {error}") from None
    except yaml.YAMLError as error:
        raise SuiteFileError(path, f"not valid YAML: {error}") from None
    return parse_suite(data, path)


def parse_suite(data: object, path: Path) -> Suite:
    if not isinstance(data, dict):
        raise SuiteFileError(path, "a suite file is a mapping with `name`, `protocol` and `tests`")
    try:
        return Suite.model_validate(data)
    except ValidationError as error:
        raise SuiteFileError(path, "; ".join(_describe(e) for e in error.errors(include_url=False))) from None


def _describe(error: Any) -> str:
    """A validation error located by test and item: `test 'weather', item 2 (function_call): ...`."""
    loc = list(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    where: list[str] = []
    if loc[:1] == ["tests"] and len(loc) >= 2:
        where.append(f"test {loc[1]!r}")
        if len(loc) >= 3 and isinstance(loc[2], int):
            where.append(f"item {loc[2] + 1}" + (f" ({loc[3]})" if len(loc) >= 4 else ""))
            rest = [str(part) for part in loc[4:]]
        else:
            rest = [str(part) for part in loc[2:]]
    else:
        rest = [str(part) for part in loc]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "union_tag_invalid":
        message = f"unknown item type {error.get('input', {}).get('type')!r}" if isinstance(
            error.get("input"), dict) else message
    if rest:
        where.append("`" + ".".join(rest) + "`")
    return (", ".join(where) + ": " if where else "") + message


def suite_directories(data_dir: Path | None = None, suites_dir: Path | None = None) -> list[Path]:
    """Where the platform looks for suites, later directories overriding earlier ones by suite name:
    the bundled suites, `<data dir>/testllm/`, then `AGYN_TESTLLM__SUITES_DIR`."""
    directories = [BUNDLED_SUITES_DIR]
    if data_dir is not None:
        directories.append(data_dir / "testllm")
    if suites_dir is not None:
        directories.append(suites_dir)
    return directories


RACY_SECONDS = 2.0


@dataclass(frozen=True)
class _FileState:
    key: tuple[int, int, int, int]
    content: bytes
    suite: Suite | None
    error: SuiteFileError | None


class SuiteStore:
    """Suites from several directories, re-read when their files change.

    Each lookup stats the directories' suite files (a few system calls; by default on every lookup,
    else at most once per `check_interval` seconds) and parses again only the files whose size,
    times or inode changed, so editing, adding or removing a file takes effect without a restart.
    A file changed in the last `RACY_SECONDS` is also compared by content, because a rewrite within
    one tick of the file system's clock keeps the same times. A suite name defined in a later
    directory overrides an earlier one; within one directory the first file (by name) wins and the
    other is an error.
    """

    def __init__(self, directories: Iterable[Path], check_interval: float = 0.0) -> None:
        self.directories = [Path(d) for d in directories]
        self.check_interval = check_interval
        self._files: dict[Path, _FileState] = {}
        self._suites: dict[str, Suite] = {}
        self._sources: dict[str, Path] = {}
        self._errors: list[SuiteFileError] = []
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def get(self, name: str) -> Suite | None:
        self.refresh()
        return self._suites.get(name)

    def suites(self) -> dict[str, Suite]:
        self.refresh()
        return dict(self._suites)

    def source(self, name: str) -> Path | None:
        """The file a suite was loaded from."""
        self.refresh()
        return self._sources.get(name)

    def errors(self) -> list[SuiteFileError]:
        """The files that failed to load, as of the last check."""
        self.refresh()
        return list(self._errors)

    def errors_for(self, name: str) -> list[SuiteFileError]:
        """Load errors of files that look like they define suite `name` (by file name)."""
        return [error for error in self.errors() if error.path.stem == name]

    def refresh(self, force: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            if not force and self._checked_at is not None and now - self._checked_at < self.check_interval:
                return
            self._checked_at = now
            seen: dict[Path, _FileState] = {}
            for path in self._suite_files():
                key = _file_key(path)
                if key is None:
                    continue
                state = self._files.get(path)
                if state is None or state.key != key:
                    state = _read(path, key)
                elif time.time() - key[0] / 1e9 < RACY_SECONDS:
                    state = _reread_if_changed(path, state)
                seen[path] = state
            if seen.keys() != self._files.keys() or any(seen[p] is not self._files[p] for p in seen):
                self._files = seen
                self._rebuild()

    def _suite_files(self) -> list[Path]:
        files: list[Path] = []
        for directory in self.directories:
            try:
                entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as error:
                log.warning("cannot list test LLM suites in %s: %s", directory, error)
                continue
            files.extend(Path(entry.path) for entry in entries
                         if entry.name.endswith(SUITE_FILE_SUFFIXES) and not entry.name.startswith("."))
        return files

    def _rebuild(self) -> None:
        suites: dict[str, Suite] = {}
        sources: dict[str, Path] = {}
        errors: list[SuiteFileError] = []
        for directory in self.directories:
            in_directory: dict[str, Path] = {}
            for path, state in self._files.items():
                if path.parent != directory:
                    continue
                if state.error is not None:
                    errors.append(state.error)
                    continue
                assert state.suite is not None
                name = state.suite.name
                if name in in_directory:
                    errors.append(SuiteFileError(path, f"suite {name!r} is already defined by {in_directory[name]}"))
                    continue
                in_directory[name] = path
                suites[name] = state.suite
                sources[name] = path
        for error in errors:
            if error not in self._errors:
                log.warning("test LLM suite not loaded: %s", error)
        self._suites, self._sources, self._errors = suites, sources, errors


def _file_key(path: Path) -> tuple[int, int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino


def _read(path: Path, key: tuple[int, int, int, int]) -> _FileState:
    try:
        content = path.read_bytes()
    except OSError as error:
        return _FileState(key, b"", None, SuiteFileError(path, f"cannot read: {error}"))
    try:
        return _FileState(key, content, parse_suite_text(content, path), None)
    except SuiteFileError as error:
        return _FileState(key, content, None, error)


def _reread_if_changed(path: Path, state: _FileState) -> _FileState:
    try:
        unchanged = path.read_bytes() == state.content
    except OSError:
        unchanged = False
    return state if unchanged else _read(path, state.key)


def describe_suites(store: SuiteStore) -> Sequence[tuple[str, str, int, Path | None]]:
    """(name, protocol, number of tests, file) for every loaded suite, by name."""
    return [(name, suite.protocol, len(suite.tests), store.source(name))
            for name, suite in sorted(store.suites().items())]
