"""Hypothesis strategies for what schemathesis cannot invent: real image files.

Every binary field (images and masks alike) gets a real RGBA PNG of one fixed square size with
a transparent region, so images are valid for every model (dall-e-2 wants square PNGs), masks
match the first image's size, and "rejects a valid upload" is a real finding.
"""

from __future__ import annotations

import base64
import io
from functools import cache

from hypothesis import strategies as st
from PIL import Image, ImageDraw

PNG_SIZE = 64
BINARY_FORMAT = "binary"
DATA_URL_FORMAT = "imagegen-png-data-url"
_COLOURS = ((214, 69, 65), (46, 134, 193), (39, 174, 96), (241, 196, 15), (142, 68, 173), (30, 30, 30))


@cache
def sample_pngs() -> tuple[bytes, ...]:
    """A few distinct RGBA PNGs of PNG_SIZE x PNG_SIZE, each with a fully transparent corner."""
    pngs = []
    for index, colour in enumerate(_COLOURS):
        image = Image.new("RGBA", (PNG_SIZE, PNG_SIZE), (*colour, 255))
        draw = ImageDraw.Draw(image)
        corner = PNG_SIZE // 2
        draw.rectangle((0, 0, corner, corner), fill=(0, 0, 0, 0))
        draw.ellipse((corner - index * 3, corner, PNG_SIZE - 1, PNG_SIZE - 1), fill=(255, 255, 255, 200))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
    return tuple(pngs)


def png_files() -> st.SearchStrategy[bytes]:
    """Real PNG files (bytes)."""
    return st.sampled_from(sample_pngs())


def png_data_urls() -> st.SearchStrategy[str]:
    """Real PNGs as base64 `data:` URLs, for JSON edits."""
    return png_files().map(lambda data: "data:image/png;base64," + base64.b64encode(data).decode("ascii"))


def register_formats() -> None:
    """Make schemathesis draw binary fields and data-URL fields from these strategies (global)."""
    import schemathesis

    schemathesis.openapi.format(BINARY_FORMAT, png_files())
    schemathesis.openapi.format(DATA_URL_FORMAT, png_data_urls())
