"""Token counts checked against published numbers: OpenAI's vocabulary file, tiktoken, the cookbook,
the vision guides of OpenAI and Anthropic."""

from __future__ import annotations

import base64
import hashlib
import inspect
import io
from pathlib import Path

import pytest

from agyn.token_counting.counting import (
    DEFAULT_IMAGE_SIZE,
    CountingError,
    anthropic_image_tokens,
    count_chat_messages,
    count_items,
    count_text,
    image_dimensions,
    openai_image_tokens,
)

# The SHA-256 tiktoken pins for OpenAI's published o200k_base.tiktoken file.
O200K_BASE_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

SAMPLES = [
    "hello world", "tiktoken is great!", "antidisestablishmentarianism", "2 + 2 = 4", "お誕生日おめでとう",
    "def f(x):\n    return x ** 2\n\n\n", "  leading and trailing spaces  ", "Emoji 🚀🔥 and ü, ß, ñ",
    "URL https://example.com/a?b=c&d=e#f", "<|endoftext|> is text here", "Привет, мир! Как дела?",
    "tabs\tand\r\nwindows lines", "1234567890 3.14159 -42", "",
]


def _vocabulary_file() -> bytes:
    """The shipped o200k_base vocabulary, written in tiktoken's file format."""
    import quicktok

    encoding = quicktok.get_encoding("o200k_base")
    return b"".join(base64.b64encode(encoding.decode_single_token_bytes(rank)) + b" %d\n" % rank
                    for rank in range(199998))


def test_vocabulary_is_openais_published_o200k_base() -> None:
    assert hashlib.sha256(_vocabulary_file()).hexdigest() == O200K_BASE_SHA256


def test_counts_equal_tiktoken_on_the_same_vocabulary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tiktoken")
    import tiktoken
    import tiktoken.load
    from tiktoken_ext import openai_public

    # tiktoken finds the file in its cache (keyed by the URL's SHA-1) and checks the published hash itself.
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    assert url in inspect.getsource(openai_public.o200k_base)
    (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(_vocabulary_file())
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))

    def no_network(blobpath: str) -> bytes:
        raise AssertionError(f"tiktoken tried to download {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    encoding = tiktoken.Encoding(**openai_public.o200k_base())
    for text in SAMPLES:
        assert count_text(text) == len(encoding.encode_ordinary(text)), text


@pytest.mark.parametrize(("text", "tokens"), [
    ("hello world", 2),
    ("tiktoken is great!", 6),
    ("antidisestablishmentarianism", 6),
    ("2 + 2 = 4", 7),
    ("お誕生日おめでとう", 8),
])
def test_cookbook_o200k_counts(text: str, tokens: int) -> None:
    assert count_text(text) == tokens


def test_cl100k_for_older_models() -> None:
    assert count_text("antidisestablishmentarianism", "cl100k_base") == 6
    assert count_text("お誕生日おめでとう", "cl100k_base") == 9


COOKBOOK_MESSAGES = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon "
                                  "into plain English."},
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base "
                                                          "on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do "
                                                               "better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client "
                                "deliverable."},
]


def test_cookbook_chat_message_counts() -> None:
    assert count_chat_messages(COOKBOOK_MESSAGES, "gpt-4o") == 124
    assert count_chat_messages(COOKBOOK_MESSAGES, "gpt-4o-mini") == 124
    assert count_chat_messages(COOKBOOK_MESSAGES, "gpt-4-0613") == 129


def test_responses_items_count_like_chat_messages() -> None:
    items = [{"type": "message", **m} for m in COOKBOOK_MESSAGES]
    counts = count_items(items, "gpt-4o")
    assert counts.total == 124
    assert [c.index for c in counts.items] == list(range(6))
    assert counts.items[0].tokens == 3 + count_text("system") + count_text(COOKBOOK_MESSAGES[0]["content"])


def test_message_content_parts_and_tool_items() -> None:
    counts = count_items([
        {"role": "user", "content": [{"type": "input_text", "text": "hello"}, {"type": "input_text", "text": " world"}]},
        {"type": "function_call", "call_id": "fc_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"type": "function_call_output", "call_id": "fc_1", "output": '{"t": 18}'},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "18 degrees."}]},
    ], "gpt-5")
    assert [c.type for c in counts.items] == ["message", "function_call", "function_call_output", "message"]
    assert counts.items[0].tokens == 3 + 1 + 2
    assert counts.items[1].tokens == 3 + count_text("get_weather") + count_text('{"city": "Paris"}')
    assert counts.items[2].tokens == 3 + count_text('{"t": 18}')
    assert counts.total == sum(c.tokens for c in counts.items) + 3


@pytest.mark.parametrize(("width", "height", "detail", "tokens"), [
    (1024, 1024, "high", 765),   # OpenAI's vision guide: 768×768, 4 tiles
    (2048, 4096, "high", 1105),  # 1024×2048 → 768×1536, 6 tiles
    (4096, 8192, "low", 85),
    (512, 512, "high", 255),
    (100, 100, "auto", 255),
])
def test_openai_image_tile_formula(width: int, height: int, detail: str, tokens: int) -> None:
    assert openai_image_tokens(width, height, detail, "gpt-4o") == tokens


def test_image_prices_per_model() -> None:
    assert openai_image_tokens(1024, 1024, "high", "gpt-5") == 70 + 140 * 4
    assert openai_image_tokens(1024, 1024, "low", "gpt-5-mini") == 70
    assert openai_image_tokens(1024, 1024, "high", "gpt-4o-mini") == 2833 + 5667 * 4


@pytest.mark.parametrize(("width", "height", "tokens"), [(200, 200, 54), (1000, 1000, 1334), (1092, 1092, 1590)])
def test_anthropic_image_estimate_matches_its_published_table(width: int, height: int, tokens: int) -> None:
    assert anthropic_image_tokens(width, height) == tokens


def test_large_anthropic_images_are_scaled_down() -> None:
    assert anthropic_image_tokens(4000, 4000) <= 1600


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_image_dimensions_from_headers(fmt: str) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900)).save(buffer, format=fmt)
    assert image_dimensions(buffer.getvalue()) == (1600, 900)


def test_input_image_from_a_data_url_uses_its_dimensions() -> None:
    url = "data:image/png;base64," + base64.b64encode(_png(2048, 4096)).decode()
    counts = count_items([{"role": "user", "content": [{"type": "input_image", "image_url": url, "detail": "high"}]}],
                         "gpt-4o")
    assert counts.items[0].tokens == 3 + count_text("user") + 1105


def test_input_image_without_bytes_assumes_the_default_size() -> None:
    counts = count_items([{"role": "user", "content": [
        {"type": "input_image", "image_url": "https://example.com/cat.png"}]}], "gpt-4o")
    assert counts.items[0].tokens == 3 + 1 + openai_image_tokens(*DEFAULT_IMAGE_SIZE)


def test_claude_models_get_the_anthropic_estimate() -> None:
    counts = count_items([{"role": "user", "content": "お誕生日おめでとう"}], "claude-sonnet-4-5")
    assert counts.items[0].tokens == 3 + count_text("user", "cl100k_base") + 9


def test_text_files_count_and_binary_files_are_refused() -> None:
    text = base64.b64encode(b"hello world").decode()
    counts = count_items([{"role": "user", "content": [{"type": "input_file", "filename": "a.txt",
                                                         "file_data": text}]}], "gpt-4o")
    assert counts.items[0].tokens == 3 + 1 + 2
    with pytest.raises(CountingError, match="binary"):
        count_items([{"role": "user", "content": [{"type": "input_file", "file_data": base64.b64encode(
            b"\xff\xfe\x00\x81").decode()}]}], "gpt-4o")


def test_unknown_items_are_named_in_the_error() -> None:
    with pytest.raises(CountingError, match=r"input\[1\].*'web_search_call'"):
        count_items([{"role": "user", "content": "hi"}, {"type": "web_search_call"}], "gpt-4o")
