"""Uploaded images: read safely (type by bytes, bounded pixels), or a 400 that names the file."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from ..contract import FormFile
from .errors import invalid

# (magic, offset, format name as the rules write it)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"WEBP", 8, "webp"),
    (b"GIF8", 0, "gif"),
)
_GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


@dataclass(frozen=True)
class DecodedImage:
    """An uploaded image, decoded."""

    upload: FormFile
    format: str
    image: Image.Image

    @property
    def size_bytes(self) -> int:
        return len(self.upload.data)


def sniff_format(data: bytes) -> str | None:
    """`png`, `jpeg`, `webp` or `gif` from the first bytes; None for anything else."""
    for magic, offset, name in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (offset == 0 or data[:4] == b"RIFF"):
            return name
    return None


def decode_upload(upload: FormFile, max_pixels: int) -> DecodedImage:
    """Decode one uploaded file, refusing non-images, lying types and oversized pictures."""
    label = f"'{upload.field}' (file {upload.filename!r})" if upload.filename else f"'{upload.field}'"
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
            width, height = image.size
            if width * height > max_pixels:
                raise invalid(
                    f"{label} is {width}x{height} pixels; this server takes at most {max_pixels} pixels.",
                    param=upload.field,
                    code="image_too_large",
                )
            image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise invalid(
            f"{label} could not be read as an image.", param=upload.field, code="invalid_image"
        ) from None
    return DecodedImage(upload=upload, format=found, image=image)
