"""The files API end to end: `client.files` (sync and async) against the reference server, edits
by file_id, whose files a token sees, the store's bound, and what a wrong upload is told."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from imagegen import AsyncImagesClient, FileObject, ImagesClient
from imagegen.errors import APIStatusError, BadRequestError, NotFoundError, UploadError
from imagegen.server import ServerConfig, serve_in_background
from tests.conftest import REFERENCE_TOKEN
from tests.support.images import png_bytes

ALICE, BOB = "sk-files-alice-71c2", "sk-files-bob-93ad"
STORE_BYTES = 256 * 1024


@pytest.fixture(scope="module")
def small_store_url() -> Iterator[str]:
    """A server with two tokens and a file store of 256 KiB."""
    config = ServerConfig(tokens=frozenset({ALICE, BOB}), files_max_bytes=STORE_BYTES)
    with serve_in_background(config) as url:
        yield url


def test_an_uploaded_image_is_described_listed_read_edited_by_id_and_deleted(reference_url: str) -> None:
    photo = png_bytes(96, 96, (20, 120, 220, 255))
    with ImagesClient(base_url=reference_url, api_key=REFERENCE_TOKEN) as client:
        uploaded = client.files.upload(photo, filename="photo.png")
        assert isinstance(uploaded, FileObject)
        assert (uploaded.purpose, uploaded.filename, uploaded.bytes) == ("vision", "photo.png", len(photo))
        assert uploaded.id.startswith("file-")
        assert client.files.get(uploaded.id) == uploaded
        assert client.files.content(uploaded.id) == photo
        # Served as the contract documents a file's bytes, whatever type they were uploaded as.
        raw = httpx.get(
            f"{reference_url}/files/{uploaded.id}/content",
            headers={"Authorization": f"Bearer {REFERENCE_TOKEN}"},
        )
        assert (raw.content, raw.headers["content-type"]) == (photo, "application/octet-stream")
        assert uploaded.id in [item.id for item in client.files.iterate(purpose="vision")]

        edited = client.edit(uploaded, "add a red hat", model="gpt-image-1.5", size="1024x1024")
        image = Image.open(io.BytesIO(edited.images[0].bytes()))
        assert (image.format, image.size) == ("PNG", (1024, 1024))

        deleted = client.files.delete(uploaded.id)
        assert (deleted.id, deleted.deleted) == (uploaded.id, True)
        with pytest.raises(NotFoundError, match=uploaded.id):
            client.files.get(uploaded.id)
        with pytest.raises(BadRequestError, match="file_id"):
            client.edit(uploaded, "again", model="gpt-image-1.5")


def test_the_async_files_edit_by_id_take_any_file_with_an_expiry_and_page_through(reference_url: str) -> None:
    async def scenario() -> None:
        async with AsyncImagesClient(base_url=reference_url, api_key=REFERENCE_TOKEN) as client:
            notes = [
                await client.files.upload(f"note {i}".encode(), purpose="user_data", filename=f"note-{i}.txt")
                for i in range(3)
            ]
            photo = await client.files.upload(png_bytes(48, 48))
            edited = await client.edit(photo, "add a hat", model="gpt-image-1.5", size="1024x1024")
            assert Image.open(io.BytesIO(await edited.images[0].bytes())).size == (1024, 1024)
            assert (await client.files.delete(photo.id)).deleted
            kept = await client.files.upload(b"kept", purpose="user_data", expires_after=3600)
            assert kept.expires_at is not None
            assert kept.expires_at - kept.created_at == 3600
            assert await client.files.content(notes[1].id) == b"note 1"

            page = await client.files.list(purpose="user_data", limit=2)
            assert len(page) == 2
            assert page.has_more
            seen = [item.id async for item in client.files.iterate(purpose="user_data", limit=2)]
            assert {note.id for note in notes} | {kept.id} <= set(seen)
            assert len(seen) == len(set(seen))
            for item in [*notes, kept]:
                assert (await client.files.delete(item.id)).deleted

    asyncio.run(scenario())


def test_a_token_sees_only_its_own_files(small_store_url: str) -> None:
    with (
        ImagesClient(base_url=small_store_url, api_key=ALICE) as alice,
        ImagesClient(base_url=small_store_url, api_key=BOB) as bob,
    ):
        mine = alice.files.upload(png_bytes(32, 32))
        with pytest.raises(NotFoundError):
            bob.files.get(mine.id)
        with pytest.raises(NotFoundError):
            bob.files.content(mine.id)
        with pytest.raises(NotFoundError):
            bob.files.delete(mine.id)
        assert mine.id not in [item.id for item in bob.files.iterate()]
        with pytest.raises(BadRequestError, match="file_id"):
            bob.edit(mine, "a hat", model="gpt-image-1.5")
        assert alice.files.get(mine.id).id == mine.id  # Bob's attempts changed nothing
        alice.files.delete(mine.id)


def test_a_file_larger_than_the_store_is_refused_with_413(small_store_url: str) -> None:
    with (
        ImagesClient(base_url=small_store_url, api_key=ALICE, max_retries=0) as client,
        pytest.raises(APIStatusError) as raised,
    ):
        client.files.upload(b"x" * (STORE_BYTES + 1), purpose="user_data", filename="big.bin")
    assert raised.value.status_code == 413
    assert "larger than this server's file store" in str(raised.value)


def test_a_vision_file_must_be_an_image(reference_url: str) -> None:
    with (
        ImagesClient(base_url=reference_url, api_key=REFERENCE_TOKEN) as client,
        pytest.raises(UploadError),  # checked before anything is sent
    ):
        client.files.upload(b"not an image at all", purpose="vision")
    # A client that does not check is told by the server.
    answer = httpx.post(
        f"{reference_url}/files",
        headers={"Authorization": f"Bearer {REFERENCE_TOKEN}"},
        data={"purpose": "vision"},
        files={"file": ("notes.txt", b"not an image at all", "text/plain")},
        timeout=30,
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_image"
    assert "user_data" in error["message"]


def test_a_wrong_upload_is_a_clear_error(reference_url: str) -> None:
    with ImagesClient(base_url=reference_url, api_key=REFERENCE_TOKEN) as client:
        with pytest.raises(UploadError, match="empty"):
            client.files.upload(b"", purpose="user_data")
        with pytest.raises(UploadError, match="cannot read"):
            client.files.upload("/nonexistent/notes.txt", purpose="user_data")
        with pytest.raises(TypeError, match="binary mode"):
            client.files.upload(io.StringIO("text"), purpose="user_data")  # type: ignore[arg-type]
