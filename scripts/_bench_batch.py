"""The batch benchmarks of scripts/bench (registered by scripts/_bench.py, which imports this).

- batch-throughput: 2,000 small generations against the reference server (two workers, its own
  process, a queue of 64 a worker so that none is refused), 64 in flight: `imagegen batch`
  (state, files, results) against a hand-written asyncio + httpx loop with the same concurrency
  that writes each image to a file and keeps nothing else. Both share the machine's cores with the
  server, so the batch's own work (its state, results and fsyncs) takes from the server's.
- batch-429: the same batch with 10 % of its requests answered 429 (Retry-After: 1), against the
  same batch without faults; no request lost, none answered twice. The batch without faults
  carries a fault header too (`latency=0`, struck as often), so that the server's counting of
  faults, a store transaction a request, weighs on both runs alike.
- batch-rss: the peak RSS of `imagegen batch` (its own process) on a 100,000-line input, against
  a budget of 150 MB. The server is a stub that answers a fixed 1x1 PNG at once (this measures the
  client's memory, not the painter), and the folder is on tmpfs when /dev/shm exists (fsync there
  costs nothing: this measures memory, not the disk).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

THROUGHPUT_TARGET = 0.95
FAULT_TARGET = 0.8
RSS_BUDGET_MB = 150.0
CONCURRENCY = 64
_PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)


def register(bench: ModuleType) -> None:
    """Add the batch benchmarks to scripts/_bench.py's registry."""
    Row, Measure, at_least, at_most = bench.Row, bench.Measure, bench.at_least, bench.at_most

    @bench.benchmark(
        "batch-throughput", "imagegen batch of 2,000 generations vs a bare asyncio+httpx loop, 64 in flight"
    )
    def batch_throughput(settings: Any) -> list[Any]:
        rounds = settings.count(3, 1)
        count = settings.count(2000, 400)
        bare = ours = keyed = 0.0
        with bench.server_process(workers=2, queue=CONCURRENCY, faults=True) as base_url:
            _bare_loop(base_url, _lines(settings.count(128, 64), "warm-up"))
            for number in range(rounds):  # each side goes first in one round: drift hits all alike
                times = _round(base_url, count, number)
                bare, ours, keyed = bare + times[0], ours + times[1], keyed + times[2]
        count *= rounds
        details = f"{count} requests each, in {rounds} rounds (each side first in one)"
        return [
            Row(
                "batch-throughput",
                Measure("imagegen batch", count / ours, "req/s"),
                Measure("asyncio+httpx loop", count / bare, "req/s"),
                at_least(THROUGHPUT_TARGET),
                details,
            ),
            Row(
                "batch-throughput",
                Measure("imagegen batch", count / ours, "req/s"),
                Measure("the loop with an Idempotency-Key each", count / keyed, "req/s"),
                at_least(THROUGHPUT_TARGET),
                "the same loop paying for the server's idempotency store, as imagegen batch does",
            ),
        ]

    @bench.benchmark("batch-429", "imagegen batch with 10% of requests answered 429 (Retry-After: 1) vs none")
    def batch_429(settings: Any) -> list[Any]:
        count = settings.count(2000, 400)
        with bench.server_process(workers=2, queue=CONCURRENCY, faults=True) as base_url:
            _bare_loop(base_url, _lines(settings.count(128, 64), "warm-up"))
            # Both runs carry a fault header, so the server counts every request of both alike
            # (a store transaction each); only the faulty run's strikes answer 429.
            pattern = f"every=10; times={count // 10}; id=bench-{time.time()}"
            unharmed = {"X-Imagegen-Fault": f"latency=0; {pattern}-clean"}
            clean, _ = _imagegen_batch(base_url, _lines(count, "clean"), headers=unharmed)
            fault = {"X-Imagegen-Fault": f"status=429; retry-after=1; {pattern}-faulty"}
            faulty, summary = _imagegen_batch(base_url, _lines(count, "faulty"), headers=fault)
        return [
            Row(
                "batch-429",
                Measure("with 10% 429", count / faulty, "req/s"),
                Measure("without", count / clean, "req/s"),
                at_least(FAULT_TARGET),
                f"{count} requests; {summary}",
            )
        ]

    @bench.benchmark("batch-rss", "peak RSS of imagegen batch on a 100,000-line input vs a 150 MB budget")
    def batch_rss(settings: Any) -> list[Any]:
        count = settings.count(100_000, 20_000)
        with _stub_server() as (base_url, served), tempfile.TemporaryDirectory(dir=_fast_dir()) as scratch:
            source = Path(scratch) / "in.jsonl"
            with source.open("w") as handle:
                for line in _lines(count, "rss"):
                    handle.write(json.dumps(line) + "\n")
            started = time.monotonic()
            peak_mb, status, tail = _peak_rss_of(
                [str(Path(sys.executable).parent / "imagegen"), "batch", str(source), "-o", f"{scratch}/out",
                 "--url", base_url, "--concurrency", str(CONCURRENCY), "-q"],
                {"OPENAI_API_KEY": "sk-bench-rss-1"},
            )  # fmt: skip
            elapsed = time.monotonic() - started
            results = Path(scratch) / "out" / "results.jsonl"
            lines = len(results.read_bytes().splitlines()) if status == 0 else 0
        if status != 0 or lines != count:
            raise bench.BenchError(f"imagegen batch exited {status} with {lines} of {count} results: {tail}")
        return [
            Row(
                "batch-rss",
                Measure("peak RSS", peak_mb, "MB"),
                Measure("budget", RSS_BUDGET_MB, "MB"),
                at_most(1.0),
                f"{count} lines in {elapsed:.0f} s ({count / elapsed:.0f}/s, {served[0]} requests served)",
            )
        ]


def _round(base_url: str, count: int, number: int) -> tuple[float, float, float]:
    """Seconds of the bare loop, imagegen batch and the keyed loop for `count` requests each,
    run in an order turned by `number`."""
    sides = ("bare", "batch", "keyed")
    times: dict[str, float] = {}
    for shift in range(len(sides)):
        side = sides[(number + shift) % len(sides)]
        lines = _lines(count, f"{side}-{number}")
        if side == "batch":
            times[side] = _imagegen_batch(base_url, lines)[0]
        else:
            times[side] = _bare_loop(base_url, lines, keyed=side == "keyed")
    return times["bare"], times["batch"], times["keyed"]


def _lines(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "custom_id": f"{tag}-{index}",
            "method": "POST",
            "url": "/v1/images/generations",
            "body": {
                "prompt": f"{tag} {index}: a lighthouse",
                "model": "dall-e-2",
                "size": "256x256",
                "response_format": "b64_json",
            },
        }
        for index in range(count)
    ]


def _bare_loop(base_url: str, lines: list[dict[str, Any]], keyed: bool = False) -> float:
    """Seconds for a plain asyncio + httpx loop to send every line, CONCURRENCY at a time, and
    write each image to a file: the loop people write by hand (no state, no retries, no checks);
    with an Idempotency-Key per request if `keyed` (what the server's own store costs)."""
    import httpx

    async def run(folder: Path) -> float:
        gate = asyncio.Semaphore(CONCURRENCY)
        async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:

            async def one(line: dict[str, Any]) -> None:
                async with gate:
                    headers = {"Idempotency-Key": f"bench-{line['custom_id']}"} if keyed else {}
                    answer = await client.post("/images/generations", json=line["body"], headers=headers)
                    answer.raise_for_status()
                    data = base64.b64decode(answer.json()["data"][0]["b64_json"])
                    (folder / f"{line['custom_id']}.png").write_bytes(data)

            started = time.monotonic()
            await asyncio.gather(*(one(line) for line in lines))
            return time.monotonic() - started

    with tempfile.TemporaryDirectory() as scratch:
        return asyncio.run(run(Path(scratch)))


def _imagegen_batch(
    base_url: str, lines: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> tuple[float, Any]:
    """Seconds for run_batch_async to run `lines` into a new folder, and its summary (checked)."""
    from imagegen import AsyncImagesClient
    from imagegen.batch import run_batch_async

    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "in.jsonl"
        source.write_text("".join(json.dumps(line) + "\n" for line in lines))

        async def run() -> Any:
            async with AsyncImagesClient(
                base_url=base_url, api_key="sk-bench-batch-1", default_headers=headers or {}
            ) as client:
                return await run_batch_async(
                    source, Path(scratch) / "out", client=client, concurrency=CONCURRENCY, progress=False
                )

        started = time.monotonic()
        summary = asyncio.run(run())
        elapsed = time.monotonic() - started
        ids = [
            json.loads(text)["custom_id"]
            for text in (Path(scratch) / "out" / "results.jsonl").read_text().splitlines()
        ]
        if sorted(ids) != sorted(line["custom_id"] for line in lines):
            raise RuntimeError(f"results lost or duplicated: {len(ids)} results for {len(lines)} requests")
    return elapsed, summary


@contextmanager
def _stub_server() -> Iterator[tuple[str, list[int]]]:
    """A loopback server that answers every generation with a 1x1 PNG at once, counting them."""
    from imagegen.server.background import serve_app_in_background

    served = [0]
    body = json.dumps({"created": 1, "data": [{"b64_json": base64.b64encode(_PNG_1X1).decode()}]}).encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        served[0] += 1
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    with serve_app_in_background(app) as base_url:
        yield base_url, served


def _fast_dir() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


_LAUNCHER = """
import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def _peak_rss_of(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(peak RSS in MB, exit status, last stderr) of `command` run to its end.

    The command is started by a small fresh Python process, not by this one: Linux counts in a
    process's peak RSS the pages of the process it was forked from, as they were when it called
    exec. Started from here, `imagegen batch` was charged this process's RSS (244 MB after the
    other benchmarks had run, where the batch itself never went past 65 MB)."""
    with tempfile.TemporaryFile() as stderr:
        done = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, *command],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            check=False,
        )
        stderr.seek(0)
        tail = stderr.read().decode(errors="replace")[-500:]
    if done.returncode != 0:
        return 0.0, done.returncode, tail
    peak_kib, status = (int(word) for word in done.stdout.split())
    return peak_kib / 1024, status, tail


__all__ = ["register"]
