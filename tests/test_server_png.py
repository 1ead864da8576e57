"""The painter's PNG encoder: valid files that decode to exactly the pixels given, in every mode
the painter makes, the same bytes every time, and large pictures encoded band by band."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from imagegen.imageinfo import PNG_SIGNATURE
from imagegen.server import png
from imagegen.server.png import encode_png


def picture(mode: str, width: int, height: int) -> Image.Image:
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 50).convert("L")
    bands = {"L": [gradient], "LA": [gradient, noise], "RGB": [gradient, noise, gradient.rotate(90)]}
    bands["RGBA"] = [*bands["RGB"], noise.rotate(180)]
    return Image.merge(mode, bands[mode])


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_each_mode_decodes_to_the_very_pixels(mode: str) -> None:
    image = picture(mode, 97, 61)
    data = encode_png(image, 3)
    assert data.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(data)) as check:
        check.verify()  # the chunks' CRCs
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.format == "PNG"
        assert decoded.mode == mode
        assert decoded.tobytes() == image.tobytes()
    assert encode_png(image, 3) == data


def test_a_picture_larger_than_a_band_is_encoded_in_bands(monkeypatch: pytest.MonkeyPatch) -> None:
    image = picture("RGB", 300, 200)
    whole = encode_png(image, 3)
    compressed: list[int] = []
    real = zlib.compressobj

    class Counting:
        def __init__(self, level: int) -> None:
            self._inner = real(level)

        def compress(self, data: bytes) -> bytes:
            compressed.append(len(data))
            return self._inner.compress(data)

        def flush(self) -> bytes:
            return self._inner.flush()

    monkeypatch.setattr(png, "_BAND_BYTES", 50 * (300 * 3 + 1))  # 50 rows a band
    monkeypatch.setattr(png.zlib, "compressobj", Counting)
    banded = encode_png(image, 3)
    assert compressed == [50 * 901] * 4
    assert banded == whole  # one deflate stream either way


def test_other_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="not P"):
        encode_png(Image.new("P", (4, 4)), 3)
