"""ImagesClient and AsyncImagesClient against the reference server over loopback."""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from imagegen import (
    AsyncImagesClient,
    BadRequestError,
    ImageCompletedEvent,
    ImagesClient,
    PartialImageEvent,
    RequestRulesError,
    UploadError,
    describe,
)

from .conftest import REFERENCE_TOKEN
from .support.images import mask_bytes, png_bytes
from .support.recording_server import parse_multipart

KEY = REFERENCE_TOKEN  # the shared server's (tests/conftest.py)


@pytest.fixture(scope="module")
def base_url(reference_url: str) -> str:
    """The session's reference server (token, faults on, sd-1.5-ggml): tests/conftest.py."""
    return reference_url


@pytest.fixture
def client(base_url: str) -> Iterator[ImagesClient]:
    with ImagesClient(base_url=base_url, api_key=KEY, max_retries=0) as c:
        yield c


class Capture:
    """A MockTransport handler that records requests and answers with a fixed body."""

    def __init__(self, body: dict[str, Any] | None = None, status: int = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.body = (
            body if body is not None else {"created": 1, "data": [{"b64_json": _b64(png_bytes(8, 8))}]}
        )
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


# ---- generate ----------------------------------------------------------------------------------


def test_generate_returns_base64_images_with_the_answers_fields(client: ImagesClient) -> None:
    result = client.generate(
        "Yellow alpaca", model="gpt-image-1.5", n=2, size="1536x1024", output_format="webp"
    )

    assert [image.size for image in result.images] == [(1536, 1024), (1536, 1024)]
    assert [image.format for image in result.images] == ["webp", "webp"]
    assert result.images[0].bytes() != result.images[1].bytes()
    assert (result.output_format, result.size, result.background) == ("webp", "1536x1024", "opaque")
    assert result.usage is not None
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens
    assert isinstance(result.created, int)
    assert result.request_id is not None
    assert result.request_id.startswith("req_")
    assert result.response.content is None  # not kept unless asked


def test_url_answers_are_downloaded_on_demand(client: ImagesClient) -> None:
    result = client.generate("Yellow alpaca", model="dall-e-3", size="1792x1024")

    image = result.images[0]
    assert image.url is not None
    assert image.url.startswith(client.options.base_url)
    assert image.size is None  # not downloaded yet
    assert image.bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.size == (1792, 1024)
    assert result.revised_prompt is not None
    assert result.revised_prompt.startswith("Yellow alpaca")


def test_a_description_and_extra_body_make_the_request(client: ImagesClient) -> None:
    description = describe("Yellow alpaca", 1, None, "64x64")

    result = client.generate(description, model="sd-1.5-ggml", response_format="b64_json", raw_response=True)

    assert result.images[0].size == (64, 64)
    assert result.response.content is not None
    assert json.loads(result.response.content)["data"][0]["b64_json"] == result.images[0].b64_json


def test_values_the_contract_does_not_know_are_sent_as_given(client: ImagesClient) -> None:
    with pytest.raises(BadRequestError) as raised:
        client.generate("p", model="gpt-image-1.5", quality="xhigh")
    assert raised.value.param == "quality"
    assert "'xhigh'" in raised.value.message


def test_json_body_carries_only_what_was_given_plus_extra_body() -> None:
    capture = Capture()
    with ImagesClient(
        base_url="http://api.test/v1", api_key=KEY, transport=httpx.MockTransport(capture)
    ) as c:
        c.generate("p", model="m", size=None, extra_body={"seed": 7, "steps": 20})
    assert json.loads(capture.requests[0].content) == {"prompt": "p", "model": "m", "seed": 7, "steps": 20}


# ---- edit and vary -----------------------------------------------------------------------------


def test_edit_takes_paths_bytes_files_and_pil_images_with_a_mask(
    client: ImagesClient, tmp_path: Path
) -> None:
    path = tmp_path / "red.png"
    path.write_bytes(png_bytes(64, 64, (200, 40, 40, 255)))
    pil = Image.new("RGB", (64, 64), (40, 200, 40))
    images = [str(path), png_bytes(64, 64), io.BytesIO(png_bytes(64, 64)), pil]

    result = client.edit(images, "a basket", mask=mask_bytes(64, 64), model="gpt-image-1.5", size="1024x1024")

    edited = result.images[0].to_pil().convert("RGBA")
    assert edited.size == (1024, 1024)
    assert edited.getpixel((1000, 500)) == (200, 40, 40, 255)  # kept where the mask is opaque
    assert result.usage is not None
    assert result.usage.input_tokens_details.image_tokens > 0  # type: ignore[union-attr]


def test_one_image_is_sent_as_image_and_several_as_image_brackets() -> None:
    capture = Capture()
    with ImagesClient(base_url="http://api.test/v1", transport=httpx.MockTransport(capture)) as c:
        c.edit(png_bytes(16, 16), "p")
        c.edit([png_bytes(16, 16), png_bytes(16, 16)], "p", mask=mask_bytes(16, 16))
    single, double = (parse_multipart(r.content, r.headers["content-type"]) for r in capture.requests)
    assert [(p.name, p.filename, p.content_type) for p in single if p.filename] == [
        ("image", "image.png", "image/png")
    ]
    assert [p.name for p in double if p.filename] == ["image[]", "image[]", "mask"]
    assert {p.name: p.data for p in single if p.filename is None} == {"prompt": b"p"}


def test_bad_uploads_fail_before_anything_is_sent(tmp_path: Path) -> None:
    capture = Capture()
    with ImagesClient(base_url="http://api.test/v1", transport=httpx.MockTransport(capture)) as c:
        with pytest.raises(UploadError, match=r"missing\.png: no such file"):
            c.edit(tmp_path / "missing.png", "p")
        with pytest.raises(UploadError, match="not an image"):
            c.edit(b"%PDF-1.7 not a picture", "p")
        with pytest.raises(UploadError, match="size"):
            c.edit(png_bytes(64, 64), "p", mask=mask_bytes(32, 32))
        with pytest.raises(UploadError, match="square"):
            c.edit(png_bytes(64, 32), "p", model="dall-e-2")
    assert capture.requests == []


def test_vary_makes_variations_of_an_image(client: ImagesClient) -> None:
    result = client.vary(
        png_bytes(256, 256, (30, 60, 200, 255)), n=2, size="256x256", response_format="b64_json"
    )
    assert [image.size for image in result.images] == [(256, 256)] * 2


# ---- streaming ---------------------------------------------------------------------------------


def test_a_stream_yields_typed_partial_then_completed_events(client: ImagesClient) -> None:
    with client.generate(
        "otter", model="gpt-image-1", stream=True, partial_images=2, quality="low"
    ) as stream:
        events = list(stream)

    assert [type(event) for event in events] == [PartialImageEvent, PartialImageEvent, ImageCompletedEvent]
    assert [getattr(event, "partial_image_index", None) for event in events] == [0, 1, None]
    final = events[-1]
    assert isinstance(final, ImageCompletedEvent)
    assert final.usage is not None
    assert final.image.size == (1024, 1024)
    assert stream.images == [final.image]
    assert stream.response.is_closed


def test_an_edit_streams_too(client: ImagesClient) -> None:
    stream = client.edit(png_bytes(64, 64), "p", model="gpt-image-1", stream=True, n=2, quality="low")
    images = stream.until_done()
    assert [image.size for image in images] == [(1024, 1024), (1024, 1024)]


def test_stopping_early_closes_the_connection(client: ImagesClient) -> None:
    stream = client.generate("otter", model="gpt-image-1", stream=True, partial_images=3, quality="low")
    for event in stream:
        assert isinstance(event, PartialImageEvent)
        break
    stream.close()
    assert stream.response.is_closed


# ---- saving ------------------------------------------------------------------------------------


def test_save_picks_the_extension_from_the_bytes_and_never_overwrites(
    client: ImagesClient, tmp_path: Path
) -> None:
    image = client.generate("p", model="gpt-image-1", output_format="jpeg", quality="low").images[0]

    saved = image.save(tmp_path / "photo.png")
    assert saved == tmp_path / "photo.jpg"
    assert saved.read_bytes() == image.bytes()
    with pytest.raises(FileExistsError, match=r"photo\.jpg already exists"):
        image.save(tmp_path / "photo.png")
    (tmp_path / "other.jpg").write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        image.save(tmp_path / "other")
    assert (tmp_path / "other.jpg").read_bytes() == b"keep me"
    assert image.save(tmp_path / "other", overwrite=True).read_bytes() == image.bytes()
    assert image.save(tmp_path) == tmp_path / "image-1.jpg"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "image-1.jpg",
        "other.jpg",
        "photo.jpg",
    ]  # no .part left


def test_save_all_and_a_missing_folder(client: ImagesClient, tmp_path: Path) -> None:
    result = client.generate("p", model="dall-e-2", size="256x256", n=2)
    assert [p.name for p in result.save_all(tmp_path, prefix="alpaca")] == ["alpaca-1.png", "alpaca-2.png"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        result.images[0].save(tmp_path / "nope" / "x.png")


# ---- options -----------------------------------------------------------------------------------


def test_options_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    capture = Capture()
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.test/v1/")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-env")
    with ImagesClient(transport=httpx.MockTransport(capture), default_headers={"X-Team": "a"}) as c:
        c.generate("p", extra_headers={"X-Call": "b"})
    sent = capture.requests[0]
    assert str(sent.url) == "http://env.test/v1/images/generations"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert (sent.headers["openai-organization"], sent.headers["openai-project"]) == ("org-env", "proj-env")
    assert (sent.headers["x-team"], sent.headers["x-call"]) == ("a", "b")
    assert sent.headers["user-agent"].startswith("imagegen/")


def test_arguments_win_over_the_environment_and_with_options_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    capture = Capture()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    with ImagesClient(base_url="http://a.test/v1", api_key=KEY, transport=httpx.MockTransport(capture)) as c:
        c.with_options(base_url="http://b.test/v1", organization="org-b").generate("p")
    assert str(capture.requests[0].url) == "http://b.test/v1/images/generations"
    assert capture.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert capture.requests[0].headers["openai-organization"] == "org-b"


def test_a_custom_http_client_is_used_and_not_closed() -> None:
    capture = Capture()
    http = httpx.Client(transport=httpx.MockTransport(capture))
    with ImagesClient(base_url="http://a.test/v1", http_client=http) as c:
        c.generate("p")
    assert len(capture.requests) == 1
    assert not http.is_closed
    http.close()


def test_no_key_sends_no_authorization() -> None:
    capture = Capture()
    with ImagesClient(base_url="http://a.test/v1", api_key="", transport=httpx.MockTransport(capture)) as c:
        c.generate("p")
    assert "authorization" not in capture.requests[0].headers


def test_the_key_is_never_in_a_repr_or_sent_to_another_host() -> None:
    answers = {
        "created": 1,
        "data": [{"url": "http://storage.test/img.png"}, {"url": "http://api.test/v1/files/b.png"}],
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/generations"):
            return httpx.Response(200, json=answers)
        return httpx.Response(200, content=png_bytes(4, 4))

    client = ImagesClient(base_url="http://api.test/v1", api_key=KEY, transport=httpx.MockTransport(handler))
    result = client.generate("p")
    for image in result.images:
        image.bytes()
    assert KEY not in repr(client)
    assert KEY not in repr(client.options)
    downloads = {r.url.host: r.headers.get("authorization") for r in seen[1:]}
    assert downloads == {"storage.test": None, "api.test": f"Bearer {KEY}"}


def test_a_per_call_timeout_applies(base_url: str) -> None:
    with ImagesClient(base_url=base_url, api_key=KEY, max_retries=0) as c:
        fault = {"X-Imagegen-Fault": f"latency=1; id={os.getpid()}-timeout"}
        from imagegen import APITimeoutError

        with pytest.raises(APITimeoutError):
            c.generate("p", size="256x256", extra_headers=fault, timeout=0.2)


# ---- client-side rules ---------------------------------------------------------------------------


def test_known_rules_are_checked_before_sending_and_unknown_ones_are_not() -> None:
    capture = Capture()
    with ImagesClient(base_url="http://a.test/v1", transport=httpx.MockTransport(capture)) as c:
        with pytest.raises(RequestRulesError, match="dall-e-3 takes n up to 1") as raised:
            c.generate("p", model="dall-e-3", n=2)
        assert raised.value.param == "n"
        with pytest.raises(RequestRulesError, match="does not take size=1024x1792; it takes 256x256"):
            c.generate("p", model="dall-e-2", size="1024x1792")
        with pytest.raises(RequestRulesError, match="does not serve variations"):
            c.vary(png_bytes(8, 8), model="gpt-image-1")
        assert capture.requests == []
        c.generate("p", model="my-own-model", n=50, size="3x3")  # a model it does not know
        c.generate("p", model="gpt-image-1.5", quality="xhigh")  # a value no model lists
        c.with_options(check_rules=False).generate("p", model="dall-e-3", n=2)
    assert len(capture.requests) == 3


# ---- async twin ----------------------------------------------------------------------------------


def test_the_async_client_is_a_twin(base_url: str, tmp_path: Path) -> None:
    async def run() -> tuple[Any, ...]:
        async with AsyncImagesClient(base_url=base_url, api_key=KEY) as c:
            generated = await c.generate("Yellow alpaca", model="dall-e-2", size="256x256", n=2)
            paths = await generated.save_all(tmp_path)
            edited = await c.edit(png_bytes(64, 64), "p", model="gpt-image-1", quality="low")
            varied = await c.vary(png_bytes(64, 64), size="256x256")
            stream = await c.generate(
                "otter", model="gpt-image-1", stream=True, partial_images=1, quality="low"
            )
            kinds = [type(event).__name__ async for event in stream]
            return paths, (await edited.images[0].to_pil()).size, await varied.images[0].bytes(), kinds

    paths, edited_size, varied, kinds = asyncio.run(run())
    assert [Image.open(p).size for p in paths] == [(256, 256), (256, 256)]
    assert edited_size == (1024, 1024)
    assert Image.open(io.BytesIO(varied)).size == (256, 256)
    assert kinds == ["PartialImageEvent", "ImageCompletedEvent"]


def test_saved_files_get_the_usual_permissions(client: ImagesClient, tmp_path: Path) -> None:
    saved = client.generate("p", size="256x256", response_format="b64_json").images[0].save(tmp_path / "x")
    umask = os.umask(0o022)
    os.umask(umask)
    assert saved.stat().st_mode & 0o777 == 0o666 & ~umask
