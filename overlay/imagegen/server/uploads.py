"""Uploaded images: read safely (type by bytes, bounded pixels per image and per request), or an
error that names the file.

Reading is in two steps so that a request is refused before anything is decoded: `open_upload`
reads only each file's header (its type, size and mode), `check_pixel_budget` adds up the
pixels of all of them, and `OpenedImage.decode` makes the pixels only when painting needs them,
afresh each time, so that decoded pixels live only as long as the pool's task that paints.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from ..contract import FormFile
from ..imageinfo import sniff_format
from .errors import ApiError, invalid

_GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream"}
_UNREADABLE = (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning)


@dataclass(frozen=True)
class OpenedImage:
    """An uploaded image whose header was read: its type, size and mode, not its pixels."""

    upload: FormFile
    format: str
    width: int
    height: int
    mode: str
    has_alpha: bool

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def size_bytes(self) -> int:
        return len(self.upload.data)

    @property
    def label(self) -> str:
        return _label(self.upload)

    def decode(self) -> Image.Image:
        """The pixels, decoded now (a new image each call); a 400 naming the file if they cannot be."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(self.upload.data))
                image.load()
        except _UNREADABLE:
            raise _unreadable(self.upload) from None
        return image


def open_upload(upload: FormFile, max_pixels: int) -> OpenedImage:
    """Read one file's header, refusing non-images, lying types and oversized pictures."""
    label = _label(upload)
    found = sniff_format(upload.data)
    if found is None:
        raise invalid(f"{label} is not a PNG, JPEG or WebP image.", param=upload.field, code="invalid_image")
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if (
        declared not in _GENERIC_TYPES
        and declared != f"image/{found}"
        and not (found == "jpeg" and declared == "image/jpg")
    ):
        raise invalid(
            f"{label} is declared as {declared} but its bytes are {found.upper()}.",
            param=upload.field,
            code="invalid_image_format",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(upload.data))
    except _UNREADABLE:
        raise _unreadable(upload) from None
    width, height = image.size
    if width * height > max_pixels:
        raise invalid(
            f"{label} is {width}x{height} pixels; this server takes at most {max_pixels} pixels.",
            param=upload.field,
            code="image_too_large",
        )
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return OpenedImage(upload, found, width, height, image.mode, has_alpha)


def check_pixel_budget(opened: Sequence[OpenedImage], max_pixels: int) -> None:
    """A 413 naming the file that takes the request's images past `max_pixels` in all."""
    total = 0
    for item in opened:
        total += item.pixels
        if total > max_pixels:
            every = sum(each.pixels for each in opened)
            raise ApiError(
                413,
                f"The {len(opened)} images of this request have {every} pixels in all; this server "
                f"decodes at most {max_pixels} pixels per request (exceeded at {item.label}). "
                "Send fewer or smaller images.",
                param=item.upload.field,
                code="too_many_pixels",
            )


def _label(upload: FormFile) -> str:
    return f"'{upload.field}' (file {upload.filename!r})" if upload.filename else f"'{upload.field}'"


def _unreadable(upload: FormFile) -> ApiError:
    return invalid(
        f"{_label(upload)} could not be read as an image.", param=upload.field, code="invalid_image"
    )
