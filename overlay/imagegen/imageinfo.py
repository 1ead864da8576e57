"""An image's format, size and alpha channel, read from its headers without decoding pixels.

Only the few bytes that say these things are read (segments and chunks in between are skipped by
their lengths), so a 50 MB file costs as little as a tiny one, and no imaging library is needed.
Damaged or cut-short headers give None, never an exception.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

ImageFormat = Literal["png", "jpeg", "webp", "gif"]

CONTENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}
EXTENSIONS: dict[str, str] = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "gif": ".gif"}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
"""The eight bytes every PNG file starts with."""
_PNG_COLOUR_TYPES = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
# SOF0..SOF15 carry the frame header; 0xC4 (DHT), 0xC8 (JPG) and 0xCC (DAC) share the range.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length: TEM and RST0..RST7 (SOI is handled before the scan).
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


@dataclass(frozen=True)
class ImageInfo:
    """What the headers of an image say: its format, size in pixels and whether it has alpha."""

    format: ImageFormat
    width: int
    height: int
    has_alpha: bool

    @property
    def size(self) -> str:
        """The size as WIDTHxHEIGHT, the way requests and messages write it."""
        return f"{self.width}x{self.height}"


def sniff_format(data: bytes) -> ImageFormat | None:
    """`png`, `jpeg`, `webp` or `gif` by the magic bytes at the start; None for anything else."""
    if data[:8] == PNG_SIGNATURE:
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def image_info(data: bytes) -> ImageInfo | None:
    """Format, size and alpha of a PNG, JPEG, WebP or GIF; None when the headers cannot be read."""
    try:
        info = _read(sniff_format(data), data)
    except (struct.error, IndexError, ValueError):  # a header cut short or out of range
        return None
    if info is None or info.width < 1 or info.height < 1:
        return None
    return info


def _read(found: ImageFormat | None, data: bytes) -> ImageInfo | None:
    match found:
        case "png":
            return _png(data)
        case "jpeg":
            return _jpeg(data)
        case "webp":
            return _webp(data)
        case "gif":
            return _gif(data)
    return None


def _png(data: bytes) -> ImageInfo | None:
    length, kind, width, height, depth, colour = struct.unpack_from(">I4sIIBB", data, 8)
    if kind != b"IHDR" or length != 13 or depth not in _PNG_COLOUR_TYPES.get(colour, ()):
        return None
    has_alpha = colour in (4, 6) or _png_has_trns(data, 8 + 12 + length)
    return ImageInfo("png", width, height, has_alpha)


def _png_has_trns(data: bytes, position: int) -> bool:
    """Whether a tRNS chunk comes before the first IDAT; raises if the chunks end before IDAT."""
    while True:
        length, kind = struct.unpack_from(">I4s", data, position)
        if kind == b"IDAT":
            return False
        if kind == b"tRNS":
            return True
        if kind == b"IEND" or length > 0x7FFFFFFF:
            raise ValueError("no image data")
        position += 12 + length


def _jpeg(data: bytes) -> ImageInfo | None:
    position = 2  # after SOI
    while True:
        position = data.index(b"\xff", position)  # like libjpeg, step over junk between segments
        while data[position] == 0xFF:  # fill bytes
            position += 1
        marker = data[position]
        position += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0x00, 0xD8, 0xD9, 0xDA):  # no marker, SOI, EOI or SOS before any frame header
            return None
        (length,) = struct.unpack_from(">H", data, position)
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, position + 3)
            return ImageInfo("jpeg", width, height, False)
        position += length


def _webp(data: bytes) -> ImageInfo | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        frame_tag, start_code, width, height = struct.unpack_from("<3s3sHH", data, 20)
        if frame_tag[0] & 1 or start_code != b"\x9d\x01\x2a":  # a key frame starts every image
            return None
        return ImageInfo("webp", width & 0x3FFF, height & 0x3FFF, False)
    if chunk == b"VP8L":
        signature, bits = struct.unpack_from("<BI", data, 20)
        if signature != 0x2F or bits >> 29:  # version 0 only
            return None
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return ImageInfo("webp", width, height, bool(bits >> 28 & 1))
    if chunk == b"VP8X":
        flags, width, height = struct.unpack_from("<B3x3s3s", data, 20)
        width = int.from_bytes(width, "little") + 1
        height = int.from_bytes(height, "little") + 1
        return ImageInfo("webp", width, height, bool(flags & 0x10))
    return None


def _gif(data: bytes) -> ImageInfo | None:
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    position = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    return ImageInfo("gif", width, height, _gif_transparent(data, position))


def _gif_transparent(data: bytes, position: int) -> bool:
    """Whether a graphic control extension before the first image sets a transparent colour."""
    while True:
        introducer = data[position]
        if introducer == 0x2C:  # image descriptor: the first frame starts
            return False
        if introducer != 0x21:  # not an extension: trailer or damage, with no image before it
            raise ValueError("no image")
        label, size = data[position + 1], data[position + 2]
        if label == 0xF9 and size >= 4 and data[position + 3] & 1:
            return True
        position += 2
        while data[position]:  # sub-blocks, each led by its length, up to an empty one
            position += data[position] + 1
        position += 1
