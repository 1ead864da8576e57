"""The reference server's pictures: deterministic procedural images drawn with Pillow.

Nobody can tell the reference server from a real image API by its protocol behaviour, only by
its pictures. Every picture is a pure function of a `PaintSpec` (and, for edits and variations,
of the input images): a seeded two- or three-colour gradient, a handful of seeded shapes and the
prompt written on top. The seed comes from sha256, never from Python's `hash()`, so a picture is
the same in every process and on every run.

Partial images of a stream are the same picture at lower `detail`: rendered smaller (so blurred
once scaled up), with fewer shapes and without the text. `detail=1.0` is the final image.

Only Pillow is used, and only whole-image operations (no per-pixel Python loops), so a 1024x1024
picture takes a few tens of milliseconds and 3840x2160 well under a second and a half.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from .lettering import draw_caption, has_room_for_text
from .png import encode_png

OutputFormat = Literal["png", "jpeg", "webp"]

_RGB = tuple[int, int, int]
_ShapeKind = Literal["ellipse", "rectangle", "rounded", "polygon"]

# Part of every seed: change it when the pictures are changed on purpose.
_SEED_DOMAIN = "imagegen.painter/1"
_PNG_LEVEL = 3  # zlib level: fast, and still a fair size for gradients and flat shapes
_WEBP_METHOD = 4  # libwebp's default speed/size trade-off
_KEEP_LUT = [0] + [255] * 255  # mask alpha -> keep (255) or repaint (0)
_TRANSPOSES: tuple[Image.Transpose | None, ...] = (None, *Image.Transpose)


@dataclass(frozen=True)
class PaintSpec:
    """Everything a picture depends on (besides input images): the same spec, the same pixels.

    `prompt` may be empty (variations have none). `index` is which of the `n` images of one
    request (0-based). With `transparent`, the background is fully transparent (alpha 0) and only
    the shapes and the text are opaque.
    """

    prompt: str
    model: str
    width: int
    height: int
    index: int
    operation: str
    """The operation's name (it seeds the picture, so a variation differs from a generation)."""
    transparent: bool = False


@dataclass(frozen=True)
class _Shape:
    """One seeded shape, in units independent of the image size."""

    kind: _ShapeKind
    cx: float  # centre, as a fraction of the width
    cy: float  # centre, as a fraction of the height
    rx: float  # half extents, as fractions of the shorter edge
    ry: float
    angle: float  # polygons: rotation in radians
    radii: tuple[float, ...]  # polygons: each vertex's distance from the centre (1.0 = rx/ry)
    colour: _RGB
    alpha: int  # used when the background is opaque; shapes are opaque on a transparent one
    outlined: bool


def seed_of(spec: PaintSpec) -> int:
    """A stable 64-bit seed from every field of `spec`: sha256 of a canonical JSON encoding."""
    canonical = json.dumps(
        [
            _SEED_DOMAIN,
            spec.prompt,
            spec.model,
            spec.width,
            spec.height,
            spec.index,
            spec.operation,
            spec.transparent,
        ],
        ensure_ascii=True,  # every prompt encodes, even one with lone surrogates
        separators=(",", ":"),
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big")


def paint(spec: PaintSpec, detail: float = 1.0) -> Image.Image:
    """The picture for `spec`: an RGBA image of exactly `spec.width` x `spec.height`.

    A seeded gradient background, seeded shapes and (at full detail, on images at least 64 px on
    each side) the prompt, wrapped to the width and cut with an ellipsis when too long. `detail`
    in (0, 1] is for partial images: lower detail is rendered smaller and scaled up, with fewer
    shapes and no text, so successive partials visibly gain detail; 1.0 is the final image.
    """
    _check_size(spec)
    _check_detail(detail)
    return _painted(spec, detail, caption=True)


def _painted(spec: PaintSpec, detail: float, *, caption: bool) -> Image.Image:
    """`paint` without the checks, and with the caption left out when `caption` is false."""
    size = (spec.width, spec.height)
    rng = random.Random(seed_of(spec))
    palette = _palette(rng)
    gradient_kind = rng.randrange(3)
    transpose = rng.choice(_TRANSPOSES)
    shapes = [_random_shape(rng, palette) for _ in range(rng.randint(7, 12))]

    work = size if detail >= 1.0 else _reduced(size, 0.5 * detail * detail)
    shown = shapes if detail >= 1.0 else shapes[: max(1, math.ceil(len(shapes) * detail))]
    if spec.transparent:
        rgb = Image.new("RGB", work, (0, 0, 0))
        coverage = Image.new("L", work, 0)
        _draw_shapes(ImageDraw.Draw(rgb, "RGBA"), shown, work, opaque=True)
        _draw_shapes(ImageDraw.Draw(coverage), shown, work, opaque=True, ink=255)
    else:
        rgb = _gradient(palette, gradient_kind, transpose, work)
        coverage = Image.new("L", work, 255)
        _draw_shapes(ImageDraw.Draw(rgb, "RGBA"), shown, work, opaque=False)

    if caption and detail >= 1.0 and has_room_for_text(size, spec.prompt):
        draw_caption(rgb, coverage if spec.transparent else None, spec.prompt)

    image = rgb.convert("RGBA")
    image.putalpha(coverage)
    return image if work == size else _enlarged(image, size)


def edit(
    spec: PaintSpec, images: list[Image.Image], mask: Image.Image | None, detail: float = 1.0
) -> Image.Image:
    """The result of an edit: an RGBA image of exactly `spec.width` x `spec.height`.

    The first image is scaled to the target size. With a `mask` (the size of the first image; its
    alpha channel says where to repaint: 0 = repaint, anything else = keep), repainted pixels come
    from `paint(spec, detail)` and the others are the scaled first image's, unchanged. Without a
    mask the whole picture is the painting blended with the first image (with `transparent`, only
    where the painting has shapes: its background stays transparent). Every further image is
    shown as a thumbnail, inside the repainted area when there is a mask. Input images may be of
    any mode and size.
    """
    if not images:
        raise ValueError("an edit needs at least one input image")
    _check_size(spec)
    _check_detail(detail)
    size = (spec.width, spec.height)
    base = _fitted(_to_rgba(images[0]), size)
    extras = [_to_rgba(image) for image in images[1:]]
    if mask is None:
        # The caption goes on top of the blend, where it stays legible.
        painting = _painted(spec, detail, caption=False)
        blended = Image.blend(base, painting, 0.5)
        if spec.transparent:  # a transparent background, as asked: the blend shows in the shapes only
            blended.putalpha(painting.getchannel("A"))
        if extras:
            blended = _collage(blended, extras, _inset((0, 0, *size), 0.6))
        return _captioned(blended, spec.prompt) if detail >= 1.0 else blended
    painting = paint(spec, detail)
    alpha = _to_rgba(mask).getchannel("A")
    if alpha.size != size:
        alpha = alpha.resize(size, Image.Resampling.NEAREST)
    keep = alpha.point(_KEEP_LUT)
    if extras:
        repaint_box = ImageOps.invert(keep).getbbox() or (0, 0, *size)
        painting = _collage(painting, extras, _inset(repaint_box, 0.9))
    return Image.composite(base, painting, keep)


def vary(spec: PaintSpec, source: Image.Image, detail: float = 1.0) -> Image.Image:
    """A variation of `source`: an RGBA image of exactly `spec.width` x `spec.height`.

    The source, scaled to the target size, with a seeded hue and saturation shift, a faint seeded
    colour wash and a few translucent seeded shapes; different per `spec.index` yet clearly the
    same picture. The source's alpha is kept. Lower `detail` gives a softer picture with fewer
    shapes.
    """
    _check_size(spec)
    _check_detail(detail)
    size = (spec.width, spec.height)
    base = _fitted(_to_rgba(source), size)
    rng = random.Random(seed_of(spec))
    hue_turn = rng.choice((-1, 1)) * rng.uniform(6.0, 20.0)
    saturation = rng.uniform(0.85, 1.2)
    palette = _palette(rng)
    wash_kind = rng.randrange(3)
    wash_transpose = rng.choice(_TRANSPOSES)
    shapes = [_random_shape(rng, palette, scale=0.6) for _ in range(rng.randint(3, 5))]

    rgb = base.convert("RGB").convert("RGB", _colour_matrix(hue_turn, saturation))
    rgb = Image.blend(rgb, _gradient(palette, wash_kind, wash_transpose, size), 0.1)
    shown = shapes if detail >= 1.0 else shapes[: max(1, math.ceil(len(shapes) * detail))]
    _draw_shapes(ImageDraw.Draw(rgb, "RGBA"), shown, size, opaque=False, alpha_scale=0.3)
    if detail < 1.0:
        rgb = rgb.resize(_reduced(size, 0.25 + 0.5 * detail), Image.Resampling.BILINEAR)
        rgb = rgb.resize(size, Image.Resampling.BILINEAR)
    image = rgb.convert("RGBA")
    image.putalpha(base.getchannel("A"))
    return image


def encode(image: Image.Image, output_format: OutputFormat, compression: int | None = None) -> bytes:
    """`image` as PNG, JPEG or WebP bytes; the same image always gives the same bytes.

    PNG keeps alpha and ignores `compression`. JPEG has no alpha, so the image is laid on white
    first. For JPEG and WebP (which keeps alpha) `compression` is the quality, clamped to 1..100;
    None means 100, the best quality, and smaller values give smaller files.
    """
    if output_format == "png":
        return encode_png(_png_ready(image), _PNG_LEVEL)
    quality = 100 if compression is None else max(1, min(100, int(compression)))
    buffer = io.BytesIO()
    if output_format == "jpeg":
        _on_white(image).save(buffer, format="JPEG", quality=quality)
    elif output_format == "webp":
        rgba = image if image.mode in ("RGB", "RGBA") else _to_rgba(image)
        rgba.save(buffer, format="WEBP", quality=quality, method=_WEBP_METHOD)
    else:
        raise ValueError(f"unknown output format {output_format!r}: expected png, jpeg or webp")
    return buffer.getvalue()


# --- checks and conversions ------------------------------------------------------------------


def _check_size(spec: PaintSpec) -> None:
    if spec.width < 1 or spec.height < 1:
        raise ValueError(f"image size must be at least 1x1, not {spec.width}x{spec.height}")


def _check_detail(detail: float) -> None:
    if not 0.0 < detail <= 1.0:  # also rejects NaN
        raise ValueError(f"detail must be in (0, 1], not {detail!r}")


def _reduced(size: tuple[int, int], factor: float) -> tuple[int, int]:
    return (max(1, round(size[0] * factor)), max(1, round(size[1] * factor)))


def _enlarged(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A small RGBA rendering softened (premultiplied, so no dark fringes) and scaled up to `size`."""
    soft = image.convert("RGBa").filter(ImageFilter.GaussianBlur(0.8)).convert("RGBA")
    return soft.resize(size, Image.Resampling.BICUBIC)


def _to_rgba(image: Image.Image) -> Image.Image:
    """Any mode as RGBA; modes Pillow cannot convert directly (such as La) via their bands."""
    if image.mode == "RGBA":
        return image
    try:
        return image.convert("RGBA")
    except ValueError:
        bands = image.split()
        grey = bands[0].convert("L")
        names = image.getbands()
        alpha = bands[-1].convert("L") if names[-1] in ("A", "a") else Image.new("L", image.size, 255)
        return Image.merge("RGBA", (grey, grey, grey, alpha))


def _fitted(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image if image.size == size else image.resize(size, Image.Resampling.BICUBIC)


def _png_ready(image: Image.Image) -> Image.Image:
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        return image.convert("RGB")  # opaque: a quarter less to filter and compress, as real servers send
    return image if image.mode in ("RGBA", "RGB", "LA", "L") else _to_rgba(image)


def _on_white(image: Image.Image) -> Image.Image:
    """An RGB image: anything with transparency is composited onto white."""
    if image.mode == "RGB":
        return image
    rgba = _to_rgba(image)
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


# --- composition -----------------------------------------------------------------------------


def _hsv(hue: float, saturation: float, value: float) -> _RGB:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return (round(red * 255), round(green * 255), round(blue * 255))


def _colour_matrix(degrees: float, saturation: float) -> tuple[float, ...]:
    """The RGB matrix (as `Image.convert` takes it) turning hues by `degrees` and scaling saturation.

    The luminance-preserving matrices of CSS's hue-rotate() and saturate() filters, multiplied:
    one pass in C, where a round trip through HSV would take several.
    """
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    hue = (
        (
            0.213 + cos * 0.787 - sin * 0.213,
            0.715 - cos * 0.715 - sin * 0.715,
            0.072 - cos * 0.072 + sin * 0.928,
        ),
        (
            0.213 - cos * 0.213 + sin * 0.143,
            0.715 + cos * 0.285 + sin * 0.140,
            0.072 - cos * 0.072 - sin * 0.283,
        ),
        (
            0.213 - cos * 0.213 - sin * 0.787,
            0.715 - cos * 0.715 + sin * 0.715,
            0.072 + cos * 0.928 + sin * 0.072,
        ),
    )
    s = saturation
    saturate = (
        (0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s),
        (0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s),
        (0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s),
    )
    rows = [[sum(saturate[i][k] * hue[k][j] for k in range(3)) for j in range(3)] for i in range(3)]
    return tuple(value for row in rows for value in (*row, 0.0))


def _palette(rng: random.Random) -> list[_RGB]:
    """Three related colours, dark to light: the gradient's stops and the shapes' hues."""
    hue = rng.random()
    offsets = rng.choice(((0.0, 1 / 12, 1 / 6), (0.0, 0.5, 0.55), (0.0, 1 / 3, 2 / 3), (0.0, -1 / 12, 0.45)))
    return [
        _hsv(hue + offsets[0], rng.uniform(0.55, 0.95), rng.uniform(0.18, 0.4)),
        _hsv(hue + offsets[1], rng.uniform(0.45, 0.9), rng.uniform(0.5, 0.75)),
        _hsv(hue + offsets[2], rng.uniform(0.25, 0.7), rng.uniform(0.85, 1.0)),
    ]


def _gradient(
    palette: Sequence[_RGB], kind: int, transpose: Image.Transpose | None, size: tuple[int, int]
) -> Image.Image:
    """A three-colour gradient (linear, diagonal or radial), drawn at 256x256 and scaled to size."""
    if kind == 0:
        ramp = Image.linear_gradient("L")
    elif kind == 1:
        linear = Image.linear_gradient("L")
        ramp = Image.blend(linear, linear.transpose(Image.Transpose.ROTATE_90), 0.5)
    else:
        ramp = Image.radial_gradient("L")
    if transpose is not None:
        ramp = ramp.transpose(transpose)
    coloured = ImageOps.colorize(ramp, black=palette[0], white=palette[2], mid=palette[1])
    # Neighbouring pixels of the 256x256 ramp differ by a level or two: enlarging it without
    # interpolation looks the same and costs a tenth of bilinear at 1024x1024.
    return coloured.resize(size, Image.Resampling.NEAREST)


def _random_shape(rng: random.Random, palette: Sequence[_RGB], scale: float = 1.0) -> _Shape:
    kind: _ShapeKind = rng.choice(("ellipse", "rectangle", "rounded", "polygon"))
    rx = rng.uniform(0.06, 0.28) * scale
    ry = rx * rng.uniform(0.6, 1.5)
    radii: tuple[float, ...] = ()
    if kind == "polygon":
        corners = rng.randint(3, 7)
        if rng.random() < 0.3:  # a star
            radii = tuple(1.0 if i % 2 == 0 else 0.45 for i in range(2 * corners))
        else:
            radii = tuple(rng.uniform(0.75, 1.0) for _ in range(corners))
    hue, _, _ = colorsys.rgb_to_hsv(*(channel / 255 for channel in rng.choice(palette)))
    return _Shape(
        kind=kind,
        cx=rng.uniform(0.05, 0.95),
        cy=rng.uniform(0.05, 0.95),
        rx=rx,
        ry=ry,
        angle=rng.uniform(0.0, 2 * math.pi),
        radii=radii,
        colour=_hsv(hue + rng.uniform(-0.06, 0.06), rng.uniform(0.45, 0.95), rng.uniform(0.55, 1.0)),
        alpha=rng.randint(150, 235),
        outlined=rng.random() < 0.35,
    )


def _draw_shapes(
    draw: ImageDraw.ImageDraw,
    shapes: Sequence[_Shape],
    size: tuple[int, int],
    *,
    opaque: bool,
    ink: int | None = None,
    alpha_scale: float = 1.0,
) -> None:
    """Draw `shapes` scaled to `size`: in their colours, or all in `ink` (for a coverage mask)."""
    width, height = size
    unit = min(width, height)
    line = max(1, round(unit * 0.008))
    for shape in shapes:
        alpha = 255 if opaque else round(shape.alpha * alpha_scale)
        fill: int | tuple[int, ...] = ink if ink is not None else (*shape.colour, alpha)
        dark = tuple(channel * 2 // 5 for channel in shape.colour)
        outline: int | tuple[int, ...] | None = None
        if shape.outlined:
            outline = ink if ink is not None else (*dark, alpha)
        cx, cy = shape.cx * width, shape.cy * height
        rx, ry = shape.rx * unit, shape.ry * unit
        box = (cx - rx, cy - ry, cx + rx, cy + ry)
        if shape.kind == "ellipse":
            draw.ellipse(box, fill=fill, outline=outline, width=line)
        elif shape.kind == "rectangle":
            draw.rectangle(box, fill=fill, outline=outline, width=line)
        elif shape.kind == "rounded" and min(rx, ry) >= 2:
            draw.rounded_rectangle(box, radius=0.5 * min(rx, ry), fill=fill, outline=outline, width=line)
        elif shape.kind == "rounded":  # too small to round: Pillow refuses corners larger than the box
            draw.rectangle(box, fill=fill, outline=outline, width=line)
        else:
            step = 2 * math.pi / len(shape.radii)
            points = [
                (
                    cx + rx * r * math.cos(shape.angle + i * step),
                    cy + ry * r * math.sin(shape.angle + i * step),
                )
                for i, r in enumerate(shape.radii)
            ]
            draw.polygon(points, fill=fill, outline=outline, width=line)


def _inset(box: tuple[int, int, int, int], fraction: float) -> tuple[int, int, int, int]:
    """The centred part of `box` that is `fraction` of its width and height (at least 1x1)."""
    left, top, right, bottom = box
    width = max(1, round((right - left) * fraction))
    height = max(1, round((bottom - top) * fraction))
    x = left + (right - left - width) // 2
    y = top + (bottom - top - height) // 2
    return (x, y, x + width, y + height)


def _collage(
    canvas: Image.Image, images: Sequence[Image.Image], box: tuple[int, int, int, int]
) -> Image.Image:
    """`canvas` with `images` as thumbnails in a grid filling `box`, each keeping its aspect ratio."""
    result = canvas.copy()
    columns = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    left, top, right, bottom = box
    cell_width = (right - left) / columns
    cell_height = (bottom - top) / rows
    gap = round(0.04 * min(cell_width, cell_height))
    for number, image in enumerate(images):
        row, column = divmod(number, columns)
        x0, y0 = round(left + column * cell_width), round(top + row * cell_height)
        x1, y1 = round(left + (column + 1) * cell_width), round(top + (row + 1) * cell_height)
        room = (max(1, x1 - x0 - 2 * gap), max(1, y1 - y0 - 2 * gap))
        thumbnail = ImageOps.contain(image, room, Image.Resampling.BICUBIC)
        x = x0 + (x1 - x0 - thumbnail.width) // 2
        y = y0 + (y1 - y0 - thumbnail.height) // 2
        result.alpha_composite(thumbnail, (max(0, x), max(0, y)))
    return result


# --- the caption -----------------------------------------------------------------------------


def _captioned(image: Image.Image, prompt: str) -> Image.Image:
    """An RGBA `image` with the prompt written on it (opaque, whatever the alpha beneath)."""
    if not has_room_for_text(image.size, prompt):
        return image
    rgb, alpha = image.convert("RGB"), image.getchannel("A")
    draw_caption(rgb, alpha, prompt)
    result = rgb.convert("RGBA")
    result.putalpha(alpha)
    return result
