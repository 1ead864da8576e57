"""The reference server's pictures: deterministic, exact in size, and visibly about their request."""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageFont, ImageStat

from imagegen.server import lettering as captions
from imagegen.server.lettering import line_width, wrapped
from imagegen.server.painter import OutputFormat, PaintSpec, edit, encode, paint, seed_of, vary

SPEC = PaintSpec(
    prompt="A yellow alpaca", model="gpt-image-1", width=128, height=128, index=0, operation="generations"
)
RED = (255, 0, 0)
BLUE = (0, 0, 255)


def difference(first: Image.Image, second: Image.Image) -> float:
    """Mean absolute difference of the RGB channels, 0 (identical) to 255."""
    stat = ImageStat.Stat(ImageChops.difference(first.convert("RGB"), second.convert("RGB")))
    return sum(stat.mean) / 3


def count(image: Image.Image, colour: tuple[int, ...]) -> int:
    """How many pixels of `image` (converted to the mode `colour` implies) are exactly `colour`."""
    converted = image.convert("RGBA" if len(colour) == 4 else "RGB")
    colours = converted.getcolors(converted.width * converted.height) or []
    return sum(number for number, value in colours if value == colour)


def lettering(image: Image.Image) -> Image.Image:
    """An L mask: 255 where `image` is white or nearly so (every channel at least 200).

    Only the caption is: the palette's lightest colour is at least 25 % saturated (so one channel
    stays at or below 191), and shapes and gradients only mix palette colours.
    """
    red, green, blue = image.convert("RGB").split()
    darkest = ImageChops.darker(ImageChops.darker(red, green), blue)
    return darkest.point([255 if level >= 200 else 0 for level in range(256)])


def sharp_edges(image: Image.Image) -> int:
    """How many pixels sit on a sharp edge (the image's own border, which the filter marks, excluded)."""
    edges = image.convert("L").filter(ImageFilter.FIND_EDGES).crop((1, 1, image.width - 1, image.height - 1))
    return count(
        edges.point([255 if level >= 24 else 0 for level in range(256)]).convert("RGB"), (255, 255, 255)
    )


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- seed ------------------------------------------------------------------------------------


def test_seed_is_pinned_so_pictures_are_the_same_in_every_process() -> None:
    # sha256 of a canonical encoding, never hash(): this value must not change between runs.
    assert seed_of(SPEC) == seed_of(replace(SPEC))
    assert seed_of(SPEC) == 6643374686763067484
    canonical = '["imagegen.painter/1","A yellow alpaca","gpt-image-1",128,128,0,"generations",false]'
    assert seed_of(SPEC) == int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:8], "big")
    assert 0 <= seed_of(replace(SPEC, prompt="\ud800 lone surrogate")) < 2**64


@pytest.mark.parametrize(
    "change",
    [
        {"prompt": "A yellow alpaca!"},
        {"model": "dall-e-3"},
        {"width": 129},
        {"height": 127},
        {"index": 1},
        {"operation": "edits"},
        {"transparent": True},
    ],
)
def test_seed_depends_on_every_field(change: dict[str, Any]) -> None:
    assert seed_of(replace(SPEC, **change)) != seed_of(SPEC)


# --- paint -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (63, 64), (64, 63), (300, 17), (17, 300), (640, 64)])
@pytest.mark.parametrize("transparent", [False, True])
@pytest.mark.parametrize("detail", [0.01, 0.5, 1.0])
def test_paint_gives_an_rgba_image_of_exactly_the_requested_size(
    size: tuple[int, int], transparent: bool, detail: float
) -> None:
    spec = replace(SPEC, prompt="a long prompt " * 50, width=size[0], height=size[1], transparent=transparent)
    image = paint(spec, detail)
    assert image.mode == "RGBA"
    assert image.size == size


def test_the_same_spec_gives_identical_pixels() -> None:
    assert paint(SPEC).tobytes() == paint(replace(SPEC)).tobytes()
    assert paint(SPEC, 0.5).tobytes() == paint(SPEC, 0.5).tobytes()


@pytest.mark.parametrize("other", ["A purple giraffe", "A yellow alpaca.", "a yellow alpaca"])
def test_different_prompts_give_visibly_different_pictures(other: str) -> None:
    assert difference(paint(SPEC), paint(replace(SPEC, prompt="A yellow alpaca"))) == 0
    assert difference(paint(SPEC), paint(replace(SPEC, prompt=other))) > 20


@pytest.mark.parametrize("change", [{"index": 1}, {"model": "dall-e-3"}, {"operation": "edits"}])
def test_each_image_of_a_request_and_each_model_and_operation_look_different(change: dict[str, Any]) -> None:
    assert difference(paint(SPEC), paint(replace(SPEC, **change))) > 20


def test_the_prompt_is_written_in_white_along_the_bottom() -> None:
    spec = replace(SPEC, width=256, height=256)
    written = lettering(paint(spec)).getbbox()
    assert written is not None
    left, top, right, bottom = written
    assert top > 128  # the bottom half
    assert 0 < left < 32
    assert right < 256
    assert bottom < 256
    assert lettering(paint(replace(spec, prompt="   "))).getbbox() is None


def test_a_long_prompt_is_wrapped_onto_several_lines_within_the_width() -> None:
    spec = replace(SPEC, width=256, height=256)
    short = lettering(paint(spec)).getbbox()
    long = lettering(paint(replace(spec, prompt="An alpaca on a beach " * 200))).getbbox()
    assert short is not None
    assert long is not None
    assert long[3] - long[1] > 2 * (short[3] - short[1])  # more than one line
    assert long[2] <= 256 - short[0] + 2  # the right margin is kept
    assert long[1] > 256 * 0.5  # cut (with an ellipsis), not spilling over the picture


def test_a_single_huge_word_is_cut_to_fit() -> None:
    spec = replace(SPEC, prompt="x" * 32_000, width=1024, height=64)
    written = lettering(paint(spec)).getbbox()
    assert written is not None
    assert written[2] < 1024


def test_a_prompt_too_long_for_its_lines_ends_with_an_ellipsis() -> None:
    font = ImageFont.load_default(size=20)
    lines = wrapped("An alpaca on a beach " * 1000, 20, 300, 3)
    assert len(lines) == 3
    assert lines[-1].endswith("\u2026")
    assert all(line_width(20, line) <= 300 for line in lines)
    assert all(abs(font.getlength(line) - line_width(20, line)) < 3 for line in lines)  # kerning only
    assert wrapped("An alpaca on a beach", 20, 300, 3) == ["An alpaca on a beach"]


def test_a_caption_from_cached_words_is_the_caption_rendered_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = replace(SPEC, prompt="A lighthouse at dusk, seagulls, waves", width=256, height=256)
    monkeypatch.setattr(captions, "_CACHE", captions._WordCache(1 << 20, 1000))
    fresh = paint(spec).tobytes()
    assert paint(spec).tobytes() == fresh  # every word now comes from the cache
    monkeypatch.setattr(captions, "_CACHE", captions._WordCache(1, 1))  # keeps one word at most
    assert paint(spec).tobytes() == fresh


def test_the_word_cache_is_bounded_in_bytes() -> None:
    cache = captions._WordCache(50_000, 10)
    for number in range(200):
        cache.masks(40, f"word{number}")
        cache.width(40, f"word{number}")
    assert cache._bytes <= 50_000
    assert 1 < len(cache._masks) < 200
    assert len(cache._widths) <= 10
    assert cache.masks(40, "word199") is cache.masks(40, "word199")  # the newest is kept


@pytest.mark.parametrize("size", [(63, 200), (200, 63), (16, 16)])
def test_images_too_small_for_text_have_none(size: tuple[int, int]) -> None:
    spec = replace(SPEC, prompt="Hi", width=size[0], height=size[1])
    assert lettering(paint(spec)).getbbox() is None
    assert lettering(paint(replace(spec, width=64, height=64))).getbbox() is not None


@pytest.mark.parametrize("size", [(16, 16), (16, 48), (48, 16), (80, 80)])
@pytest.mark.parametrize("transparent", [False, True])
def test_small_shapes_are_painted_at_every_detail(size: tuple[int, int], transparent: bool) -> None:
    """gpt-image-2 takes sides from 16 pixels; a rounded shape a few pixels wide once made Pillow
    refuse to draw (an empty prompt at 80x80, half detail, was one)."""
    for prompt in ("", "a cat", "x" * 50):
        spec = PaintSpec(prompt, "gpt-image-2", *size, 0, "generations", transparent=transparent)
        for detail in (0.25, 0.5, 1.0):
            assert paint(spec, detail).size == size


def test_a_transparent_background_has_alpha_zero_and_opaque_shapes() -> None:
    image = paint(replace(SPEC, transparent=True))
    alpha = image.getchannel("A")
    total = image.width * image.height
    transparent = count(alpha.convert("RGB"), (0, 0, 0))
    opaque = count(alpha.convert("RGB"), (255, 255, 255))
    assert transparent > total // 10
    assert opaque > total // 10
    assert paint(SPEC).getchannel("A").getextrema() == (255, 255)


def test_partial_images_gain_detail_until_the_final_one() -> None:
    spec = replace(SPEC, width=256, height=256)
    first, second, final = (paint(spec, detail) for detail in (0.33, 0.66, 1.0))
    assert final.tobytes() == paint(spec).tobytes()
    assert difference(first, second) > 2
    assert difference(first, final) > difference(second, final) > 2
    assert sharp_edges(first) <= sharp_edges(second) < sharp_edges(final) // 4  # soft until the end
    assert lettering(first).getbbox() is None  # the text comes last
    assert lettering(second).getbbox() is None
    assert lettering(final).getbbox() is not None


@pytest.mark.parametrize("detail", [0.0, -0.5, 1.01, math.nan])
def test_detail_outside_zero_to_one_is_refused(detail: float) -> None:
    with pytest.raises(ValueError, match="detail"):
        paint(SPEC, detail)


@pytest.mark.parametrize("size", [(0, 10), (10, 0), (-1, 5)])
def test_an_empty_size_is_refused(size: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="size"):
        paint(replace(SPEC, width=size[0], height=size[1]))


def test_the_largest_size_is_painted_and_encoded_exactly() -> None:
    spec = replace(SPEC, width=3840, height=2160)
    data = encode(paint(spec), "png")
    assert decoded(data).size == (3840, 2160)


# --- encode ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output_format", "pillow_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")]
)
def test_encoding_is_byte_identical_for_the_same_image(
    output_format: OutputFormat, pillow_format: str
) -> None:
    first = encode(paint(SPEC), output_format)
    again = encode(paint(replace(SPEC)), output_format)
    assert first == again
    image = decoded(first)
    assert image.format == pillow_format
    assert image.size == (128, 128)


def test_png_keeps_every_pixel_including_alpha() -> None:
    image = paint(replace(SPEC, transparent=True))
    assert decoded(encode(image, "png")).convert("RGBA").tobytes() == image.tobytes()


def test_webp_keeps_alpha() -> None:
    image = paint(replace(SPEC, transparent=True))
    webp = decoded(encode(image, "webp"))
    assert webp.mode == "RGBA"
    assert webp.getchannel("A").getextrema() == (0, 255)
    assert difference(webp.getchannel("A"), image.getchannel("A")) < 1


def test_jpeg_is_rgb_with_transparency_laid_on_white() -> None:
    image = paint(replace(SPEC, transparent=True))
    jpeg = decoded(encode(image, "jpeg"))
    assert jpeg.mode == "RGB"
    alpha = image.getchannel("A")
    background = next((x, y) for y in range(128) for x in range(128) if alpha.getpixel((x, y)) == 0)
    pixel = jpeg.getpixel(background)
    assert isinstance(pixel, tuple)
    assert min(pixel) > 240


@pytest.mark.parametrize("output_format", ["jpeg", "webp"])
def test_lower_compression_value_gives_a_smaller_file(output_format: OutputFormat) -> None:
    image = paint(replace(SPEC, width=256, height=256))
    low, high, best = (encode(image, output_format, value) for value in (10, 80, None))
    assert len(low) < len(high) < len(best)
    assert encode(image, output_format, 100) == best
    assert encode(image, output_format, 1000) == best
    assert encode(image, output_format, 0) == encode(image, output_format, 1)


def test_png_ignores_compression() -> None:
    image = paint(SPEC)
    assert encode(image, "png", 5) == encode(image, "png")


def test_an_unknown_output_format_is_refused() -> None:
    with pytest.raises(ValueError, match="gif"):
        encode(paint(SPEC), "gif")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "LA", "CMYK", "I;16"])
def test_any_image_mode_can_be_encoded(mode: str) -> None:
    image = paint(SPEC).convert("RGB").convert(mode)
    formats: list[OutputFormat] = ["png", "jpeg", "webp"]
    for output_format in formats:
        assert decoded(encode(image, output_format)).size == (128, 128)


# --- edit ------------------------------------------------------------------------------------

EDIT = replace(SPEC, prompt="Add a red hat", operation="edits")


def left_half_mask(width: int = 128, height: int = 128) -> Image.Image:
    """Alpha 0 (repaint) on the left half, opaque (keep) on the right half."""
    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, width // 2, height))
    return mask


def test_an_edit_with_a_mask_keeps_the_opaque_part_and_repaints_the_rest() -> None:
    original = paint(replace(SPEC, prompt="The original"))
    result = edit(EDIT, [original], left_half_mask())
    kept = (64, 0, 128, 128)
    assert result.crop(kept).tobytes() == original.crop(kept).tobytes()
    repainted = (0, 0, 64, 128)
    assert difference(result.crop(repainted), original.crop(repainted)) > 20


def test_an_edit_mask_scaled_with_its_image_still_keeps_the_same_part() -> None:
    original = Image.new("RGB", (64, 64), (10, 200, 90))
    result = edit(replace(EDIT, width=128, height=96), [original], left_half_mask(64, 64))
    assert result.size == (128, 96)
    assert count(result.crop((64, 0, 128, 96)), (10, 200, 90)) == 64 * 96
    assert count(result.crop((0, 0, 64, 96)), (10, 200, 90)) == 0


def test_every_further_image_appears_inside_the_repainted_area() -> None:
    original = paint(replace(SPEC, prompt="The original"))
    red = Image.new("RGB", (40, 30), RED)
    blue = Image.new("RGB", (30, 50), BLUE).convert("P")
    result = edit(EDIT, [original, red, blue], left_half_mask())
    assert count(result.crop((0, 0, 64, 128)), RED) > 200
    assert count(result.crop((0, 0, 64, 128)), BLUE) > 200
    assert count(result.crop((64, 0, 128, 128)), RED) == count(result.crop((64, 0, 128, 128)), BLUE) == 0


def test_an_edit_without_a_mask_blends_the_new_picture_with_the_first_image() -> None:
    original = paint(replace(SPEC, prompt="The original"))
    result = edit(EDIT, [original], None)
    fresh = paint(EDIT)
    assert difference(result, original) > 10
    assert difference(result, original) < difference(fresh, original) * 0.75
    assert difference(result, edit(replace(EDIT, prompt="Add a blue scarf"), [original], None)) > 5


def test_an_edit_without_a_mask_keeps_a_transparent_background_transparent() -> None:
    spec = replace(SPEC, operation="edits", transparent=True)
    alpha = edit(spec, [Image.new("RGB", (64, 64), RED)], None).getchannel("A")
    assert alpha.getextrema() == (0, 255)
    assert alpha.tobytes() == paint(spec).getchannel("A").tobytes()  # the shapes and the caption show
    assert edit(replace(spec, transparent=False), [Image.new("RGB", (64, 64), RED)], None).getchannel(
        "A"
    ).getextrema() == (255, 255)


def test_an_edit_without_a_mask_shows_every_further_image() -> None:
    original = paint(replace(SPEC, prompt="The original"))
    result = edit(EDIT, [original, Image.new("RGB", (50, 50), RED), Image.new("RGB", (50, 50), BLUE)], None)
    assert count(result, RED) > 200
    assert count(result, BLUE) > 200


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "I", "F", "I;16", "CMYK", "La"])
def test_an_edit_takes_images_of_any_mode_and_size(mode: str) -> None:
    source = paint(replace(SPEC, width=37, height=91)).convert("RGB").convert(mode)
    result = edit(replace(EDIT, width=80, height=48), [source, source], left_half_mask(37, 91).convert("LA"))
    assert result.mode == "RGBA"
    assert result.size == (80, 48)


def test_an_edit_is_deterministic_and_follows_partial_detail() -> None:
    images = [paint(replace(SPEC, prompt="The original")), Image.new("RGB", (20, 20), RED)]
    final = edit(EDIT, images, left_half_mask())
    assert final.tobytes() == edit(EDIT, images, left_half_mask(), 1.0).tobytes()
    assert difference(edit(EDIT, images, left_half_mask(), 0.33), final) > 2


def test_an_edit_needs_an_image() -> None:
    with pytest.raises(ValueError, match="image"):
        edit(EDIT, [], None)


# --- vary ------------------------------------------------------------------------------------

VARY = replace(SPEC, prompt="", model="dall-e-2", operation="variations")


def test_variations_differ_per_index_yet_stay_close_to_their_source() -> None:
    source = paint(replace(SPEC, prompt="The source"))
    unrelated = paint(replace(SPEC, prompt="Something else entirely"))
    first, second = vary(VARY, source), vary(replace(VARY, index=1), source)
    assert difference(first, second) > 5
    for variation in (first, second):
        assert difference(variation, source) > 3
        assert difference(variation, source) < 0.5 * difference(variation, unrelated)


def test_a_variation_is_deterministic_and_scaled_to_the_requested_size() -> None:
    source = paint(replace(SPEC, width=50, height=70)).convert("P")
    spec = replace(VARY, width=96, height=64)
    variation = vary(spec, source)
    assert variation.mode == "RGBA"
    assert variation.size == (96, 64)
    assert variation.tobytes() == vary(spec, source).tobytes()


def test_a_variation_keeps_the_source_transparency() -> None:
    source = paint(replace(SPEC, transparent=True))
    assert vary(VARY, source).getchannel("A").tobytes() == source.getchannel("A").tobytes()


def test_a_partial_variation_is_softer_than_the_final_one() -> None:
    source = paint(replace(SPEC, prompt="The source"))
    final = vary(VARY, source)
    assert final.tobytes() == vary(VARY, source, 1.0).tobytes()
    assert difference(vary(VARY, source, 0.33), final) > 1
