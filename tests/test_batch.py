"""imagegen.batch with the local engine, against the reference server on loopback."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imagegen import AsyncImagesClient
from imagegen.batch import BadLinesError, BatchError, BatchResult, run_batch, run_batch_async
from imagegen.batch.pacing import Pacer
from imagegen.batch.progress import Progress, Snapshot
from tests.conftest import REFERENCE_TOKEN

from .support.cli import IMAGEGEN

SMALL = {"model": "dall-e-2", "size": "256x256", "response_format": "b64_json"}


def jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def generation(custom_id: str, **body: Any) -> dict[str, Any]:
    fields = {"prompt": f"a picture of {custom_id}", **SMALL, **body}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/images/generations", "body": fields}


def results(folder: Path, name: str = "results.jsonl") -> list[dict[str, Any]]:
    text = (folder / name).read_text()
    return [json.loads(line) for line in text.splitlines()]


def options(url: str, **extra: Any) -> dict[str, Any]:
    return {"base_url": url, "api_key": REFERENCE_TOKEN, **extra}


def test_a_jsonl_batch_writes_images_and_results_and_resumes_to_nothing(
    tmp_path: Path, reference_url: str
) -> None:
    source = jsonl(tmp_path / "in.jsonl", [generation(f"cat-{i}") for i in range(24)])
    out = tmp_path / "out"
    seen: list[BatchResult] = []
    summary = run_batch(
        source, out, client_options=options(reference_url), concurrency=6, on_result=seen.append
    )
    assert (summary.total, summary.done, summary.failed, summary.complete) == (24, 24, 0, True)
    lines = results(out)
    assert [line["custom_id"] for line in lines] == [f"cat-{i}" for i in range(24)]  # input order
    first = lines[0]
    assert first["response"]["status_code"] == 200
    assert first["response"]["body"]["data"] == [{"file": "cat-0-1.png"}]  # b64_json replaced
    assert first["id"].startswith("batch_req_")
    assert first["error"] is None
    for i in range(24):
        with Image.open(out / f"cat-{i}-1.png") as image:
            image.verify()
            assert image.size == (256, 256)
    assert (out / "errors.jsonl").read_text() == ""
    assert sorted(result.custom_id for result in seen) == sorted(f"cat-{i}" for i in range(24))
    assert all(result.files == [out / f"{result.custom_id}-1.png"] for result in seen)
    again = run_batch(source, out, client_options=options(reference_url))
    assert (again.done, again.already_done) == (24, 24)
    assert "24 already done before this run of 24; nothing left to send" in str(again)
    assert results(out) == lines


def test_text_and_csv_inputs_take_the_defaults(tmp_path: Path, reference_url: str) -> None:
    text = tmp_path / "prompts.txt"
    text.write_text("# a comment\nYellow alpaca\n\nRed fox\n")
    run_batch(text, tmp_path / "a", client_options=options(reference_url), defaults=SMALL)
    assert [line["custom_id"] for line in results(tmp_path / "a")] == ["line-2", "line-4"]
    table = tmp_path / "catalogue.csv"
    table.write_text("custom_id,prompt,size\nmug,A blue mug,512x512\n,A red mug,\n")
    run_batch(table, tmp_path / "b", client_options=options(reference_url), defaults=SMALL)
    with Image.open(tmp_path / "b" / "mug-1.png") as image:
        assert image.size == (512, 512)  # the line's own size over the default
    assert [line["custom_id"] for line in results(tmp_path / "b")] == ["mug", "row-3"]


def test_bad_lines_are_refused_with_their_numbers_before_anything_is_sent(
    tmp_path: Path, reference_url: str
) -> None:
    source = jsonl(
        tmp_path / "in.jsonl",
        [
            generation("ok-1"),
            "{not json",
            generation("ok-1"),
            {**generation("v-1"), "url": "/v1/images/variations"},
            generation("d3", model="dall-e-3", n=2, size="1024x1024"),
            {"custom_id": "x", "method": "GET", "url": "/v1/images/generations", "body": {}},
            generation("s", stream=True, model="gpt-image-1.5", size="1024x1024", response_format=None),
        ],
    )
    out = tmp_path / "out"
    with pytest.raises(BadLinesError) as caught:
        run_batch(source, out, client_options=options(reference_url))
    message = str(caught.value)
    assert "6 line(s)" in message
    assert "nothing was sent" in message
    for expected in (
        "line 2: is not JSON",
        "line 3: custom_id 'ok-1' is already the id of line 1",
        "line 4: url '/v1/images/variations' is not one a batch can call",
        "line 5: dall-e-3 takes n up to 1",
        "line 6: has method 'GET'; batch requests are \"POST\"",
        "line 7: asks for a stream",
    ):
        assert expected in message
    assert not out.exists() or not any(out.iterdir())
    summary = run_batch(source, out, client_options=options(reference_url), skip_bad_lines=True)
    assert (summary.done, summary.skipped_lines) == (1, 6)
    skipped = results(out, "errors.jsonl")
    assert [line["error"]["line"] for line in skipped] == [2, 3, 4, 5, 6, 7]
    assert {line["error"]["code"] for line in skipped} == {"invalid_line"}


def test_a_dry_run_checks_everything_and_sends_nothing(tmp_path: Path, reference_url: str) -> None:
    source = jsonl(tmp_path / "in.jsonl", [generation(f"c-{i}") for i in range(5)])
    summary = run_batch(source, tmp_path / "out", client_options=options(reference_url), dry_run=True)
    assert (summary.dry_run, summary.total, str(summary)) == (
        True,
        5,
        "dry run: 5 request(s) checked; nothing was sent",
    )
    assert not (tmp_path / "out").exists()


def test_a_folder_of_something_else_or_another_input_is_refused(tmp_path: Path, reference_url: str) -> None:
    source = jsonl(tmp_path / "in.jsonl", [generation("a")])
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "holiday.jpg").write_bytes(b"mine")
    with pytest.raises(BatchError, match="has files and no batch state"):
        run_batch(source, busy, client_options=options(reference_url))
    assert (busy / "holiday.jpg").read_bytes() == b"mine"
    run_batch(source, tmp_path / "out", client_options=options(reference_url))
    jsonl(source, [generation("a"), generation("b")])
    with pytest.raises(BatchError, match="holds a batch of another input"):
        run_batch(source, tmp_path / "out", client_options=options(reference_url))


def test_failures_for_good_go_to_errors_jsonl(tmp_path: Path, reference_url: str) -> None:
    source = jsonl(
        tmp_path / "in.jsonl",
        [generation("fine"), generation("unknown", model="no-such-model-here")],
    )
    summary = run_batch(source, tmp_path / "out", client_options=options(reference_url))
    assert (summary.done, summary.failed) == (1, 1)
    [failed] = results(tmp_path / "out", "errors.jsonl")
    assert failed["custom_id"] == "unknown"
    assert failed["response"]["status_code"] in (400, 404)
    assert failed["error"]["message"]


def test_throttling_halves_the_concurrency_and_every_request_still_ends_once(
    tmp_path: Path, reference_url: str
) -> None:
    source = jsonl(tmp_path / "in.jsonl", [generation(f"t-{i}") for i in range(30)])
    fault = {"X-Imagegen-Fault": f"status=429; times=6; retry-after=0.2; id={tmp_path.name}"}
    client_options = options(reference_url, default_headers=fault)
    summary = run_batch(source, tmp_path / "out", client_options=client_options, concurrency=8)
    assert (summary.done, summary.failed) == (30, 0)
    assert summary.details["concurrency_cuts"] >= 1
    assert sorted(line["custom_id"] for line in results(tmp_path / "out")) == sorted(
        f"t-{i}" for i in range(30)
    )
    with sqlite3.connect(tmp_path / "out" / "state.sqlite") as db:
        attempts = dict(db.execute("SELECT custom_id, attempts FROM requests").fetchall())
    assert len(attempts) == 30


def test_the_async_api_with_an_async_callback(tmp_path: Path, reference_url: str) -> None:
    source = jsonl(tmp_path / "in.jsonl", [generation(f"a-{i}") for i in range(4)])
    seen: list[str] = []

    async def record(result: BatchResult) -> None:
        await asyncio.sleep(0)
        seen.append(result.status)

    async def run() -> int:
        async with AsyncImagesClient(base_url=reference_url, api_key=REFERENCE_TOKEN) as client:
            summary = await run_batch_async(
                source, tmp_path / "out", client=client, on_result=record, progress=False
            )
            return summary.done

    assert asyncio.run(run()) == 4
    assert seen == ["done"] * 4


def test_the_pacer_cuts_on_throttling_once_per_cooldown_pauses_only_when_most_are_refused() -> None:
    now = [0.0]
    pacer = Pacer(20, clock=lambda: now[0])

    def answer(outcome: str, retry_after: float | None = None) -> None:
        pacer.in_flight = 1
        pacer.release(outcome, retry_after)

    async def cycle() -> None:
        await pacer.acquire()
        pacer.release("throttled", 2.0)

    asyncio.run(cycle())  # the batch's first answer is a refusal: one of 50, scattered
    assert (pacer.concurrency, pacer.cuts) == (18, 1)
    assert pacer._delay() == 0.0  # not paused for one refusal
    for _ in range(23):
        answer("throttled", 2.0)  # the same burst: no second cut within the cool-down
    assert (pacer.concurrency, pacer.cuts) == (18, 1)
    assert pacer._delay() == 0.0  # 24 of the last 50
    answer("throttled", 2.0)
    assert pacer._delay() == pytest.approx(2.0)  # 25 of 50, half: nothing starts until it passes
    now[0] = 2.5
    answer("throttled", 1.0)  # after the cool-down, with most answers refusals: halved
    assert (pacer.concurrency, pacer.cuts) == (9, 2)
    for _ in range(200):
        answer("ok")
    assert pacer.concurrency == 20  # back up, never above the maximum
    now[0] = 10.0
    for _ in range(10):  # every fifth answer refused: scattered, cut by a tenth each time
        for _ in range(4):
            answer("ok")
        now[0] += 1.0
        before = pacer.limit
        answer("throttled", 1.0)
        assert pacer.limit == pytest.approx(before * 0.9)
        assert pacer._delay() == 0.0
    assert pacer.cuts == 12
    before = pacer.limit
    answer("throttled", 1.0)  # 11 of the last 50, more than one in five: within the cool-down
    now[0] += 1.0
    answer("throttled", 1.0)  # 12 of 50, after it: halved
    assert pacer.limit == pytest.approx(max(1.0, before * 0.5), abs=0.01)


def test_max_rpm_spaces_the_starts() -> None:
    now = [0.0]
    pacer = Pacer(10, max_rpm=3, clock=lambda: now[0])

    async def starts() -> float | None:
        for _ in range(3):
            await pacer.acquire()
        return pacer._delay()

    assert asyncio.run(starts()) == pytest.approx(60.0)


def test_the_command_line_runs_a_batch_and_says_how_it_went(tmp_path: Path, reference_url: str) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("One\nTwo\nThree\n")
    command = [IMAGEGEN, "batch", str(prompts), "-o", str(tmp_path / "out"), "--url", reference_url,
               "--model", "dall-e-2", "--size", "256x256", "--response-format", "b64_json"]  # fmt: skip
    env = {
        "OPENAI_API_KEY": REFERENCE_TOKEN,
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert "batch: 3 done, 0 failed of 3" in done.stderr
    assert REFERENCE_TOKEN not in done.stdout + done.stderr
    assert sorted(path.name for path in (tmp_path / "out").glob("*.png")) == [
        "line-1-1.png",
        "line-2-1.png",
        "line-3-1.png",
    ]
    broken = jsonl(tmp_path / "broken.jsonl", [generation("fine"), "{oops"])
    checked = subprocess.run([IMAGEGEN, "batch", str(broken), "--dry-run", "--url", reference_url],
                             capture_output=True, text=True, timeout=60, check=False, env=env)  # fmt: skip
    assert checked.returncode == 2
    assert "line 2: is not JSON" in checked.stderr
    assert "Traceback" not in checked.stderr
    shown = subprocess.run(
        [IMAGEGEN, "batch", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert "--max-attempts" in shown.stdout
    assert "--raw" not in shown.stdout  # a batch has no single answer to print


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere() -> None:
    snapshot = Snapshot(total=10, done=3, failed=1, in_flight=2, concurrency=4, started_done=0)
    terminal = _Terminal()
    bar = Progress(stream=terminal)
    bar.update(snapshot)
    bar.close()
    drawn = terminal.getvalue()
    assert "4/10" in drawn  # done + failed of total, with tqdm's rate and time left
    assert "failed 1, in flight 2, concurrency 4" in drawn
    log = io.StringIO()
    lines = Progress(stream=log, every_s=0.0)
    lines.update(snapshot)
    lines.close()
    assert log.getvalue().startswith("batch: 3/10 done, 1 failed, 2 in flight, ")
    assert log.getvalue().rstrip().endswith("concurrency 4")
    quiet = io.StringIO()
    Progress(enabled=False, stream=quiet, every_s=0.0).update(snapshot)
    assert quiet.getvalue() == ""


_PNG_1X1 = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_answers_wait_for_a_slow_disk_instead_of_piling_up_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server faster than the disk: no more answers are held unsaved than the concurrency."""
    from imagegen.batch import saver
    from imagegen.server.background import serve_app_in_background

    answered = 0
    body = json.dumps({"created": 1, "data": [{"b64_json": base64.b64encode(_PNG_1X1).decode()}]}).encode()

    async def instant(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal answered
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        answered += 1
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    saved, backlog = 0, []
    slow_save = saver.save_images

    def save_slowly(folder: Path, custom_id: str, images: list[bytes]) -> list[str]:
        nonlocal saved
        backlog.append(answered - saved)  # answers received and not yet saved
        time.sleep(0.01)
        names = slow_save(folder, custom_id, images)
        saved += 1
        return names

    monkeypatch.setattr(saver, "save_images", save_slowly)  # slow enough to be saved in threads
    source = jsonl(tmp_path / "in.jsonl", [generation(f"disk-{i}") for i in range(120)])
    with serve_app_in_background(instant) as url:
        summary = run_batch(source, tmp_path / "out", client_options=options(url), concurrency=4)
    assert summary.done == 120
    assert max(backlog) <= 4
