"""The client against servers that answer unlike OpenAI (tests/support/dialect_servers.py).

Each case is one way a real server departs from the OpenAI shape that users meet: what the
client makes of it, and that nothing is fetched, retried or quoted that should not be.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from pathlib import Path

import pytest

from imagegen import (
    AsyncImagesClient,
    ImageCompletedEvent,
    ImagesClient,
    InvalidImageDataError,
    InvalidResponseError,
    StreamError,
)
from tests.support import dialect_servers
from tests.support.dialect_servers import PNG, PNG_B64
from tests.support.images import png_bytes

from .support.cli import IMAGEGEN


def client(base_url: str, **options: object) -> ImagesClient:
    return ImagesClient(base_url=base_url, api_key="sk-dialect-test-1", max_retries=2, **options)  # type: ignore[arg-type]


# -- a stream request answered with one JSON body ----------------------------------------------------


def test_a_stream_answered_with_json_gives_completed_events(caplog: pytest.LogCaptureFixture) -> None:
    with dialect_servers.localai() as server, client(server.base_url) as images:
        caplog.set_level(logging.DEBUG, logger="imagegen")
        with images.generate("otter", model="sd-1.5-ggml", n=2, stream=True) as stream:
            events = list(stream)
        assert [type(event) for event in events] == [ImageCompletedEvent, ImageCompletedEvent]
        assert [event.streamed for event in events] == [False, False]
        assert [event.image.index for event in events] == [0, 1]
        # LocalAI answers URLs: the images download from the server that made them
        assert events[1].image.bytes() == PNG
        assert [seen.path for seen in server.seen] == [
            "/v1/images/generations",
            "/generated-images/b641.png",
        ]
        assert server.seen[0].json()["stream"] is True
    assert any("read as one answer" in record.getMessage() for record in caplog.records)


def test_a_stream_answered_with_json_async() -> None:
    async def run() -> list[bytes]:
        with dialect_servers.vllm_omni() as server:
            async with AsyncImagesClient(base_url=server.base_url, api_key="sk-x-1") as images:
                stream = await images.generate("otter", model="gpt-image-1.5", stream=True)
                return [await image.bytes() for image in await stream.until_done()]

    assert asyncio.run(run()) == [PNG]


# -- other stream formats ----------------------------------------------------------------------------


def test_vllm_omni_edit_stream_is_read() -> None:
    with dialect_servers.vllm_omni() as server, client(server.base_url) as images:
        with images.edit(png_bytes(), "a hat", model="gpt-image-1.5", stream=True) as stream:
            events = list(stream)
            assert stream.images[0].bytes() == PNG
        assert [(event.type, event.size, event.output_format) for event in events] == [
            ("image.edit.chunk", "48x32", "png")
        ]
        assert isinstance(events[0], ImageCompletedEvent)
        assert events[0].streamed


def test_vllm_omni_stream_error_is_a_stream_error_with_its_message() -> None:
    with dialect_servers.vllm_omni(fail=True) as server, client(server.base_url) as images:
        stream = images.edit(png_bytes(), "a hat", model="gpt-image-1.5", stream=True)
        with pytest.raises(StreamError, match="image generation failed"):
            stream.until_done()
        assert len(server.seen) == 1


def test_xinference_progress_then_result_stream_is_read() -> None:
    with dialect_servers.xinference() as server, client(server.base_url) as images:
        stream = images.edit(png_bytes(), "a hat", model="gpt-image-1.5", stream=True)
        assert [image.bytes() for image in stream.until_done()] == [PNG]


def test_unknown_events_are_named_when_the_stream_ends_without_images() -> None:
    with dialect_servers.unknown_stream() as server, client(server.base_url) as images:
        stream = images.generate("otter", model="gpt-image-1.5", stream=True)
        with pytest.raises(StreamError) as caught:
            stream.until_done()
        assert stream.unknown_events == {"image.progress": 3, "image.final": 1}
    message = str(caught.value)
    assert "ended after 0 of 1 image(s)" in message
    assert "image.progress (3)" in message
    assert "image.final (1)" in message
    assert PNG_B64[:40] not in message


# -- every form of url -------------------------------------------------------------------------------


def test_a_data_url_is_decoded_locally_and_never_fetched() -> None:
    with dialect_servers.openedai_images() as server, client(server.base_url) as images:
        result = images.generate("otter", model="dall-e-2", response_format="url")
        image = result.images[0]
        assert image.bytes() == PNG
        assert image.size == (48, 32)
        assert PNG_B64 not in repr(image)
        assert "<data:image/png URL" in repr(image)
        assert len(server.seen) == 1


def test_a_broken_data_url_is_refused_without_quoting_it() -> None:
    broken = "data:image/png;base64," + "%%%%" + PNG_B64[:200]
    from imagegen import GeneratedImage

    image = GeneratedImage(index=3, b64_json=None, url=broken)
    with pytest.raises(InvalidImageDataError, match="image 3 of the answer is a data: URL") as caught:
        image.bytes()
    assert PNG_B64[:40] not in str(caught.value)


def test_a_path_on_the_servers_disk_is_refused_and_not_retried(tmp_path: Path) -> None:
    with dialect_servers.xinference() as server, client(server.base_url) as images:
        result = images.generate("otter", model="dall-e-2")
        with pytest.raises(InvalidResponseError, match="path on the server's own disk") as caught:
            result.images[0].bytes()
        assert "allow_local_paths=True" in str(caught.value)
        assert len(server.seen) == 1  # nothing was fetched, nothing retried


@pytest.mark.parametrize("form", ["path", "file-url"])
def test_local_paths_are_read_when_allowed(tmp_path: Path, form: str) -> None:
    made = tmp_path / "made by server.png"
    made.write_bytes(PNG)
    url = str(made) if form == "path" else made.as_uri()
    with dialect_servers.xinference(url) as server, client(server.base_url, allow_local_paths=True) as images:
        assert images.generate("otter", model="dall-e-2").images[0].bytes() == PNG


def test_an_unknown_url_scheme_is_refused() -> None:
    from imagegen import GeneratedImage

    with ImagesClient(base_url="http://127.0.0.1:9/v1", api_key="sk-x-1", max_retries=0) as images:
        image = GeneratedImage(index=0, b64_json=None, url="s3://bucket/key.png", download=images._download)
        with pytest.raises(InvalidResponseError, match="s3: URL, which this client cannot download"):
            image.bytes()


# -- a 200 without images ------------------------------------------------------------------------------


def test_a_success_without_images_is_an_error_that_says_so() -> None:
    with dialect_servers.empty_answers() as server, client(server.base_url) as images:
        with pytest.raises(
            InvalidResponseError, match=r"no images \(an empty `data`\), where 1 were asked"
        ) as caught:
            images.generate("otter", model="dall-e-2")
        assert "req-empty-1" in str(caught.value)
        assert len(server.seen) == 1  # not retried: asking again would bill again


def test_a_generic_request_may_answer_without_images() -> None:
    with dialect_servers.empty_answers() as server, client(server.base_url) as images:
        result = images.request("createImage", body={"prompt": "otter", "model": "dall-e-2"})
        assert result.images == []
        assert result.body["data"] == []


def test_the_command_line_reports_a_path_answer_clearly(tmp_path: Path) -> None:
    with dialect_servers.xinference() as server:
        done = subprocess.run(
            [IMAGEGEN, "generate", "otter", "--model", "dall-e-2", "--url", server.base_url,
             "-o", str(tmp_path)],
            capture_output=True, text=True, timeout=60, check=False,
            env={"OPENAI_API_KEY": "sk-dialect-cli-1", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    assert done.returncode != 0
    assert "path on the server's own disk" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())
