"""Resuming batches: `imagegen batch` killed with SIGKILL at random points, three times, then run
to its end (one result per custom_id, whole images, each request generated once by the server);
the openai-batch engine run, resumed after a kill, and asked for a batch's status or to cancel it."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from imagegen import ImagesClient
from imagegen.batch import run_batch
from imagegen.batch.state import idempotency_key
from imagegen.server import ServerConfig, serve_in_background
from tests.conftest import REFERENCE_TOKEN

from .support.cli import IMAGEGEN

SMALL = {"model": "dall-e-2", "size": "256x256", "response_format": "b64_json"}
SLOW_TOKEN = "sk-resume-slow-77f0"
WAIT_S = 60.0
OUTPUTS = {"results.jsonl", "errors.jsonl", "state.sqlite", "state.sqlite-wal", "state.sqlite-shm"}


@pytest.fixture(scope="module")
def slow_url() -> Iterator[str]:
    """A server whose batches wait 0.15 s before each request (time to be killed in)."""
    config = ServerConfig(tokens=frozenset({SLOW_TOKEN}), batch_delay_s=0.15)
    with serve_in_background(config) as url:
        yield url


def write_lines(path: Path, count: int, tag: str) -> Path:
    lines = [
        {
            "custom_id": f"{tag}-{i}",
            "method": "POST",
            "url": "/v1/images/generations",
            "body": {"prompt": f"{tag} number {i}", **SMALL},
        }
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def environment(token: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": token, "PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}


def state_rows(folder: Path, query: str) -> list[tuple[Any, ...]]:
    """Rows of the batch's state.sqlite, read beside the running batch (0 rows before it exists)."""
    path = folder / "state.sqlite"
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute(query).fetchall()
    except sqlite3.OperationalError:  # the tables are being created
        return []


def done_count(folder: Path) -> int:
    rows = state_rows(folder, "SELECT COUNT(*) FROM requests WHERE status = 'done'")
    return int(rows[0][0]) if rows else 0


def kill_when(process: subprocess.Popen[bytes], ready: Any, what: str) -> None:
    """SIGKILL `process` as soon as `ready()` holds; fails if it ends first or never gets there."""
    deadline = time.monotonic() + WAIT_S
    while not ready():
        assert process.poll() is None, f"the batch ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {WAIT_S} s"
        time.sleep(0.01)
    process.kill()
    process.wait(10)


def test_a_batch_killed_three_times_finishes_with_everything_once(tmp_path: Path, reference_url: str) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    source = write_lines(tmp_path / "in.jsonl", 48, "kill")
    out = tmp_path / "out"
    # Each answer takes 0.1 s or more, so the run is long enough to be killed mid-way.
    slow = json.dumps({"X-Imagegen-Fault": "latency=0.1"})
    command = [IMAGEGEN, "batch", str(source), "-o", str(out), "--url", reference_url, "--concurrency", "4",
               "--headers", slow, "-q"]  # fmt: skip
    env = environment(REFERENCE_TOKEN)
    for kill in range(3):
        target = done_count(out) + rng.randint(1, 8)
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        kill_when(process, lambda target=target: done_count(out) >= target, f"kill {kill + 1} (seed {seed})")
    assert done_count(out) < 48, "the kills came too late to test anything"

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert finished.returncode == 0, finished.stderr
    results = [json.loads(text) for text in (out / "results.jsonl").read_text().splitlines()]
    ids = [result["custom_id"] for result in results]
    assert sorted(ids) == sorted(f"kill-{i}" for i in range(48)), f"seed {seed}"
    for result in results:
        (entry,) = result["response"]["body"]["data"]
        with Image.open(out / entry["file"]) as image:
            image.verify()
        with Image.open(out / entry["file"]) as image:
            assert image.size == (256, 256)
    expected_files = OUTPUTS | {f"kill-{i}-1.png" for i in range(48)}
    assert {path.name for path in out.iterdir()} <= expected_files  # nothing partial left behind
    # The server generated each request once, although some were sent again after a kill.
    rows = state_rows(out, "SELECT custom_id, idempotency_key FROM requests")
    keys = [key for _, key in rows]
    assert len(set(keys)) == 48
    lines = {line["custom_id"]: line for line in map(json.loads, source.read_text().splitlines())}
    for custom_id, key in rows:  # the key comes from the line alone: every run sent the same one
        line = lines[custom_id]
        assert key == idempotency_key(custom_id, line["url"], line["body"])
    with httpx.Client(headers={"Authorization": f"Bearer {REFERENCE_TOKEN}"}, timeout=30) as http:
        for key in keys:
            record = http.get(f"{reference_url}/debug/idempotency/{key}").json()["operations"]
            assert record["generations"]["generations"] == 1, (key, record, f"seed {seed}")


def test_the_openai_batch_engine_writes_the_same_folder_and_resumes_to_nothing(
    tmp_path: Path, reference_url: str
) -> None:
    source = write_lines(tmp_path / "in.jsonl", 6, "remote")
    with source.open("a") as handle:  # one request the server refuses: dall-e-2 has no 4096x4096
        body = {"prompt": "too big", **SMALL, "size": "4096x4096"}
        handle.write(json.dumps({"custom_id": "too-big", "method": "POST", "url": "/v1/images/generations",
                                 "body": body}) + "\n")  # fmt: skip
    out = tmp_path / "out"
    client_options = {"base_url": reference_url, "api_key": REFERENCE_TOKEN, "check_rules": False}
    with ImagesClient(**client_options) as client:
        before = {batch.id for batch in client.batches.iterate()}

        summary = run_batch(
            source, out, engine="openai-batch", client_options=client_options, poll_interval_s=0.1
        )

        assert (summary.total, summary.done, summary.failed) == (7, 6, 1)
        results = {json.loads(text)["custom_id"]: json.loads(text) for text in (out / "results.jsonl").open()}
        assert sorted(results) == sorted(f"remote-{i}" for i in range(6))
        for result in results.values():
            (entry,) = result["response"]["body"]["data"]
            with Image.open(out / entry["file"]) as image:
                assert (image.format, image.size) == ("PNG", (256, 256))
        (error,) = [json.loads(text) for text in (out / "errors.jsonl").open()]
        assert error["custom_id"] == "too-big"
        assert error["response"]["status_code"] == 400
        chunks = state_rows(out, "SELECT batch_id FROM chunks")
        assert len(chunks) == 1
        (batch_id,) = chunks[0]
        assert client.batches.get(batch_id).status == "completed"

        again = run_batch(
            source, out, engine="openai-batch", client_options=client_options, poll_interval_s=0.1
        )

        assert (again.done, again.failed, again.already_done) == (6, 1, 7)
        after = {batch.id for batch in client.batches.iterate(limit=1)}  # a page a batch
        assert after - before == {batch_id}  # one batch created, none by the second run


def test_an_openai_batch_run_killed_while_polling_resumes_the_same_batch(
    tmp_path: Path, slow_url: str
) -> None:
    source = write_lines(tmp_path / "in.jsonl", 10, "poll")
    out = tmp_path / "out"
    command = [IMAGEGEN, "batch", str(source), "-o", str(out), "--engine", "openai-batch", "--url", slow_url,
               "--poll", "0.1"]  # fmt: skip
    env = environment(SLOW_TOKEN)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kill_when(
        process, lambda: any(row[0] for row in state_rows(out, "SELECT batch_id FROM chunks")), "a batch"
    )
    (batch_id,) = state_rows(out, "SELECT batch_id FROM chunks")[0]

    status = subprocess.run([IMAGEGEN, "batch", "status", batch_id, "--url", slow_url],
                            env=env, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith(f"{batch_id}: ")
    assert "of 10)" in status.stdout

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert finished.returncode == 0, finished.stderr
    assert f"batch {batch_id} resumed for /v1/images/generations" in finished.stderr
    ids = [json.loads(text)["custom_id"] for text in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(ids) == sorted(f"poll-{i}" for i in range(10))
    with ImagesClient(base_url=slow_url, api_key=SLOW_TOKEN) as client:
        made = [
            batch
            for batch in client.batches.iterate()
            if batch.input_file_id == client.batches.get(batch_id).input_file_id
        ]
        assert [batch.id for batch in made] == [batch_id]


def test_the_command_line_shows_and_cancels_a_batch(tmp_path: Path, slow_url: str) -> None:
    env = environment(SLOW_TOKEN)
    with ImagesClient(base_url=slow_url, api_key=SLOW_TOKEN) as client:
        lines = write_lines(tmp_path / "in.jsonl", 30, "cancel").read_bytes()
        uploaded = client.files.upload(lines, purpose="batch", filename="in.jsonl")
        batch = client.batches.create(uploaded.id, endpoint="/v1/images/generations")

    cancelled = subprocess.run([IMAGEGEN, "batch", "cancel", batch.id, "--url", slow_url, "--json"],
                               env=env, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["status"] in ("cancelling", "cancelled")
    deadline = time.monotonic() + WAIT_S
    while True:
        shown = subprocess.run([IMAGEGEN, "batch", "status", batch.id, "--url", slow_url],
                               env=env, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        if "cancelled" in shown.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shown.stdout.startswith(f"{batch.id}: cancelled (")
    missing = subprocess.run([IMAGEGEN, "batch", "status", "batch_nope", "--url", slow_url],
                             env=env, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert missing.returncode != 0
    assert "batch_nope" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert SLOW_TOKEN not in missing.stdout + missing.stderr + shown.stdout + cancelled.stdout
