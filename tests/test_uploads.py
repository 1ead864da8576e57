"""Images given to edits and variations: read from every kind of input, then checked before sending."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imagegen.checks import check_request
from imagegen.contract import ModelRules, default_catalog
from imagegen.errors import UploadError
from imagegen.imageinfo import ImageInfo
from imagegen.uploads import PreparedUpload, prepare_upload, require_images

CATALOG = default_catalog()


def check_uploads(
    images: list[PreparedUpload], mask: PreparedUpload | None, model: ModelRules | None
) -> None:
    """What the client checks of an edit's files before sending (with the model's rules, if any)."""
    require_images(images)
    uploads = {"image": images, **({"mask": [mask]} if mask is not None else {})}
    body = {"model": model.name} if model is not None else {}
    check_request("edits", body, uploads, catalog=CATALOG if model is not None else None)


def rules(name: str) -> ModelRules:
    found = CATALOG.get(name)
    assert found is not None
    return found


def encode(size: tuple[int, int] = (64, 64), fmt: str = "PNG", mode: str = "RGBA", **options: Any) -> bytes:
    """A real image; where the mode has alpha, its left half is transparent (a usable mask)."""
    image = Image.new(mode, size, (30, 60, 90, 255) if mode == "RGBA" else 80)
    if mode == "RGB":
        image = Image.new(mode, size, (30, 60, 90))
    if mode == "RGBA":
        image.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def upload(data: bytes, index: int | None = None, role: str = "image") -> PreparedUpload:
    """`index` counts from 0, as in enumerate(images): index 0 is "image 1 (bytes)"."""
    return prepare_upload(data, role=role, index=index)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


PNG = encode()
JPEG = encode(fmt="JPEG", mode="RGB")
WEBP = encode(fmt="WEBP", mode="RGB")
GIF = encode(fmt="GIF", mode="P")


# prepare_upload: what is read, and how it is named


def test_a_path_is_read_and_named_by_its_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "cat.png", PNG)
    for given in (str(path), path):
        prepared = prepare_upload(given)
        assert prepared == PreparedUpload(
            label=str(path),
            filename="cat.png",
            content_type="image/png",
            data=PNG,
            info=ImageInfo("png", 64, 64, True),
        )


def test_a_tilde_path_is_read_from_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / "cat.jpg", JPEG)
    prepared = prepare_upload("~/cat.jpg")
    assert (prepared.label, prepared.filename, prepared.data) == ("~/cat.jpg", "cat.jpg", JPEG)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_bytes_of_every_kind_are_sent_as_they_are(kind: type) -> None:
    prepared = prepare_upload(kind(WEBP), index=1)
    assert prepared.data == WEBP
    assert type(prepared.data) is bytes
    assert (prepared.label, prepared.filename, prepared.content_type) == (
        "image 2 (bytes)",
        "image.webp",
        "image/webp",
    )


def test_a_mask_given_as_bytes_is_named_as_the_mask() -> None:
    prepared = prepare_upload(PNG, role="mask")
    assert (prepared.label, prepared.filename) == ("mask (bytes)", "mask.png")


def test_a_file_object_is_read_from_its_current_position() -> None:
    file = io.BytesIO(b"not part of it" + JPEG)
    file.seek(len(b"not part of it"))
    prepared = prepare_upload(file, index=2)
    assert prepared.data == JPEG
    assert (prepared.label, prepared.filename, prepared.content_type) == (
        "image 3 (file)",
        "image.jpg",
        "image/jpeg",
    )


def test_an_open_file_is_named_by_its_name(tmp_path: Path) -> None:
    path = write(tmp_path / "photo.webp", WEBP)
    with path.open("rb") as file:
        prepared = prepare_upload(file)
    assert (prepared.label, prepared.filename, prepared.data) == (str(path), "photo.webp", WEBP)


def test_a_pil_image_is_sent_as_png() -> None:
    image = Image.new("RGBA", (17, 9), (255, 0, 0, 128))
    prepared = prepare_upload(image, index=0)
    assert (prepared.label, prepared.filename, prepared.content_type) == (
        "image 1 (PIL image)",
        "image.png",
        "image/png",
    )
    assert prepared.info == ImageInfo("png", 17, 9, True)
    assert Image.open(io.BytesIO(prepared.data)).getpixel((3, 3)) == (255, 0, 0, 128)


def test_a_pil_palette_image_keeps_its_transparency() -> None:
    image = Image.new("P", (8, 8), 0)
    image.info["transparency"] = 0
    assert prepare_upload(image, role="mask").info == ImageInfo("png", 8, 8, True)


@pytest.mark.parametrize(("mode", "has_alpha"), [("CMYK", False), ("RGBa", True), ("F", False), ("I", False)])
def test_a_pil_image_in_a_mode_png_cannot_hold_is_converted(mode: str, has_alpha: bool) -> None:
    prepared = prepare_upload(Image.new(mode, (5, 4)))
    assert prepared.info == ImageInfo("png", 5, 4, has_alpha)
    assert Image.open(io.BytesIO(prepared.data)).mode == ("RGBA" if has_alpha else "RGB")


def test_a_pil_image_that_cannot_become_png_is_refused() -> None:
    with pytest.raises(UploadError, match=r"image 4 \(PIL image\) \(mode La\) cannot be saved as PNG"):
        prepare_upload(Image.new("La", (5, 4)), index=3)


@pytest.mark.parametrize(
    ("name", "data", "sent_as", "content_type"),
    [
        ("photo.png", JPEG, "photo.jpg", "image/jpeg"),
        ("photo.jpg", PNG, "photo.png", "image/png"),
        ("photo", WEBP, "photo.webp", "image/webp"),
        ("photo.bin", GIF, "photo.gif", "image/gif"),
        ("PHOTO.JPEG", JPEG, "PHOTO.JPEG", "image/jpeg"),
        ("photo.JPG", JPEG, "photo.JPG", "image/jpeg"),
    ],
)
def test_the_bytes_decide_the_type_and_extension(
    tmp_path: Path, name: str, data: bytes, sent_as: str, content_type: str
) -> None:
    path = write(tmp_path / name, data)
    prepared = prepare_upload(path)
    assert (prepared.label, prepared.filename, prepared.content_type) == (str(path), sent_as, content_type)


# prepare_upload: what cannot be sent


def test_a_missing_file_is_named_with_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UploadError) as caught:
        prepare_upload("missing.png")
    assert (
        str(caught.value)
        == f"missing.png: no such file (looked for {tmp_path / 'missing.png'}); check the path"
    )


def test_a_url_is_not_fetched() -> None:
    with pytest.raises(UploadError, match="URLs are not fetched: download the image"):
        prepare_upload("https://example.com/cat.png")


def test_a_directory_is_not_an_image_file(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match=f"^{re.escape(str(tmp_path))} is a directory, not an image file"):
        prepare_upload(tmp_path)


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.png", PNG)
    path.chmod(0)
    try:
        if os.geteuid() == 0:  # root reads it anyway: check the other path that cannot be read
            with pytest.raises(UploadError, match="is a directory"):
                prepare_upload(tmp_path)
        else:
            with pytest.raises(
                UploadError, match=f"^{re.escape(str(path))} cannot be read: permission denied"
            ):
                prepare_upload(path)
    finally:
        path.chmod(0o600)


def test_an_empty_path_is_refused() -> None:
    with pytest.raises(UploadError, match="the path is empty"):
        prepare_upload("", role="mask")


@pytest.mark.parametrize("as_path", [True, False], ids=["file", "bytes"])
def test_an_empty_file_is_refused(tmp_path: Path, as_path: bool) -> None:
    value: Any = write(tmp_path / "empty.png", b"") if as_path else b""
    label = str(tmp_path / "empty.png") if as_path else "image (bytes)"
    with pytest.raises(UploadError, match=rf"^{re.escape(label)} is empty \(0 bytes\)"):
        prepare_upload(value)


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"just some notes\n", ""),
        (b"%PDF-1.7\n" + bytes(100), ": it looks like a PDF"),
        (b"\x00\x00\x00\x18ftypheic" + bytes(100), ": it looks like a HEIC image"),
        (bytes(range(256)), ""),
    ],
    ids=["text", "pdf", "heic", "binary"],
)
def test_bytes_that_are_not_an_image_are_refused(tmp_path: Path, data: bytes, looks_like: str) -> None:
    path = write(tmp_path / "picture.png", data)
    with pytest.raises(UploadError) as caught:
        prepare_upload(path)
    assert str(caught.value) == (
        f"{path} is not an image (PNG, JPEG or WebP){looks_like}; "
        "give an image file, or convert it to PNG first"
    )


def test_an_image_cut_short_is_refused_as_damaged() -> None:
    with pytest.raises(UploadError, match=r"^image 2 \(bytes\) starts like a PNG but its header is damaged"):
        prepare_upload(PNG[:20], index=1)


@pytest.mark.parametrize("value", [42, None, ["cat.png"], {"image": PNG}, 3.5])
def test_a_value_of_another_type_is_a_type_error_naming_what_is_accepted(value: Any) -> None:
    with pytest.raises(
        TypeError, match=r"bytes, bytearray, memoryview, a file opened in binary mode, or a PIL"
    ):
        prepare_upload(value)


def test_a_file_open_in_text_mode_is_a_type_error(tmp_path: Path) -> None:
    path = write(tmp_path / "cat.png", PNG)
    with (
        path.open(encoding="latin-1") as file,
        pytest.raises(TypeError, match=r"binary mode \(open\(path, 'rb'\)\)"),
    ):
        prepare_upload(file)


def test_a_closed_file_cannot_be_read(tmp_path: Path) -> None:
    file = write(tmp_path / "cat.png", PNG).open("rb")
    file.close()
    with pytest.raises(UploadError, match=f"^{re.escape(str(tmp_path / 'cat.png'))} cannot be read"):
        prepare_upload(file)


# what every request needs (the rule engine's shared rules)


def test_no_image_is_refused() -> None:
    with pytest.raises(UploadError, match="no image was given"):
        check_uploads([], None, None)


def test_a_mask_must_be_a_png() -> None:
    mask = upload(WEBP, role="mask")
    with pytest.raises(
        UploadError, match=r"^mask \(bytes\) is a WebP, but a mask must be a PNG with an alpha"
    ):
        check_uploads([upload(PNG)], mask, None)


def test_a_mask_must_have_an_alpha_channel() -> None:
    mask = upload(encode(mode="RGB"), role="mask")
    with pytest.raises(UploadError, match=r"^mask \(bytes\) has no alpha channel, which a mask needs"):
        check_uploads([upload(PNG)], mask, None)


def test_a_mask_must_be_the_size_of_the_first_image() -> None:
    images = [upload(encode((64, 48)), 0), upload(encode((32, 32)), 1)]
    with pytest.raises(UploadError) as caught:
        check_uploads(images, upload(encode((32, 32)), role="mask"), None)
    assert str(caught.value) == (
        "mask (bytes) is 32x32 but the first image image 1 (bytes) is 64x48; a mask must be the size of "
        "the first image: resize the mask to 64x48."
    )
    check_uploads(images, upload(encode((64, 48)), role="mask"), None)  # the second image's size is free


def test_a_palette_png_with_a_transparent_colour_is_a_mask() -> None:
    mask = upload(encode(mode="P", transparency=0), role="mask")
    check_uploads([upload(PNG)], mask, rules("dall-e-2"))


def test_without_model_rules_only_the_mask_is_checked() -> None:
    many_odd_images = [upload(data, index) for index, data in enumerate([GIF, JPEG, WEBP, PNG] * 5)]
    check_uploads(many_odd_images, None, None)
    check_uploads(many_odd_images, None, None)


# the rules of the model (x-imagegen-models, through the rule engine)


def test_dall_e_2_takes_one_square_png_of_at_most_4_mb_with_a_png_mask() -> None:
    check_uploads([upload(PNG)], upload(PNG, role="mask"), rules("dall-e-2"))


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (
            [PNG, PNG],
            "dall-e-2 takes at most 1 image per request and 2 were given (image 2 (bytes) is the first",
        ),
        ([JPEG], "image 1 (bytes) is a JPEG, and dall-e-2 takes PNG images only; convert it to PNG"),
        ([GIF], "image 1 (bytes) is a GIF, and dall-e-2 takes PNG images only"),
        (
            [encode((64, 48))],
            "image 1 (bytes) is 64x48, and dall-e-2 takes square images only; crop it to 48x48",
        ),
    ],
    ids=["two-images", "jpeg", "gif", "not-square"],
)
def test_dall_e_2_refuses_what_it_does_not_take(images: list[bytes], message: str) -> None:
    with pytest.raises(UploadError) as caught:
        check_uploads([upload(data, index) for index, data in enumerate(images)], None, rules("dall-e-2"))
    assert str(caught.value).startswith(message)


def test_an_image_over_the_model_limit_is_refused_with_both_sizes_in_mb() -> None:
    big = encode((1024, 1024), compress_level=0)  # an uncompressed 1024x1024 RGBA PNG: just over 4 MB
    assert len(big) > 4 * 1024 * 1024
    with pytest.raises(UploadError) as caught:
        check_uploads([upload(big, 0)], None, rules("dall-e-2"))
    assert str(caught.value) == (
        f"image 1 (bytes) is 4 MB ({len(big):,} bytes), and dall-e-2 takes images of at most 4 MB "
        "(4,194,304 bytes); make it smaller (fewer pixels, or more compression)."
    )
    check_uploads([upload(big, 0)], None, rules("gpt-image-1.5"))


def test_gpt_image_refuses_an_image_over_50_mb() -> None:
    huge = encode((3700, 3700), compress_level=0)
    with pytest.raises(UploadError, match=r"^image 1 \(bytes\) is 52.24 MB .* takes images of at most 50 MB"):
        check_uploads([upload(huge, 0)], None, rules("gpt-image-1.5"))


def test_gpt_image_takes_up_to_16_images_of_any_shape_in_png_jpeg_or_webp() -> None:
    images = [upload(data, index) for index, data in enumerate([PNG, JPEG, WEBP, encode((64, 17))] * 4)]
    check_uploads(images, upload(PNG, role="mask"), rules("gpt-image-1.5"))
    with pytest.raises(
        UploadError, match=r"at most 16 images per request and 17 were given \(image 17 \(bytes\)"
    ):
        check_uploads([*images, upload(PNG, 16)], None, rules("gpt-image-1.5"))


def test_gpt_image_refuses_a_gif() -> None:
    with pytest.raises(UploadError, match=r"is a GIF, and gpt-image-1.5 takes PNG, JPEG or WebP images only"):
        check_uploads([upload(PNG, 0), upload(GIF, 1)], None, rules("gpt-image-1.5"))


def test_a_mask_over_the_model_limit_is_refused() -> None:
    image = upload(encode((1024, 1024)), 0)
    mask = upload(encode((1024, 1024), compress_level=0), role="mask")
    with pytest.raises(
        UploadError, match=r"^mask \(bytes\) is 4 MB .* gpt-image-1.5 takes masks of at most 4 MB"
    ):
        check_uploads([image], mask, rules("gpt-image-1.5"))
    check_uploads([image], mask, None)


# Pillow stays optional


def test_importing_the_uploads_module_does_not_import_pillow() -> None:
    code = "import sys, imagegen.uploads, imagegen.imageinfo; print('PIL' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
