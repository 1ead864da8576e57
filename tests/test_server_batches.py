"""The reference server's Batch API, driven by the official openai SDK and by hand: batches of
generations and of JSON edits run in the background, bad input files fail with their line
numbers, a cancelled batch keeps what it did, and a killed server's batch is finished by the next."""

from __future__ import annotations

import base64
import io
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from imagegen.server import ServerConfig, serve_in_background
from tests.conftest import REFERENCE_TOKEN
from tests.support.images import png_bytes
from tests.test_serve_command import serving

POLL_LIMIT_S = 60.0
SLOW_TOKEN = "sk-batches-slow-5e1f"


@pytest.fixture(scope="module")
def sdk(reference_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=reference_url, api_key=REFERENCE_TOKEN, max_retries=0, timeout=60) as made:
        yield made


@pytest.fixture(scope="module")
def slow_url() -> Iterator[str]:
    """A server that waits 0.3 s before each request of a batch."""
    with serve_in_background(ServerConfig(tokens=frozenset({SLOW_TOKEN}), batch_delay_s=0.3)) as url:
        yield url


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def line(custom_id: str, url: str = "/v1/images/generations", **body: Any) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


def until_ended(sdk: openai.OpenAI, batch_id: str) -> Any:
    """The batch once it has ended, polled (bounded in time)."""
    deadline = time.monotonic() + POLL_LIMIT_S
    while time.monotonic() < deadline:
        batch = sdk.batches.retrieve(batch_id)
        if batch.status in ("completed", "failed", "cancelled", "expired"):
            return batch
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} still {batch.status} after {POLL_LIMIT_S} s")


def results_of(sdk: openai.OpenAI, file_id: str | None) -> dict[str, dict[str, Any]]:
    assert file_id, "the batch has no such file"
    text = sdk.files.content(file_id).text
    found = [json.loads(row) for row in text.splitlines()]
    by_id = {row["custom_id"]: row for row in found}
    assert len(by_id) == len(found), "a custom_id has two results"
    return by_id


def test_the_official_sdk_runs_a_batch_of_generations(sdk: openai.OpenAI) -> None:
    requests = [
        line(f"lamp-{i}", prompt=f"a lamp, take {i}", model="gpt-image-1.5", size="1024x1024")
        for i in range(3)
    ]
    requests.append(line("too-many", prompt="p", model="dall-e-3", n=2))  # fails: dall-e-3 makes one
    uploaded = sdk.files.create(file=("requests.jsonl", jsonl(requests)), purpose="batch")
    assert uploaded.purpose == "batch"
    created = sdk.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/images/generations",
        completion_window="24h",
        metadata={"job": "lamps"},
    )
    assert created.status in ("validating", "in_progress")

    batch = until_ended(sdk, created.id)

    assert batch.status == "completed"
    assert batch.metadata == {"job": "lamps"}
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (
        4,
        3,
        1,
    )
    done = results_of(sdk, batch.output_file_id)
    assert sorted(done) == ["lamp-0", "lamp-1", "lamp-2"]
    for result in done.values():
        assert result["response"]["status_code"] == 200
        image = Image.open(io.BytesIO(base64.b64decode(result["response"]["body"]["data"][0]["b64_json"])))
        assert (image.format, image.size) == ("PNG", (1024, 1024))
    failed = results_of(sdk, batch.error_file_id)
    assert failed["too-many"]["response"]["status_code"] == 400
    assert failed["too-many"]["response"]["body"]["error"]["param"] == "n"
    assert created.id in [item.id for item in sdk.batches.list(limit=100)]


def test_a_batch_of_json_edits_refers_to_an_uploaded_image(sdk: openai.OpenAI) -> None:
    photo = sdk.files.create(file=("photo.png", png_bytes(64, 64)), purpose="vision")
    requests = [
        line(
            f"hat-{i}",
            url="/v1/images/edits",
            prompt=f"add hat {i}",
            model="gpt-image-1.5",
            size="1024x1024",
            images=[{"file_id": photo.id}],
        )
        for i in range(2)
    ]
    uploaded = sdk.files.create(file=("edits.jsonl", jsonl(requests)), purpose="batch")
    batch = until_ended(
        sdk,
        sdk.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/images/edits", completion_window="24h"
        ).id,
    )
    assert batch.status == "completed", batch.errors
    assert sorted(results_of(sdk, batch.output_file_id)) == ["hat-0", "hat-1"]


def test_a_bad_input_file_fails_the_batch_with_its_line_numbers(sdk: openai.OpenAI) -> None:
    text = b"\n".join(
        [
            json.dumps(line("a", prompt="p")).encode(),
            b"{not json",
            json.dumps(line("a", prompt="p again")).encode(),
            json.dumps(line("b", url="/v1/images/edits", prompt="p")).encode(),
        ]
    )
    uploaded = sdk.files.create(file=("bad.jsonl", text), purpose="batch")
    batch = until_ended(
        sdk,
        sdk.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/images/generations", completion_window="24h"
        ).id,
    )
    assert batch.status == "failed"
    assert batch.errors is not None
    assert batch.errors.data is not None
    errors = {error.line: error.message for error in batch.errors.data}
    assert sorted(errors) == [2, 3, 4]
    assert "not valid JSON" in str(errors[2])
    assert "used by an earlier line" in str(errors[3])
    assert "/v1/images/generations" in str(errors[4])


def test_creating_a_batch_of_a_file_that_is_not_a_batch_file_is_refused(sdk: openai.OpenAI) -> None:
    photo = sdk.files.create(file=("photo.png", png_bytes(16, 16)), purpose="vision")
    with pytest.raises(openai.BadRequestError, match="purpose 'batch'"):
        sdk.batches.create(input_file_id=photo.id, endpoint="/v1/images/generations", completion_window="24h")
    with pytest.raises(openai.NotFoundError):
        sdk.batches.retrieve("batch_nope")
    # A file that does not exist is not found (404, as the contract lists), not a bad request.
    with pytest.raises(openai.NotFoundError, match="file-nope"):
        sdk.batches.create(
            input_file_id="file-nope", endpoint="/v1/images/generations", completion_window="24h"
        )


def test_a_batch_body_is_read_as_any_other_json_body(reference_url: str) -> None:
    headers = {"Authorization": f"Bearer {REFERENCE_TOKEN}", "Content-Type": "application/json"}
    deep = b'{"input_file_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = httpx.post(f"{reference_url}/batches", content=deep, headers=headers, timeout=30)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] in ("invalid_json", "json_too_deep")
    missing = httpx.post(
        f"{reference_url}/batches", json={"endpoint": "/v1/images/generations"}, headers=headers
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "input_file_id"


def test_a_cancelled_batch_stops_and_keeps_what_it_did(slow_url: str) -> None:
    with openai.OpenAI(base_url=slow_url, api_key=SLOW_TOKEN, max_retries=0, timeout=60) as sdk:
        requests = [line(f"slow-{i}", prompt=f"p {i}", model="dall-e-2", size="256x256") for i in range(20)]
        uploaded = sdk.files.create(file=("slow.jsonl", jsonl(requests)), purpose="batch")
        created = sdk.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/images/generations", completion_window="24h"
        )
        deadline = time.monotonic() + POLL_LIMIT_S
        while sdk.batches.retrieve(created.id).request_counts.completed < 1:  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert sdk.batches.cancel(created.id).status in ("cancelling", "cancelled")

        batch = until_ended(sdk, created.id)

        assert batch.status == "cancelled"
        assert batch.request_counts is not None
        assert 1 <= batch.request_counts.completed < 20
        assert len(results_of(sdk, batch.output_file_id)) == batch.request_counts.completed
        with pytest.raises(openai.ConflictError, match="cannot be cancelled"):
            sdk.batches.cancel(created.id)


def test_a_batch_of_a_killed_server_is_finished_by_the_next_one(tmp_path: Path) -> None:
    data = tmp_path / "store"
    args = ("--token", SLOW_TOKEN, "--quiet", "--data-dir", str(data), "--batch-delay", "0.2")
    requests = [line(f"kept-{i}", prompt=f"p {i}", model="dall-e-2", size="256x256") for i in range(8)]
    with serving(*args) as (url, process):
        with openai.OpenAI(base_url=url, api_key=SLOW_TOKEN, max_retries=0, timeout=60) as sdk:
            uploaded = sdk.files.create(file=("kept.jsonl", jsonl(requests)), purpose="batch")
            batch_id = sdk.batches.create(
                input_file_id=uploaded.id, endpoint="/v1/images/generations", completion_window="24h"
            ).id
            deadline = time.monotonic() + POLL_LIMIT_S
            while sdk.batches.retrieve(batch_id).request_counts.completed < 2:  # type: ignore[union-attr]
                assert time.monotonic() < deadline
                time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    with (
        serving(*args) as (url, _),
        openai.OpenAI(base_url=url, api_key=SLOW_TOKEN, max_retries=0, timeout=60) as sdk,
    ):
        batch = until_ended(sdk, batch_id)
        assert batch.status == "completed"
        assert sorted(results_of(sdk, batch.output_file_id)) == sorted(r["custom_id"] for r in requests)
        assert batch.error_file_id is None


def test_a_batch_belongs_to_its_token() -> None:
    mine, theirs = "sk-batches-mine-11aa", "sk-batches-theirs-22bb"
    with serve_in_background(ServerConfig(tokens=frozenset({mine, theirs}))) as url:
        with (
            openai.OpenAI(base_url=url, api_key=mine, max_retries=0, timeout=60) as owner,
            openai.OpenAI(base_url=url, api_key=theirs, max_retries=0, timeout=60) as other,
        ):
            uploaded = owner.files.create(
                file=("one.jsonl", jsonl([line("one", prompt="p")])), purpose="batch"
            )
            with pytest.raises(openai.NotFoundError, match="No file"):
                other.batches.create(
                    input_file_id=uploaded.id, endpoint="/v1/images/generations", completion_window="24h"
                )
            created = owner.batches.create(
                input_file_id=uploaded.id, endpoint="/v1/images/generations", completion_window="24h"
            )
            with pytest.raises(openai.NotFoundError):
                other.batches.retrieve(created.id)
            with pytest.raises(openai.NotFoundError):
                other.batches.cancel(created.id)
            assert created.id not in [item.id for item in other.batches.list()]
            assert until_ended(owner, created.id).status == "completed"
        assert httpx.get(f"{url}/batches", timeout=30).status_code == 401
