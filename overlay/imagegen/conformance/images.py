"""What the bytes of an answer's image are: strict base64, a whole PNG/JPEG/WebP/GIF, its pixels.

Header facts (format, size, alpha) come from `imagegen.imageinfo`, which reads a few bytes; a file
is "whole" when its format's end marker is where it should be (PNG's IEND chunk, JPEG's EOI, the
RIFF length of WebP, GIF's trailer), so a cut-short image is caught without decoding it. Pixels
(transparency, what an edit kept) are decoded with Pillow, and only by the checks that need them.

The mask keep-area comparison and its tolerance are documented on `kept_difference`.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..imageinfo import ImageInfo, image_info

if TYPE_CHECKING:
    from PIL.Image import Image as PillowImage

_FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "gif": "GIF"}
_PNG_END = b"IEND\xaeB`\x82"


def format_name(image_format: str) -> str:
    """`png` -> `PNG`, as messages write formats."""
    return _FORMAT_NAMES.get(image_format, image_format.upper())


_SPACE = re.compile(r"\s")


def strict_base64(text: str) -> tuple[bytes | None, str | None]:
    """The bytes `text` encodes in strict base64 (standard alphabet, padded, nothing else), or None
    and what is wrong with it."""
    if text.startswith("data:"):
        header = text.partition(",")[0][:60]
        return None, f"is a data: URL ({header},...), not the base64 of the file alone"
    try:
        return base64.b64decode(text, validate=True), None
    except (binascii.Error, ValueError) as error:
        # Looked for only once the decoding failed: a scan of a whole image's text is costly.
        if _SPACE.search(text):
            return None, "holds whitespace or line breaks, which strict base64 does not"
        return None, f"is not strict base64 ({error})"


def read_image(data: bytes) -> tuple[ImageInfo | None, str | None]:
    """The header facts of a whole image, or None and what is wrong with the bytes."""
    info = image_info(data)
    if info is None:
        start = data[:12].hex(" ") if data else "nothing"
        return None, f"is not a PNG, JPEG, WebP or GIF image (its first bytes are {start})"
    if not _whole(data, info.format):
        return None, f"is a {format_name(info.format)} cut short ({len(data)} bytes, without its end marker)"
    return info, None


def _whole(data: bytes, image_format: str) -> bool:
    if image_format == "png":
        return data.rstrip(b"\x00").endswith(_PNG_END)
    if image_format == "jpeg":
        return data.rstrip(b"\x00").endswith(b"\xff\xd9")
    if image_format == "webp":
        return len(data) >= int.from_bytes(data[4:8], "little") + 8
    if image_format == "gif":
        return data.rstrip(b"\x00").endswith(b";")
    return True


@dataclass(frozen=True)
class Transparency:
    """Whether an image has an alpha channel, and how many of its pixels are fully transparent."""

    has_alpha: bool
    transparent_pixels: int
    pixels: int


def transparency(data: bytes) -> Transparency:
    """Decode `data` and count its fully transparent pixels (alpha 0)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
        pixels = image.width * image.height
        if not has_alpha:
            return Transparency(False, 0, pixels)
        alpha = image.convert("RGBA").getchannel("A")
    histogram = alpha.histogram()
    return Transparency(True, histogram[0], pixels)


# Kept pixels may differ by this much on average (0-255 per channel), and this share of them by
# more than OUTLIER_DIFFERENCE: room for lossy output (JPEG, WebP) and for resampling the source
# with another filter than ours, but not for a repainted area.
MASK_MEAN_TOLERANCE = 12.0
OUTLIER_DIFFERENCE = 64
MASK_OUTLIER_SHARE = 0.05


@dataclass(frozen=True)
class KeptDifference:
    """How far an edit's output is from its first image where the mask keeps the image."""

    mean: float
    """Mean absolute difference per channel, 0-255, over the compared pixels."""
    outliers: float
    """The share of compared pixels with a channel off by more than OUTLIER_DIFFERENCE."""
    compared: int
    """How many pixels were compared."""

    @property
    def within_tolerance(self) -> bool:
        return self.mean <= MASK_MEAN_TOLERANCE and self.outliers <= MASK_OUTLIER_SHARE


def kept_difference(output: bytes, first_image: bytes, mask: bytes) -> KeptDifference | None:
    """Compare `output` with `first_image` where `mask` keeps it (alpha 255); None when nothing
    can be compared (no pixel kept, or an image that does not decode).

    The first image is scaled to the output's size (bicubic) and both are laid on white (so
    transparency and JPEG's lack of it compare alike). The kept area is the mask's alpha-255
    pixels, shrunk at the mask's own resolution by the reach of bicubic resampling (2 source
    pixels, more when the source is scaled down) plus one, then scaled to the output's size: the
    pixels at the edge of a repainted area, which any resampling blends, are not compared.
    """
    from PIL import Image, ImageChops, ImageFilter, ImageStat

    try:
        with (
            Image.open(io.BytesIO(output)) as produced,
            Image.open(io.BytesIO(first_image)) as source,
            Image.open(io.BytesIO(mask)) as drawn,
        ):
            size = produced.size
            alpha = drawn.convert("RGBA").getchannel("A")
            if alpha.size != source.size:
                return None  # the mask size probe judges this; nothing to compare here
            shrink = max(1.0, source.width / size[0], source.height / size[1])
            reach = 2 * math.ceil(2 * shrink) + 3  # a MinFilter size: odd, covering the reach
            keep = alpha.point([0] * 255 + [255]).filter(ImageFilter.MinFilter(reach))
            keep = keep.resize(size, Image.Resampling.NEAREST)
            expected = _on_white(source.convert("RGBA").resize(size, Image.Resampling.BICUBIC))
            actual = _on_white(produced.convert("RGBA"))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    compared = keep.histogram()[255]
    if not compared:
        return None
    difference = ImageChops.difference(expected, actual)
    mean = sum(ImageStat.Stat(difference, mask=keep).mean) / 3
    worst = difference.convert("RGB").split()
    far = ImageChops.lighter(ImageChops.lighter(worst[0], worst[1]), worst[2])
    far = far.point([0] * (OUTLIER_DIFFERENCE + 1) + [255] * (255 - OUTLIER_DIFFERENCE))
    outliers = ImageStat.Stat(far, mask=keep).mean[0] / 255
    return KeptDifference(mean, outliers, compared)


def _on_white(image: PillowImage) -> PillowImage:
    from PIL import Image

    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, image).convert("RGB")


__all__ = [
    "MASK_MEAN_TOLERANCE",
    "MASK_OUTLIER_SHARE",
    "OUTLIER_DIFFERENCE",
    "KeptDifference",
    "Transparency",
    "format_name",
    "kept_difference",
    "read_image",
    "strict_base64",
    "transparency",
]
