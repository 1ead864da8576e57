"""Edits by reference: the JSON form of /images/edits from the client and the command line."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from pathlib import Path

import pytest

from imagegen import AsyncImagesClient, BadRequestError, ImagesClient, UploadError
from tests.conftest import REFERENCE_TOKEN
from tests.support.images import mask_bytes, png_bytes
from tests.support.recording_server import recording_server

from .support.cli import IMAGEGEN

ANSWER = {"created": 1, "data": [{"b64_json": base64.b64encode(png_bytes(8, 8)).decode()}]}


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_references_are_sent_as_the_contracts_json_form() -> None:
    with recording_server() as server, ImagesClient(base_url=server.base_url, api_key="sk-json-1") as client:
        server.reply_json(ANSWER)
        client.edit(
            ["https://example.com/a.png", {"file_id": "file-abc"}, png_bytes(16, 16)],
            "Put them in a basket",
            mask={"file_id": "file-mask"},
            model="gpt-image-1.5",
            quality="low",
        )
        sent = server.last
        assert sent.headers["content-type"] == "application/json"
        body = sent.json()
        assert body["images"][:2] == [{"image_url": "https://example.com/a.png"}, {"file_id": "file-abc"}]
        assert body["images"][2] == {"image_url": data_url(png_bytes(16, 16))}  # a local image, inline
        assert body["mask"] == {"file_id": "file-mask"}
        assert (body["prompt"], body["model"], body["quality"]) == (
            "Put them in a basket",
            "gpt-image-1.5",
            "low",
        )


def test_local_images_stay_multipart_unless_json_is_asked_for() -> None:
    with recording_server() as server, ImagesClient(base_url=server.base_url, api_key="sk-json-1") as client:
        server.reply_json(ANSWER)
        server.reply_json(ANSWER)
        client.edit(png_bytes(), "a hat", model="gpt-image-1.5", mask=mask_bytes())
        assert server.last.headers["content-type"].startswith("multipart/form-data")
        client.edit(png_bytes(), "a hat", model="gpt-image-1.5", mask=mask_bytes(), form="json")
        body = server.last.json()
        assert body["images"] == [{"image_url": data_url(png_bytes())}]
        assert body["mask"] == {"image_url": data_url(mask_bytes())}


@pytest.mark.parametrize(
    ("image", "options", "said"),
    [
        (
            {"file_id": "file-1"},
            {"form": "multipart"},
            "file file-1 is a reference, which only the JSON form",
        ),
        ("https://example.com/a.png", {"model": "dall-e-2"}, "dall-e-2 takes no JSON edits"),
        ({"url": "https://example.com/a.png"}, {}, "must be {'image_url': URL} or {'file_id': ID}"),
        (png_bytes(), {"form": "xml"}, "form must be 'json' or 'multipart'"),
    ],
)
def test_what_cannot_be_sent_is_refused_before_sending(
    image: object, options: dict[str, str], said: str
) -> None:
    with recording_server() as server, ImagesClient(base_url=server.base_url, api_key="sk-json-1") as client:
        arguments = {"model": "gpt-image-1.5", **options}
        with pytest.raises((UploadError, ValueError)) as caught:
            client.edit(image, "a hat", **arguments)  # type: ignore[arg-type]
        assert said in str(caught.value)
        assert server.requests == []


def test_a_json_edit_with_a_data_url_against_the_reference_server(reference_url: str) -> None:
    with ImagesClient(base_url=reference_url, api_key=REFERENCE_TOKEN) as client:
        result = client.edit(data_url(png_bytes(64, 64)), "a hat", model="gpt-image-1.5", size="1024x1024")
        assert result.images[0].size == (1024, 1024)
        with pytest.raises(BadRequestError, match="does not fetch image URLs") as caught:
            client.edit("https://example.com/a.png", "a hat", model="gpt-image-1.5", max_retries=0)
        assert caught.value.param == "images[0].image_url"


def test_the_async_client_sends_json_edits(reference_url: str) -> None:
    async def run() -> tuple[int, int] | None:
        async with AsyncImagesClient(base_url=reference_url, api_key=REFERENCE_TOKEN) as client:
            result = await client.edit(
                png_bytes(), "a hat", model="gpt-image-1.5", form="json", size="1024x1024"
            )
            await result.images[0].bytes()
            return result.images[0].size

    assert asyncio.run(run()) == (1024, 1024)


def test_the_command_line_takes_image_urls_and_file_ids(tmp_path: Path, reference_url: str) -> None:
    env = {"OPENAI_API_KEY": REFERENCE_TOKEN, "PATH": "/usr/bin:/bin"}

    def edit(*args: str, url: str = reference_url) -> subprocess.CompletedProcess[str]:
        command = [IMAGEGEN, "edit", *args, "--prompt", "a hat", "--model", "gpt-image-1.5", "--url", url]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=env)

    done = edit("--image-url", data_url(png_bytes()), "-o", str(tmp_path), "--size", "1024x1024")
    assert done.returncode == 0, done.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["image-edited-1.png"]
    with recording_server() as server:
        server.reply_json(ANSWER)
        done = edit("--file-id", "file-abc", "--mask-file-id", "file-mask", "--json", url=server.base_url)
        assert done.returncode == 0, done.stderr
        assert json.loads(server.last.body) | {"prompt": "a hat"} == {
            "images": [{"file_id": "file-abc"}],
            "mask": {"file_id": "file-mask"},
            "prompt": "a hat",
            "model": "gpt-image-1.5",
        }
    done = edit()
    assert done.returncode == 2
    assert "give the image(s) to edit" in done.stderr
