"""Downsampling images with Pillow, refusing decompression bombs before decoding a pixel."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from agyn.kit.errors import UnsupportedMediaType
from agyn.media_proxy.errors import MediaTooLarge

KEPT_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
"""Formats written back as themselves; any other (GIF, BMP, TIFF ...) becomes PNG."""


def downsample(data: bytes, size: int, max_pixels: int) -> tuple[bytes, str] | None:
    """`data` scaled to fit `size`×`size` (aspect kept), and its type; None when it already fits.
    Runs in a worker thread: decoding is CPU work."""
    try:
        # the header alone: dimensions are known before a pixel is decoded
        with Image.open(io.BytesIO(data)) as opened:
            image: Image.Image = opened
            width, height = image.size
            if width * height > max_pixels:
                raise MediaTooLarge(f"the image is {width}×{height} pixels, more than the {max_pixels} the media "
                                    "proxy decodes")
            if width <= size and height <= size:
                return None
            source_format = image.format or ""
            image.draft(image.mode, (size, size))  # JPEG decodes at a reduced scale directly
            image.thumbnail((size, size), Image.Resampling.LANCZOS)
            output_format = source_format if source_format in KEPT_FORMATS else "PNG"
            if output_format == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, output_format)
            return out.getvalue(), KEPT_FORMATS[output_format]
    except Image.DecompressionBombError as error:
        raise MediaTooLarge(f"the image is too large to decode: {error}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UnsupportedMediaType(f"the image cannot be decoded to resize it: {error}") from None
