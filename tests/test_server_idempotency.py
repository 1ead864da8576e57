"""Idempotency keys on the reference server: concurrent repeats generate once, streams are
replayed whole, a failed holder gives the key up, and the remembered answers are bounded."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagegen.server import ServerConfig, serve_in_background
from imagegen.server.idempotency import Claim, IdempotencyRecords
from imagegen.server.storage import Store

from .conftest import REFERENCE_TOKEN

SLOW = {"prompt": "a slow one", "model": "dall-e-2", "size": "1024x1024", "n": 6}  # about half a second


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    config = ServerConfig(auth=False, jobs=2, faults_enabled=True, stream_delay_s=0.05)
    with serve_in_background(config) as base_url:
        yield base_url


def key() -> str:
    return f"key-{time.monotonic_ns()}"


def generations(url: str, idempotency_key: str) -> dict[str, Any]:
    answer = httpx.get(f"{url}/debug/idempotency/{idempotency_key}")
    assert answer.status_code == 200
    operations: dict[str, Any] = answer.json()["operations"]
    return operations


def test_concurrent_requests_with_one_key_generate_once(url: str) -> None:
    headers = {"Idempotency-Key": key()}

    def send(delay: float) -> httpx.Response:
        time.sleep(delay)
        return httpx.post(f"{url}/images/generations", json=SLOW, headers=headers, timeout=60)

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(send, (0.0, 0.1, 0.2)))

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    first = answers[0].json()
    assert all(answer.json() == first for answer in answers)  # the same URLs: generated once
    record = generations(url, headers["Idempotency-Key"])["generations"]
    assert (record["state"], record["generations"]) == ("done", 1)
    assert record["expires_at"] == pytest.approx(time.time() + 3600, abs=60)


def test_a_stream_is_replayed_whole_to_a_repeat_that_came_while_it_ran(url: str) -> None:
    headers = {"Idempotency-Key": key()}
    body = {"prompt": "p", "model": "gpt-image-1-mini", "quality": "low", "stream": True, "partial_images": 2}
    results: list[httpx.Response] = []

    def send() -> None:
        results.append(httpx.post(f"{url}/images/generations", json=body, headers=headers, timeout=60))

    first = threading.Thread(target=send)
    first.start()
    time.sleep(0.1)
    send()
    first.join()

    assert [answer.status_code for answer in results] == [200, 200]
    assert results[0].content == results[1].content
    assert results[0].content.count(b"event: image_generation.") == 3
    assert generations(url, headers["Idempotency-Key"])["generations"]["generations"] == 1


def test_a_truncated_stream_gives_the_key_up_so_a_retry_generates(url: str) -> None:
    headers = {"Idempotency-Key": key()}
    body = {"prompt": "p", "model": "gpt-image-1-mini", "quality": "low", "stream": True, "partial_images": 1}
    cut = httpx.post(
        f"{url}/images/generations",
        json=body,
        headers={**headers, "X-Imagegen-Fault": f"truncate=1; id={key()}"},
        timeout=60,
    )
    assert not cut.content.endswith(b"}\n\n")  # cut in the middle of the completed event
    assert generations(url, headers["Idempotency-Key"]) == {}  # given up: no record is left

    retried = httpx.post(f"{url}/images/generations", json=body, headers=headers, timeout=60)

    assert retried.content.count(b"event: image_generation.completed") == 1
    assert generations(url, headers["Idempotency-Key"])["generations"]["generations"] == 1


def test_remembered_answers_are_bounded_in_bytes_oldest_out_first() -> None:
    config = ServerConfig(auth=False, idempotency_max_bytes=400_000)
    body = {"prompt": "p", "model": "gpt-image-1-mini", "quality": "low", "size": "1024x1024"}
    with serve_in_background(config) as url, httpx.Client(base_url=url, timeout=60) as http:
        keys = [key() for _ in range(14)]  # about 45 KB each: more than the bound holds
        for each in keys:
            answer = http.post("/images/generations", json=body, headers={"Idempotency-Key": each})
            assert answer.status_code == 200
        usage = http.get("/debug/store").json()["buckets"]["idempotency"]
        kept = [each for each in keys if generations(url, each)]

    assert usage["used_bytes"] <= 400_000
    assert usage["evicted"] >= 1
    assert kept
    assert kept == keys[-len(kept) :]  # the newest are kept, the oldest went first


def test_the_debug_routes_need_a_token_and_show_only_its_own_keys(reference_url: str) -> None:
    auth = {"Authorization": f"Bearer {REFERENCE_TOKEN}"}
    used = key()
    made = httpx.post(
        f"{reference_url}/images/generations",
        json={"prompt": "p", "size": "256x256"},
        headers={**auth, "Idempotency-Key": used},
    )
    assert made.status_code == 200
    assert httpx.get(f"{reference_url}/debug/store").status_code == 401
    assert httpx.get(f"{reference_url}/debug/idempotency/{used}").status_code == 401
    mine = httpx.get(f"{reference_url}/debug/idempotency/{used}", headers=auth).json()["operations"]
    assert mine["generations"]["generations"] == 1
    buckets = httpx.get(f"{reference_url}/debug/store", headers=auth).json()["buckets"]
    assert set(buckets) == {"images", "idempotency"}


def test_a_key_held_by_a_process_that_died_is_taken_over_at_once(tmp_path: Path) -> None:
    store = Store(tmp_path)
    records = IdempotencyRecords(store.bucket("idempotency", 1_000_000), window_s=60, lease_s=300)
    held = records.try_claim("k" * 64, "fingerprint")
    assert isinstance(held, Claim)
    assert records.try_claim("k" * 64, "fingerprint") is None  # held by this (live) process: wait
    bucket = store.bucket("idempotency", 1_000_000)
    entry = bucket.get("k" * 64)
    assert entry is not None
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    owner = f"{socket.gethostname()}:{dead.stdout.strip()}:gone:0"
    bucket.update("k" * 64, {**entry.meta, "owner": owner})

    taken = records.try_claim("k" * 64, "fingerprint")

    assert isinstance(taken, Claim)
    assert taken.owner != owner
    store.close()
