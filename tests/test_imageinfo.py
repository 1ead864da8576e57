"""Format, size and alpha read from image headers, checked against real files Pillow writes."""

from __future__ import annotations

import io
import random
import struct
import time
import zlib
from typing import Any

import pytest
from PIL import Image

from imagegen.imageinfo import CONTENT_TYPES, EXTENSIONS, ImageFormat, ImageInfo, image_info, sniff_format

FORMATS = ("png", "jpeg", "webp", "gif")


def encode(mode: str, size: tuple[int, int], fmt: str, **options: Any) -> bytes:
    """A real image of one colour (half transparent where the mode has alpha), as Pillow saves it."""
    colour: Any = {"RGBA": (200, 40, 40, 100), "LA": (90, 100), "CMYK": (0, 80, 160, 20)}.get(mode, 60)
    if mode == "RGB":
        colour = (200, 40, 40)
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def pillow_sees_alpha(data: bytes) -> bool:
    """Pillow's own answer: an alpha band, or a transparent colour (palette, grey or RGB)."""
    with Image.open(io.BytesIO(data)) as image:
        return "A" in image.getbands() or "transparency" in image.info


def gif_with_comment_before_transparency() -> bytes:
    """A GIF whose comment extension comes before the graphic control extension."""
    buffer = io.BytesIO()
    Image.new("P", (17, 9), 0).save(buffer, format="GIF", transparency=0, comment=b"made for a test " * 30)
    return buffer.getvalue()


def animated_webp() -> bytes:
    frames = [Image.new("RGB", (17, 9), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="WEBP", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def gif_with_timing_only() -> bytes:
    """A GIF with a graphic control extension that sets a delay but no transparent colour."""
    buffer = io.BytesIO()
    Image.new("P", (17, 9), 0).save(buffer, format="GIF", duration=100)
    assert b"!\xf9" in buffer.getvalue()
    return buffer.getvalue()


# (id, bytes, format, has_alpha), every one 17x9.
SAMPLES: list[tuple[str, bytes, ImageFormat, bool]] = [
    ("png-rgb", encode("RGB", (17, 9), "PNG"), "png", False),
    ("png-rgba", encode("RGBA", (17, 9), "PNG"), "png", True),
    ("png-l", encode("L", (17, 9), "PNG"), "png", False),
    ("png-la", encode("LA", (17, 9), "PNG"), "png", True),
    ("png-p", encode("P", (17, 9), "PNG"), "png", False),
    ("png-p-transparency", encode("P", (17, 9), "PNG", transparency=60), "png", True),
    ("png-l-transparency", encode("L", (17, 9), "PNG", transparency=60), "png", True),
    ("png-rgb-transparency", encode("RGB", (17, 9), "PNG", transparency=(1, 2, 3)), "png", True),
    ("png-1bit", encode("1", (17, 9), "PNG"), "png", False),
    ("png-16bit", encode("I;16", (17, 9), "PNG"), "png", False),
    ("png-with-phys-chunk", encode("RGB", (17, 9), "PNG", dpi=(300, 300)), "png", False),
    ("jpeg-rgb", encode("RGB", (17, 9), "JPEG"), "jpeg", False),
    ("jpeg-l", encode("L", (17, 9), "JPEG"), "jpeg", False),
    ("jpeg-cmyk", encode("CMYK", (17, 9), "JPEG"), "jpeg", False),
    ("jpeg-progressive", encode("RGB", (17, 9), "JPEG", progressive=True), "jpeg", False),
    (
        "jpeg-big-exif-and-comment",
        encode("RGB", (17, 9), "JPEG", exif=b"Exif\x00\x00" + bytes(60000), comment=b"c" * 60000),
        "jpeg",
        False,
    ),
    ("webp-lossy", encode("RGB", (17, 9), "WEBP"), "webp", False),
    ("webp-lossy-alpha", encode("RGBA", (17, 9), "WEBP"), "webp", True),
    ("webp-lossless", encode("RGB", (17, 9), "WEBP", lossless=True), "webp", False),
    ("webp-lossless-alpha", encode("RGBA", (17, 9), "WEBP", lossless=True), "webp", True),
    ("webp-extended-no-alpha", encode("RGB", (17, 9), "WEBP", exif=b"Exif\x00\x00abc"), "webp", False),
    ("webp-animated", animated_webp(), "webp", False),
    ("gif", encode("RGB", (17, 9), "GIF"), "gif", False),
    ("gif-transparency", encode("P", (17, 9), "GIF", transparency=60), "gif", True),
    ("gif-comment-then-transparency", gif_with_comment_before_transparency(), "gif", True),
    ("gif-delay-without-transparency", gif_with_timing_only(), "gif", False),
]
IDS = [sample[0] for sample in SAMPLES]


@pytest.mark.parametrize(("name", "data", "fmt", "has_alpha"), SAMPLES, ids=IDS)
def test_headers_give_format_size_and_alpha(
    name: str, data: bytes, fmt: ImageFormat, has_alpha: bool
) -> None:
    assert image_info(data) == ImageInfo(fmt, 17, 9, has_alpha)
    assert pillow_sees_alpha(data) == has_alpha  # the expectation is what Pillow itself reads


@pytest.mark.parametrize("size", [(1, 1), (17, 9), (9, 17), (300, 5), (1536, 1024)], ids=str)
@pytest.mark.parametrize(
    ("mode", "fmt", "options"),
    [
        ("RGBA", "PNG", {}),
        ("RGB", "JPEG", {}),
        ("RGB", "JPEG", {"progressive": True}),
        ("RGB", "WEBP", {}),
        ("RGBA", "WEBP", {}),
        ("RGBA", "WEBP", {"lossless": True}),
        ("P", "GIF", {}),
    ],
    ids=["png", "jpeg", "jpeg-progressive", "webp-lossy", "webp-alpha", "webp-lossless", "gif"],
)
def test_sizes_are_read_exactly(mode: str, fmt: str, options: dict[str, Any], size: tuple[int, int]) -> None:
    info = image_info(encode(mode, size, fmt, **options))
    assert info is not None
    assert (info.width, info.height) == size
    assert info.size == f"{size[0]}x{size[1]}"


def test_lossless_webp_uses_all_fourteen_bits_of_each_side() -> None:
    data = encode("RGBA", (16383, 2), "WEBP", lossless=True)
    assert image_info(data) == ImageInfo("webp", 16383, 2, True)


def test_jpeg_tables_before_the_frame_header_are_not_taken_for_it() -> None:
    data = encode("RGB", (17, 9), "JPEG")
    segments, scan = split_jpeg(data)
    tables_first = sorted(segments, key=lambda segment: segment[1] != 0xC4)  # DHT (0xC4) first
    reordered = b"\xff\xd8" + b"".join(tables_first) + scan
    assert reordered[2:4] == b"\xff\xc4"
    assert Image.open(io.BytesIO(reordered)).size == (17, 9)  # still a valid JPEG
    assert image_info(reordered) == ImageInfo("jpeg", 17, 9, False)


def test_jpeg_fill_bytes_before_a_marker_are_skipped() -> None:
    data = encode("L", (17, 9), "JPEG")
    padded = data[:2] + b"\xff\xff\xff" + data[2:]
    assert image_info(padded) == ImageInfo("jpeg", 17, 9, False)


def test_jpeg_markers_without_a_length_are_stepped_over() -> None:
    data = encode("RGB", (17, 9), "JPEG")
    with_tem_and_restart = data[:2] + b"\xff\x01\xff\xd0" + data[2:]
    assert image_info(with_tem_and_restart) == ImageInfo("jpeg", 17, 9, False)


def test_lossy_webp_scaling_bits_are_not_part_of_the_size() -> None:
    data = bytearray(encode("RGB", (17, 9), "WEBP"))
    data[27] |= 0x40  # the two top bits of each 16-bit side are an upscaling hint
    data[29] |= 0x80
    assert Image.open(io.BytesIO(bytes(data))).size == (17, 9)
    assert image_info(bytes(data)) == ImageInfo("webp", 17, 9, False)


def test_gif_without_a_global_colour_table_is_read() -> None:
    data = (
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00"  # 1x1, no global colour table
        b"!\xf9\x04\x01\x00\x00\x00\x00"  # graphic control: colour 0 is transparent
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x80\x00\x00\x00\xff\xff\xff"  # image, local colour table
        b"\x02\x02\x44\x01\x00;"
    )
    assert Image.open(io.BytesIO(data)).info["transparency"] == 0
    assert image_info(data) == ImageInfo("gif", 1, 1, True)


def test_every_format_is_sniffed_from_its_magic_bytes() -> None:
    found = {
        fmt: {sniff_format(data) for _, data, sample_fmt, _ in SAMPLES if sample_fmt == fmt}
        for fmt in FORMATS
    }
    assert found == {fmt: {fmt} for fmt in FORMATS}


@pytest.mark.parametrize(
    "data",
    [b"", b"\x89PNG", b"\xff\xd8", b"GIF8", b"RIFF\x24\x00\x00\x00WAVEfmt ", b"BM6\x00\x00\x00", b"%PDF-1.7"],
)
def test_other_bytes_are_not_sniffed_as_an_image(data: bytes) -> None:
    assert sniff_format(data) is None
    assert image_info(data) is None


def test_content_types_and_extensions_are_the_ones_pillow_knows() -> None:
    extensions = Image.registered_extensions()
    for fmt in FORMATS:
        assert CONTENT_TYPES[fmt] == Image.MIME[fmt.upper()]
        assert extensions[EXTENSIONS[fmt]] == fmt.upper()


@pytest.mark.parametrize(("name", "data", "fmt", "has_alpha"), SAMPLES, ids=IDS)
def test_cut_short_data_gives_none_or_the_full_answer(
    name: str, data: bytes, fmt: str, has_alpha: bool
) -> None:
    full = image_info(data)
    for length in range(min(len(data), 400)):
        assert image_info(data[:length]) in (None, full), length
    assert image_info(data[:20]) is None  # no header is complete in 20 bytes


def test_png_cut_before_its_image_data_is_none() -> None:
    data = encode("RGB", (17, 9), "PNG")  # no tRNS: only reaching IDAT says there is no alpha
    idat = data.index(b"IDAT") - 4
    assert image_info(data[:idat]) is None
    assert image_info(data[: idat + 8]) == ImageInfo("png", 17, 9, False)


@pytest.mark.parametrize(("name", "data", "fmt", "has_alpha"), SAMPLES, ids=IDS)
def test_damaged_headers_never_raise(name: str, data: bytes, fmt: str, has_alpha: bool) -> None:
    rng = random.Random(name)
    for _ in range(300):
        damaged = bytearray(data[:200])
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        info = image_info(bytes(damaged))
        assert info is None or (info.width > 0 and info.height > 0)


def test_random_bytes_are_not_images() -> None:
    rng = random.Random(1234)
    blobs = [rng.randbytes(rng.randint(0, 300)) for _ in range(2000)]
    assert [image_info(blob) for blob in blobs] == [None] * len(blobs)


@pytest.mark.parametrize(
    "magic", [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBP", b"GIF89a"]
)
def test_random_bytes_after_a_magic_number_never_raise(magic: bytes) -> None:
    rng = random.Random(magic)
    for _ in range(2000):
        info = image_info(magic + rng.randbytes(rng.randint(0, 64)))
        assert info is None or (info.width > 0 and info.height > 0)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def with_ihdr(width: int, height: int, depth: int = 8, colour: int = 2) -> bytes:
    """A real 17x9 RGB PNG whose IHDR is rewritten (CRC included)."""
    data = encode("RGB", (17, 9), "PNG")
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
    return data[:8] + ihdr + data[8 + 25 :]


def split_jpeg(data: bytes) -> tuple[list[bytes], bytes]:
    """The segments of a JPEG between SOI and SOS, and everything from SOS on."""
    segments, position = [], 2
    while data[position + 1] != 0xDA:
        (length,) = struct.unpack_from(">H", data, position + 2)
        segments.append(data[position : position + 2 + length])
        position += 2 + length
    return segments, data[position:]


def gif_screen_only() -> bytes:
    data = encode("RGB", (17, 9), "GIF")
    table = 3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0
    return data[: 13 + table] + b";"


def jpeg_frame_header() -> bytes:
    return next(s for s in split_jpeg(encode("RGB", (17, 9), "JPEG"))[0] if s[1] == 0xC0)


def jpeg_scan_header() -> bytes:
    scan = split_jpeg(encode("RGB", (17, 9), "JPEG"))[1]
    return scan[: 2 + struct.unpack_from(">H", scan, 2)[0]]


def vp8l_header(bits: int, signature: int = 0x2F) -> bytes:
    payload = struct.pack("<BI", signature, bits) + bytes(10)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(payload))
        + b"WEBPVP8L"
        + struct.pack("<I", len(payload))
        + payload
    )


@pytest.mark.parametrize(
    "data",
    [
        with_ihdr(0, 9),
        with_ihdr(17, 0),
        with_ihdr(17, 9, colour=5),  # no such colour type
        with_ihdr(17, 9, depth=3),  # no such bit depth
        with_ihdr(17, 9, colour=2, depth=4),  # RGB is 8 or 16 bits
        encode("RGB", (17, 9), "PNG").replace(b"IDAT", b"IEND"),  # ends before any image data
        b"\xff\xd8" + split_jpeg(encode("RGB", (17, 9), "JPEG"))[1],  # SOS before any frame header
        b"\xff\xd8\xff\xe0\x00\x00" + jpeg_frame_header(),  # a segment length below 2
        b"\xff\xd8" + jpeg_scan_header() + jpeg_frame_header(),  # a scan before the frame header
        b"\xff\xd8\xff\xd9" + bytes(40),  # EOI at once
        encode("RGB", (17, 9), "WEBP").replace(b"\x9d\x01\x2a", b"\x00\x00\x00"),  # no VP8 start code
        encode("RGB", (17, 9), "WEBP").replace(b"VP8 ", b"VP9 "),  # a chunk WebP does not have
        vp8l_header(0, signature=0x2E),
        vp8l_header(1 << 29),  # version 1
        encode("RGB", (17, 9), "GIF")[:6] + b"\x00\x00\x00\x00" + encode("RGB", (17, 9), "GIF")[10:],  # 0x0
        gif_screen_only(),  # the trailer right after the colour table: no image
    ],
    ids=[
        "png-width-0",
        "png-height-0",
        "png-colour-type-5",
        "png-depth-3",
        "png-rgb-depth-4",
        "png-no-idat",
        "jpeg-sos-first",
        "jpeg-short-length",
        "jpeg-scan-then-frame",
        "jpeg-eoi",
        "webp-no-start-code",
        "webp-unknown-chunk",
        "webp-lossless-bad-signature",
        "webp-lossless-version-1",
        "gif-0x0",
        "gif-no-image",
    ],
)
def test_corrupt_headers_give_none(data: bytes) -> None:
    assert sniff_format(data) is not None  # the magic bytes alone would pass
    assert image_info(data) is None


def test_vp8l_header_built_here_is_read_when_valid() -> None:
    width, height = 17, 9
    assert image_info(vp8l_header((width - 1) | (height - 1) << 14 | 1 << 28)) == ImageInfo(
        "webp", 17, 9, True
    )


def test_fifty_megabyte_files_are_read_without_touching_their_bulk() -> None:
    jpeg = encode("RGB", (17, 9), "JPEG")
    padding = (b"\xff\xef\xff\xff" + bytes(65533)) * 800  # 800 full APP15 segments, 52 MB
    big_jpeg = jpeg[:2] + padding + jpeg[2:]
    png = encode("RGBA", (17, 9), "PNG")
    big_png = png[:33] + png_chunk(b"zzZz", bytes(50 * 1024 * 1024)) + png[33:]  # a private chunk
    start = time.perf_counter()
    answers = [image_info(big_jpeg), image_info(big_png)]
    elapsed = time.perf_counter() - start
    assert answers == [ImageInfo("jpeg", 17, 9, False), ImageInfo("png", 17, 9, True)]
    assert elapsed < 0.5
