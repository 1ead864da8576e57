"""The pieces of the image checks: strict base64, whole images, the mask tolerance, the requests
made from the rules (negatives and positives), and how a triggering value is described."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageFilter

from imagegen.conformance.bodies import build, square_png
from imagegen.conformance.execution import describe_value
from imagegen.conformance.images import kept_difference, read_image, strict_base64, transparency
from imagegen.conformance.negatives import ODD_SIZE, negatives, oversized_png
from imagegen.conformance.positives import positives
from imagegen.conformance.strategies import mask_for
from imagegen.contract import default_contract

from .support.images import jpeg_bytes, png_bytes

CONTRACT = default_contract()


def test_strict_base64_refuses_data_urls_whitespace_and_bad_padding() -> None:
    encoded = base64.b64encode(png_bytes()).decode()

    assert strict_base64(encoded)[0] == png_bytes()
    assert "data: URL" in (strict_base64("data:image/png;base64," + encoded)[1] or "")
    assert "whitespace" in (strict_base64(encoded[:20] + "\n" + encoded[20:])[1] or "")
    assert "not strict base64" in (strict_base64(encoded.rstrip("="))[1] or "")


def test_read_image_tells_a_whole_image_from_a_cut_one_and_from_html() -> None:
    png = png_bytes(30, 20)

    info, problem = read_image(png)
    assert problem is None
    assert info is not None
    assert (info.format, info.size) == ("png", "30x20")
    assert "cut short" in (read_image(png[: len(png) - 12])[1] or "")
    assert "not a PNG, JPEG, WebP or GIF" in (read_image(b"<!DOCTYPE html><html></html>")[1] or "")
    assert read_image(jpeg_bytes())[1] is None


def test_transparency_counts_fully_transparent_pixels() -> None:
    assert transparency(mask_for(64, 64)).transparent_pixels == 32 * 32
    assert not transparency(jpeg_bytes()).has_alpha


def _edited(source: bytes, size: int, repaint_everything: bool, blur: float = 0.0) -> bytes:
    """What an edit of `source` at `size` gives: the source kept (maybe blurred), or all repainted."""
    with Image.open(io.BytesIO(source)) as image:
        result = image.convert("RGBA").resize((size, size), Image.Resampling.BICUBIC)
    if repaint_everything:
        result = Image.new("RGBA", (size, size), (10, 200, 30, 255))
    if blur:
        result = result.filter(ImageFilter.GaussianBlur(blur))
    buffer = io.BytesIO()
    result.save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_mask_check_tolerates_resampling_and_catches_a_repainted_image() -> None:
    source, mask = square_png(), mask_for(64, 64)

    kept = kept_difference(_edited(source, 256, False, blur=0.8), source, mask)
    repainted = kept_difference(_edited(source, 256, True), source, mask)

    assert kept is not None
    assert kept.within_tolerance
    assert repainted is not None
    assert not repainted.within_tolerance
    assert kept.compared == repainted.compared > 256 * 256 // 4


def test_negatives_from_the_rules_are_what_the_contract_allows_and_the_model_refuses() -> None:
    operation = CONTRACT.operation("generations")
    base = build(CONTRACT, operation, "dall-e-2", CONTRACT.catalog.get("dall-e-2"))
    assert base is not None

    found = {
        negative.trigger: negative
        for negative in negatives(CONTRACT, base, CONTRACT.catalog.get("dall-e-2"), CONTRACT.catalog)
    }

    assert f"size={ODD_SIZE}" in found
    assert found[f"size={ODD_SIZE}"].params == {"size"}
    assert (
        found[f"size={ODD_SIZE}"].rule
        == "dall-e-2 does not take size=300x200; it takes 256x256, 512x512, 1024x1024."
    )
    assert "style=vivid" in found
    assert "n=11" not in found  # the contract itself refuses it: schemathesis' business
    assert any(trigger.startswith("prompt=") and "1001 characters" in trigger for trigger in found)


def test_gpt_negatives_cover_response_format_and_the_transparent_jpeg_constraint() -> None:
    rules = CONTRACT.catalog.get("gpt-image-1.5")
    base = build(CONTRACT, CONTRACT.operation("generations"), "gpt-image-1.5", rules)
    assert base is not None

    found = {negative.trigger: negative for negative in negatives(CONTRACT, base, rules, CONTRACT.catalog)}

    assert "response_format=url" in found
    assert found["background=transparent, output_format=jpeg"].params >= {"background", "output_format"}


def test_upload_negatives_include_an_oversized_image_and_a_mask_without_alpha() -> None:
    rules = CONTRACT.catalog.get("dall-e-2")
    base = build(CONTRACT, CONTRACT.operation("edits"), "dall-e-2", rules)
    assert base is not None
    assert base.media == "multipart/form-data"

    triggers = [negative.trigger for negative in negatives(CONTRACT, base, rules, CONTRACT.catalog)]

    assert "image: a text file (text/plain)" in triggers
    assert "image: PNG bytes declared image/jpeg" in triggers
    assert any(trigger.startswith("image: a PNG of 4,") for trigger in triggers)
    assert "mask: an RGB PNG, no alpha channel" in triggers
    assert len(oversized_png(4 * 1024 * 1024)) > 4 * 1024 * 1024


def test_positives_send_each_listed_value_and_a_stream_with_partial_images() -> None:
    rules = CONTRACT.catalog.get("gpt-image-1.5")
    base = build(CONTRACT, CONTRACT.operation("generations"), "gpt-image-1.5", rules)
    assert base is not None

    sent = [what for what, _ in positives(CONTRACT, base, rules, CONTRACT.catalog)]

    for value in (
        "size=1536x1024",
        "size=auto",
        "output_format=webp",
        "background=transparent",
        "quality=high",
    ):
        assert value in sent
    assert "stream=true, partial_images=2, n=2" in sent
    assert "response_format=url" not in sent  # refused by the model: a negative, not a positive


def test_a_triggering_value_is_described_as_text_with_its_unusual_characters() -> None:
    assert describe_value("x" * 4001).endswith("(4001 characters)")
    assert describe_value("snow \u2603") == "'snow \u2603', with U+2603 SNOWMAN"
    assert describe_value(b"\x89PNG") == "<file of 4 bytes>"
