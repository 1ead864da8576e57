"""The official `openai` client, pointed at the reference server over loopback, works end to end.

Every image the client receives is decoded with Pillow and checked for the exact size and format
that were asked for: the server must speak the real protocol, not just something close to it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import httpx
import openai
import pytest
from openai.types import (
    ImageEditCompletedEvent,
    ImageEditPartialImageEvent,
    ImageGenCompletedEvent,
    ImageGenPartialImageEvent,
    ImagesResponse,
)
from PIL import Image

from .conftest import REFERENCE_TOKEN

TOKEN = REFERENCE_TOKEN  # the shared server's (tests/conftest.py)
GPT_IMAGE = "gpt-image-1.5"
PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


@pytest.fixture(scope="module")
def base_url(reference_url: str) -> str:
    """The session's reference server (token, faults on, sd-1.5-ggml): tests/conftest.py."""
    return reference_url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=base_url, api_key=TOKEN, max_retries=0, timeout=60) as made:
        yield made


def png(width: int, height: int, color: tuple[int, int, int, int] = (200, 40, 40, 255)) -> bytes:
    """A real RGBA PNG of one colour."""
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def mask_png(width: int, height: int) -> bytes:
    """An RGBA PNG mask whose left half is transparent (alpha 0: repaint) and right half opaque."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, width // 2, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def decoded(data: bytes, size: str, output_format: str) -> Image.Image:
    """`data` decoded by Pillow, after checking it is an image of exactly `size` in `output_format`."""
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == PIL_FORMATS[output_format]
    assert f"{image.width}x{image.height}" == size
    return image


def from_b64(b64_json: str | None, size: str, output_format: str) -> Image.Image:
    assert b64_json, "the answer carries no b64_json"
    return decoded(base64.b64decode(b64_json, validate=True), size, output_format)


def downloaded(url: str | None, base_url: str, size: str) -> Image.Image:
    """The PNG a URL answer points at, fetched from the server itself."""
    assert url, "the answer carries no url"
    assert url.startswith(f"{base_url}/images/files/")
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    return decoded(answer.content, size, "png")


def has_transparent_pixel(image: Image.Image) -> bool:
    assert image.mode in ("RGBA", "LA", "PA"), f"{image.mode} has no alpha channel"
    low, _ = image.getchannel("A").getextrema()
    return low == 0


@pytest.mark.parametrize("output_format", ["png", "jpeg", "webp"])
def test_generate_answers_b64_json_in_the_requested_output_format(
    client: openai.OpenAI, output_format: str
) -> None:
    result = client.images.generate(
        model=GPT_IMAGE, prompt="a red lighthouse", size="1024x1024", output_format=output_format
    )
    assert len(result.data) == 1
    assert result.data[0].url is None
    from_b64(result.data[0].b64_json, "1024x1024", output_format)
    assert result.output_format == output_format
    assert result.size == "1024x1024"
    assert result.usage is not None
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens


def test_generate_with_a_transparent_background_gives_pixels_with_alpha_zero(client: openai.OpenAI) -> None:
    result = client.images.generate(
        model=GPT_IMAGE,
        prompt="a sticker of a fox",
        size="1024x1536",
        output_format="png",
        background="transparent",
    )
    image = from_b64(result.data[0].b64_json, "1024x1536", "png")
    assert has_transparent_pixel(image)
    assert result.background == "transparent"


@pytest.mark.parametrize(
    ("model", "size", "n"),
    [("dall-e-2", "512x512", 2), ("dall-e-3", "1792x1024", 1)],
    ids=["dall-e-2", "dall-e-3"],
)
def test_generate_answers_urls_that_download_as_the_requested_image(
    client: openai.OpenAI, base_url: str, model: str, size: str, n: int
) -> None:
    result = client.images.generate(
        model=model, prompt="a blue bicycle", size=size, n=n, response_format="url"
    )
    assert len(result.data) == n
    for item in result.data:
        assert item.b64_json is None
        downloaded(item.url, base_url, size)
    if model == "dall-e-3":
        assert result.data[0].revised_prompt


def test_dall_e_models_answer_with_urls_by_default(client: openai.OpenAI, base_url: str) -> None:
    result = client.images.generate(model="dall-e-2", prompt="a green kite", size="256x256")
    downloaded(result.data[0].url, base_url, "256x256")


def test_edit_takes_two_image_tuples_and_an_rgba_mask(client: openai.OpenAI) -> None:
    first = ("first.png", png(256, 256, (200, 40, 40, 255)), "image/png")
    mask = ("mask.png", mask_png(256, 256), "image/png")
    result = client.images.edit(
        model=GPT_IMAGE,
        image=[first, ("second.png", png(128, 192, (40, 40, 200, 255)), "image/png")],
        mask=mask,
        prompt="put the blue square into the red one",
        size="1024x1024",
        output_format="png",
    )
    assert len(result.data) == 1
    from_b64(result.data[0].b64_json, "1024x1024", "png")
    alone = client.images.edit(
        model=GPT_IMAGE, image=[first], mask=mask, prompt="put the blue square in the red", size="1024x1024"
    )
    # Both parts reached the server: it counts more input image tokens for two images than for one.
    assert result.usage is not None
    assert alone.usage is not None
    assert result.usage.input_tokens_details.image_tokens > alone.usage.input_tokens_details.image_tokens > 0


def test_edit_takes_file_objects_and_answers_in_the_requested_format(client: openai.OpenAI) -> None:
    first, second, mask = io.BytesIO(png(320, 320)), io.BytesIO(png(64, 64, (0, 160, 0, 255))), io.BytesIO()
    first.name, second.name = "first.png", "second.png"
    mask.write(mask_png(320, 320))
    mask.name = "mask.png"
    mask.seek(0)
    result = client.images.edit(
        model=GPT_IMAGE,
        image=[first, second],
        mask=mask,
        prompt="a green square on a red one",
        size="1536x1024",
        output_format="webp",
    )
    from_b64(result.data[0].b64_json, "1536x1024", "webp")
    assert result.output_format == "webp"


@pytest.mark.parametrize("response_format", ["b64_json", "url"])
def test_dall_e_2_edits_one_square_png(client: openai.OpenAI, base_url: str, response_format: str) -> None:
    result = client.images.edit(
        model="dall-e-2",
        image=("square.png", png(256, 256), "image/png"),
        mask=("mask.png", mask_png(256, 256), "image/png"),
        prompt="a window in the wall",
        size="512x512",
        response_format=response_format,
    )
    assert len(result.data) == 1
    if response_format == "url":
        assert result.data[0].b64_json is None
        downloaded(result.data[0].url, base_url, "512x512")
    else:
        assert result.data[0].url is None
        from_b64(result.data[0].b64_json, "512x512", "png")


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the client deprecates variations
@pytest.mark.parametrize("response_format", ["b64_json", "url"])
def test_create_variation_gives_n_images_of_the_requested_size(
    client: openai.OpenAI, base_url: str, response_format: str
) -> None:
    result = client.images.create_variation(
        model="dall-e-2",
        image=("source.png", png(256, 256, (30, 120, 220, 255)), "image/png"),
        n=2,
        size="256x256",
        response_format=response_format,
    )
    assert len(result.data) == 2
    for item in result.data:
        if response_format == "url":
            downloaded(item.url, base_url, "256x256")
        else:
            from_b64(item.b64_json, "256x256", "png")


def test_generate_streams_partial_images_then_the_completed_one(client: openai.OpenAI) -> None:
    stream = client.images.generate(
        model=GPT_IMAGE,
        prompt="a night sky",
        size="1024x1024",
        output_format="jpeg",
        stream=True,
        partial_images=2,
    )
    with stream:
        events = list(stream)
    assert [event.type for event in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    partials, completed = events[:-1], events[-1]
    indexes = [e.partial_image_index for e in partials if isinstance(e, ImageGenPartialImageEvent)]
    assert indexes == [0, 1]
    for event in events:
        from_b64(event.b64_json, "1024x1024", "jpeg")
        assert event.size == "1024x1024"
        assert event.output_format == "jpeg"
    assert isinstance(completed, ImageGenCompletedEvent)
    assert completed.usage.output_tokens > 0
    assert completed.usage.total_tokens == completed.usage.input_tokens + completed.usage.output_tokens


def test_edit_streams_a_partial_image_then_the_completed_one(client: openai.OpenAI) -> None:
    stream = client.images.edit(
        model=GPT_IMAGE,
        image=[
            ("first.png", png(256, 256), "image/png"),
            ("second.png", png(256, 256, (0, 0, 255, 255)), "image/png"),
        ],
        mask=("mask.png", mask_png(256, 256), "image/png"),
        prompt="a door",
        size="1024x1024",
        output_format="png",
        background="transparent",
        stream=True,
        partial_images=1,
    )
    with stream:
        events = list(stream)
    assert [event.type for event in events] == ["image_edit.partial_image", "image_edit.completed"]
    partial, completed = events
    assert isinstance(partial, ImageEditPartialImageEvent)
    assert partial.partial_image_index == 0
    assert isinstance(completed, ImageEditCompletedEvent)
    for event in events:
        image = from_b64(event.b64_json, "1024x1024", "png")
        assert has_transparent_pixel(image)
        assert event.background == "transparent"
    assert completed.usage.input_tokens_details.image_tokens > 0
    assert completed.usage.total_tokens == completed.usage.input_tokens + completed.usage.output_tokens


def test_dall_e_3_with_n_2_raises_bad_request_naming_n(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model="dall-e-3", prompt="two cats", n=2, response_format="url")
    error = caught.value
    assert error.status_code == 400
    assert error.param == "n"
    assert isinstance(error.body, dict)
    assert error.body["param"] == "n"
    assert error.body["type"] == "invalid_request_error"
    assert "n was 2" in error.body["message"]


def test_gpt_image_model_refuses_response_format_through_the_client(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model=GPT_IMAGE, prompt="a cat", response_format="url")
    assert caught.value.status_code == 400
    assert caught.value.param == "response_format"


def test_wrong_api_key_raises_authentication_error(base_url: str) -> None:
    with (
        openai.OpenAI(base_url=base_url, api_key="sk-wrong", max_retries=0, timeout=30) as stranger,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        stranger.images.generate(model=GPT_IMAGE, prompt="a cat")
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert caught.value.response.headers.get("x-request-id", "").startswith("req_")


def test_a_file_uploaded_with_the_sdk_is_edited_by_id_through_its_low_level_post(
    client: openai.OpenAI,
) -> None:
    photo = client.files.create(file=("photo.png", png(64, 64)), purpose="vision")
    assert (photo.purpose, photo.bytes) == ("vision", len(png(64, 64)))
    answer = client.post(
        "/images/edits",
        body={
            "model": GPT_IMAGE,
            "prompt": "add a hat",
            "size": "1024x1024",
            "images": [{"file_id": photo.id}],
        },
        cast_to=ImagesResponse,
    )
    assert answer.data is not None
    from_b64(answer.data[0].b64_json, "1024x1024", "png")
    assert client.files.content(photo.id).content == png(64, 64)
    assert client.files.delete(photo.id).deleted
