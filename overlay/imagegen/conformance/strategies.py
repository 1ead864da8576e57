"""Hypothesis strategies for what schemathesis cannot invent: real image files.

Binary fields get real PNGs of varied sizes and modes (RGB, RGBA, grey, palette, grey with
alpha), square when the model wants square images. A mask drawn the same way would rarely match
its image, so the hooks replace each mask with one of the first image's size that has a
transparent area (see hooks.fit_masks): "rejects a valid upload" is then a real finding.
"""

from __future__ import annotations

import base64
import io
from functools import cache

from hypothesis import strategies as st

from ..contract import CustomSizes

BINARY_FORMAT = "binary"
DATA_URL_FORMAT = "imagegen-png-data-url"
CUSTOM_SIZE_FORMAT = "imagegen-custom-size"
_SMALLEST_CUSTOM = 24  # custom sizes are drawn among the smallest a model takes: quick to paint
_MODES = ("RGBA", "RGB", "L", "P", "LA")
_SQUARE = ((32, 32), (48, 48), (64, 64))
_ANY = ((64, 64), (64, 48), (48, 64), (80, 48))
_COLOURS = ((214, 69, 65), (46, 134, 193), (39, 174, 96), (241, 196, 15), (142, 68, 173))


@cache
def sample_pngs(square: bool) -> tuple[bytes, ...]:
    """Distinct PNG files in several sizes and modes (square ones only, if asked)."""
    from PIL import Image, ImageDraw

    files = []
    for index, (width, height) in enumerate(_SQUARE if square else _ANY):
        for offset, mode in enumerate(_MODES):
            colour = _COLOURS[(index + offset) % len(_COLOURS)]
            image = Image.new("RGBA", (width, height), (*colour, 255))
            ImageDraw.Draw(image).ellipse(
                (width // 4, height // 4, width - 2, height - 2), fill=(250, 250, 250, 200)
            )
            converted = image.convert(mode) if mode != "P" else image.convert("RGB").convert("P")
            buffer = io.BytesIO()
            converted.save(buffer, format="PNG")
            files.append(buffer.getvalue())
    return tuple(files)


def mask_for(width: int, height: int) -> bytes:
    """A mask of the given size: RGBA, opaque, with a fully transparent (repaint) rectangle."""
    from PIL import Image

    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (width // 4, height // 4, width * 3 // 4, height * 3 // 4))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


def png_files(square: bool = False) -> st.SearchStrategy[bytes]:
    """Real PNG files (bytes)."""
    return st.sampled_from(sample_pngs(square))


def png_data_urls(square: bool = False) -> st.SearchStrategy[str]:
    """Real PNGs as base64 `data:` URLs, for JSON edits."""
    return png_files(square).map(data_url)


def data_url(data: bytes) -> str:
    """`data:image/png;base64,...` for PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def custom_sizes(bounds: CustomSizes | None) -> tuple[str, ...]:
    """The smallest WIDTHxHEIGHT sizes within `bounds` (the rule engine's own test of them)."""
    if bounds is None:
        return ()
    step = bounds.multiple_of
    start = max(bounds.min_edge, step)
    start += (-start) % step
    edges = range(start, bounds.max_edge + 1, step)
    found = []
    for width in edges[:8]:
        for height in edges[:8]:
            if bounds.why_not(width, height) is None:
                found.append(f"{width}x{height}")
    return tuple(found[:_SMALLEST_CUSTOM])


def register_formats(*, square: bool = False, sizes: CustomSizes | None = None) -> None:
    """Make schemathesis draw binary, data-URL and custom-size fields from these strategies
    (process-wide)."""
    import schemathesis

    schemathesis.openapi.format(BINARY_FORMAT, png_files(square))
    schemathesis.openapi.format(DATA_URL_FORMAT, png_data_urls(square))
    drawn = custom_sizes(sizes) or ("64x64",)
    schemathesis.openapi.format(CUSTOM_SIZE_FORMAT, st.sampled_from(drawn))
