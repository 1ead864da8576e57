"""The reference server under hostile input and load: pixel budgets, a bounded pool that answers
503 when full, an event loop that never waits behind painting, bounded error echoes, JSON depth,
(The access log, which never holds a query string, is tested on `imagegen serve` itself.)"""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from imagegen.server import Limits, ServerConfig, serve_in_background
from imagegen.server.pool import WorkPool

from .conftest import REFERENCE_TOKEN

BIG = 4096


def zeros_png(width: int = BIG, height: int = BIG) -> bytes:
    """The issue's case: a PNG of zeros, tiny on the wire (65 KB), 67 MB once decoded."""
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def big_png() -> bytes:
    return zeros_png()


@pytest.fixture(scope="module")
def tight_url() -> Iterator[str]:
    """A server that runs one job and queues none, and takes four 4096x4096 images."""
    limits = Limits(max_request_pixels=4 * BIG * BIG)
    config = ServerConfig(auth=False, jobs=1, queue=0, limits=limits)
    with serve_in_background(config) as url:
        yield url


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def test_sixteen_big_images_are_refused_at_once_by_the_default_pixel_budget(
    reference_url: str, big_png: bytes
) -> None:
    files = [("image[]", (f"{i}.png", big_png, "image/png")) for i in range(16)]
    started = time.monotonic()
    answer = httpx.post(
        f"{reference_url}/images/edits",
        files=files,
        data={"prompt": "p", "model": "gpt-image-1", "quality": "low"},
        headers={"Authorization": f"Bearer {REFERENCE_TOKEN}"},
        timeout=60,
    )
    elapsed = time.monotonic() - started

    assert answer.status_code == 413, answer.text[:300]
    error = error_of(answer)
    assert (error["code"], error["param"]) == ("too_many_pixels", "image[]")
    assert "268435456 pixels in all" in error["message"]
    assert elapsed < 2.0  # nothing was decoded (decoding them took 12 s and 2 GB)


def test_a_full_pool_answers_503_with_retry_after_at_once(tight_url: str) -> None:
    host, port = tight_url.removeprefix("http://").split("/")[0].split(":")
    body = json.dumps({"prompt": "p", "size": "256x256"}).encode()
    with socket.create_connection((host, int(port))) as slow:
        # The first request holds the only place while its body trickles in.
        slow.sendall(
            b"POST /v1/images/generations HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body[:5]
        )
        time.sleep(0.2)
        busy = httpx.post(f"{tight_url}/images/generations", json={"prompt": "p", "size": "256x256"})
        slow.sendall(body[5:])
        first = slow.recv(65536).split(b"\r\n", 1)[0]

    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert error_of(busy)["code"] == "server_busy"
    assert first == b"HTTP/1.1 200 OK"
    after = httpx.post(f"{tight_url}/images/generations", json={"prompt": "p", "size": "256x256"})
    assert after.status_code == 200  # the place was given back


def test_health_answers_at_once_while_a_heavy_edit_decodes_and_paints(tight_url: str, big_png: bytes) -> None:
    root = tight_url.removesuffix("/v1")
    latencies: list[float] = []
    done = threading.Event()

    def poll() -> None:
        with httpx.Client() as client:
            while not done.is_set():
                started = time.perf_counter()
                assert client.get(f"{root}/health").status_code == 200
                latencies.append(time.perf_counter() - started)
                time.sleep(0.005)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        time.sleep(0.05)
        files = [("image[]", (f"{i}.png", big_png, "image/png")) for i in range(4)]
        data = {"prompt": "p", "model": "gpt-image-1", "quality": "low", "size": "1024x1024"}
        answer = httpx.post(f"{tight_url}/images/edits", files=files, data=data, timeout=120)
    finally:
        done.set()
        poller.join()

    assert answer.status_code == 200, answer.text[:300]
    # Decoding these four on the event loop held /health for 0.7 s (2.4 s on a busy machine).
    assert max(latencies) < 0.35, sorted(latencies)[-5:]


@pytest.mark.parametrize(
    "body",
    [
        b'{"prompt": "p", "images": [{"image_url": ' + b"[" * 960 + b"]" * 960 + b"}]}",
        b'{"prompt": "p", "model": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"prompt": "p", "user": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}",
    ],
    ids=["960-levels", "100000-levels", "40-levels"],
)
def test_deeply_nested_json_is_a_422_in_the_envelope(reference_url: str, body: bytes) -> None:
    answer = httpx.post(
        f"{reference_url}/images/edits" if b"images" in body else f"{reference_url}/images/generations",
        content=body,
        headers={"content-type": "application/json", "Authorization": f"Bearer {REFERENCE_TOKEN}"},
    )
    assert answer.status_code == 422, answer.text[:300]
    assert error_of(answer)["code"] in ("invalid_json", "json_too_deep")


def test_a_huge_value_is_not_echoed_whole(reference_url: str) -> None:
    answer = httpx.post(
        f"{reference_url}/images/generations",
        json={"prompt": "p", "model": "m" * 1_000_000},
        headers={"Authorization": f"Bearer {REFERENCE_TOKEN}"},
    )
    assert answer.status_code == 400
    error = error_of(answer)
    assert error["param"] == "model"
    assert len(answer.content) < 3000
    assert "'" + "m" * 80 + "'… (999920 more characters)" in error["message"]


def test_by_default_a_worker_runs_two_jobs_at_once_and_no_more() -> None:
    """One job compresses (zlib, without the interpreter lock) while the other draws."""
    config = ServerConfig(auth=False)
    pool = WorkPool(config.jobs, config.queue, config.busy_retry_after_s)
    both = threading.Barrier(2, timeout=10)  # broken unless two tasks run at the same time
    running, most = [0], [0]
    lock = threading.Lock()

    def job() -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            both.wait()
            time.sleep(0.05)
        finally:
            with lock:
                running[0] -= 1

    async def four() -> None:
        await asyncio.gather(*(pool.run(job) for _ in range(4)))

    try:
        asyncio.run(four())
    finally:
        pool.close()
    assert most[0] == 2
