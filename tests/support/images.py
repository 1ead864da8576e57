"""Real image bytes for tests, made with Pillow."""

from __future__ import annotations

import io

from PIL import Image

# Bytes that break a multipart body whose boundary is the generator's fixed "+++".
BOUNDARY_TRAP = b'\r\n--+++\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhijacked\r\n--+++--\r\n'


def png_bytes(width: int = 64, height: int = 64, color: tuple[int, ...] = (200, 40, 40, 255)) -> bytes:
    """A real RGBA PNG of one colour."""
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_with_trap(width: int = 64, height: int = 64) -> bytes:
    """A valid PNG followed by bytes that look like a multipart boundary (readers ignore them)."""
    return png_bytes(width, height) + BOUNDARY_TRAP


def mask_bytes(width: int = 64, height: int = 64) -> bytes:
    """A PNG mask: transparent (alpha 0) left half, opaque right half."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, width // 2, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(width: int = 32, height: int = 32) -> bytes:
    """A real JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def webp_bytes(width: int = 32, height: int = 32) -> bytes:
    """A real WebP."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 120)).save(buffer, format="WEBP")
    return buffer.getvalue()
