"""Suite files: strict loading with errors that name the file and test, and re-reading on change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agyn.testllm.suites import (
    BUNDLED_SUITES_DIR,
    MessageItem,
    SuiteFileError,
    SuiteStore,
    load_suite,
    suite_directories,
)

EXAMPLE = """\
name: demo
protocol: openai
tests:
  simple-hello:
    - {type: message, role: user, content_contains: "hi"}
    - {type: message, role: assistant, content: "Hi! How are you?"}
  weather:
    - {type: message, role: user, any_content: true}
    - {type: function_call, call_id: fc_1, name: get_weather, arguments: '{"city": "Paris"}'}
    - {type: function_call_output, call_id: fc_1, output: '{"t": 18}'}
    - {type: message, role: assistant, content: "18 degrees."}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_issue_example_loads(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path / "demo.yaml", EXAMPLE))
    assert suite.name == "demo" and suite.protocol == "openai"
    assert list(suite.tests) == ["simple-hello", "weather"]
    first = suite.tests["simple-hello"][0]
    assert isinstance(first, MessageItem) and first.content_contains == "hi"


def test_bundled_suites_load_with_the_reference_tests() -> None:
    store = SuiteStore([BUNDLED_SUITES_DIR])
    assert store.errors() == []
    agn = store.get("agn")
    assert agn is not None
    assert {"simple-hello", "simple-state", "system-prompt", "summarize-agent-turn1", "summarize-agent-turn2",
            "summarize-history", "summarize-tool-pair-turn1", "summarize-tool-pair-turn2",
            "summarize-tool-pair-history", "mcp-tools-test", "shell-threads-send"} <= set(agn.tests)
    claude = store.get("claude")
    assert claude is not None and claude.protocol == "anthropic"


@pytest.mark.parametrize(("text", "expected"), [
    (EXAMPLE.replace("content_contains", "contents"), "test 'simple-hello', item 1 (message), `contents`: unknown key"),
    (EXAMPLE.replace("type: function_call,", "type: tool_call,"), "test 'weather', item 2: unknown item type 'tool_call'"),
    (EXAMPLE.replace("call_id: fc_1, name", "name"), "test 'weather', item 2 (function_call), `call_id`: Field required"),
    (EXAMPLE.replace('content: "18 degrees."', 'any_content: true'), "an assistant message is the scripted answer"),
    (EXAMPLE.replace("protocol: openai", "protocol: gemini"), "`protocol`"),
    (EXAMPLE + "colour: blue\n", "`colour`: unknown key"),
    (EXAMPLE.replace('- {type: message, role: assistant, content: "Hi! How are you?"}', ""),
     "test 'simple-hello' has no scripted answer"),
    (EXAMPLE.replace("protocol: openai", "protocol: anthropic"), "message items do not belong in an anthropic suite"),
    ("name: demo\ntests: [1, 2]\n", "`tests`"),
    ("- just a list\n", "a suite file is a mapping"),
    ("name: demo\ntests: {a: [ {type: message\n", "not valid YAML"),
    (EXAMPLE.replace("any_content: true}", "any_content: true, repeat: true}"), "`repeat` is a wildcard"),
])
def test_bad_files_give_errors_naming_the_file_and_test(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "demo.yaml", text)
    with pytest.raises(SuiteFileError) as error:
        load_suite(path)
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value)


def test_a_bad_file_does_not_hide_the_good_ones(tmp_path: Path) -> None:
    write(tmp_path / "demo.yaml", EXAMPLE)
    write(tmp_path / "broken.yaml", "name: broken\ntests: {t: [{type: nonsense}]}\n")
    store = SuiteStore([tmp_path], check_interval=0)
    assert set(store.suites()) == {"demo"}
    assert [error.path.name for error in store.errors()] == ["broken.yaml"]
    assert [error.path.name for error in store.errors_for("broken")] == ["broken.yaml"]


def test_new_changed_and_removed_files_are_seen_without_a_restart(tmp_path: Path) -> None:
    store = SuiteStore([tmp_path], check_interval=0)
    assert store.get("demo") is None
    path = write(tmp_path / "demo.yaml", EXAMPLE)
    suite = store.get("demo")
    assert suite is not None and set(suite.tests) == {"simple-hello", "weather"}

    write(path, EXAMPLE.replace("simple-hello", "simple-bye"))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))  # a distinct mtime
    suite = store.get("demo")
    assert suite is not None and "simple-bye" in suite.tests

    path.unlink()
    assert store.get("demo") is None


def test_unchanged_files_are_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "demo.yaml", EXAMPLE)
    store = SuiteStore([tmp_path], check_interval=0)
    first = store.get("demo")
    from agyn.testllm import suites

    monkeypatch.setattr(suites, "parse_suite_text", lambda content, path: pytest.fail(f"{path} parsed again"))
    assert store.get("demo") is first


def test_a_same_size_rewrite_within_one_clock_tick_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    from agyn.testllm import suites

    path = write(tmp_path / "demo.yaml", EXAMPLE)
    stat = path.stat()
    # The file system's clock did not tick between the writes: size, times and inode all look the same.
    monkeypatch.setattr(suites, "_file_key", lambda _: (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino))
    store = SuiteStore([tmp_path], check_interval=0)
    assert store.get("demo") is not None
    write(path, EXAMPLE.replace("simple-hello", "simple-howdy"))  # same length
    suite = store.get("demo")
    assert suite is not None and "simple-howdy" in suite.tests


def test_checks_are_at_most_once_per_interval(tmp_path: Path) -> None:
    store = SuiteStore([tmp_path], check_interval=3600)
    assert store.get("demo") is None
    write(tmp_path / "demo.yaml", EXAMPLE)
    assert store.get("demo") is None  # within the interval
    store.refresh(force=True)
    assert store.get("demo") is not None


def test_later_directories_override_suites_by_name(tmp_path: Path) -> None:
    override = tmp_path / "override"
    override.mkdir()
    write(override / "agn.yaml", EXAMPLE.replace("name: demo", "name: agn"))
    store = SuiteStore([BUNDLED_SUITES_DIR, override], check_interval=0)
    agn = store.get("agn")
    assert agn is not None and set(agn.tests) == {"simple-hello", "weather"}
    assert store.source("agn") == override / "agn.yaml"


def test_a_duplicate_name_in_one_directory_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", EXAMPLE)
    write(tmp_path / "b.yaml", EXAMPLE)
    store = SuiteStore([tmp_path], check_interval=0)
    assert store.source("demo") == tmp_path / "a.yaml"
    assert "already defined" in str(store.errors()[0])


def test_platform_directories() -> None:
    assert suite_directories(Path("/data"), Path("/suites")) == [BUNDLED_SUITES_DIR, Path("/data/testllm"),
                                                                 Path("/suites")]


def test_settings_name_the_suites_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from agyn.settings import Settings
    from agyn.testllm.app import store_for_settings

    monkeypatch.setenv("AGYN_TESTLLM__SUITES_DIR", str(tmp_path))
    monkeypatch.setenv("AGYN_DATA_DIR", str(tmp_path / "data"))
    settings = Settings()
    assert settings.testllm.suites_dir == tmp_path
    assert store_for_settings(settings).directories == [BUNDLED_SUITES_DIR, tmp_path / "data" / "testllm", tmp_path]
