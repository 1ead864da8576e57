"""The soak: thousands of mixed requests with faults injected at random, against
`imagegen serve --workers N` (run through scripts/soak; a short run is a test of the suite).

Clients, sync (ImagesClient, one per thread) and async (AsyncImagesClient, tasks on one loop),
generate, edit and vary images (JSON and multipart, base64 and URL answers, streams and not),
each call with its own Idempotency-Key, and about half of them with a fault asked for in
X-Imagegen-Fault: statuses 429/500/503 (with and without Retry-After), 520 and 599, latency
past the client's timeout, dropped connections, truncated streams, malformed JSON, and faults
that outlast every retry. When the time is up it checks:

    hangs               0  (no call outlived its bound; every client finished)
    unexpected errors   0  (every failure an imagegen error, and only where a fault allows one)
    partial files       0  (every saved file a whole image; no temporary file left)
    duplicates          0  (no Idempotency-Key generated twice: the server's count, per key)
    server RSS          bounded (each worker at the end <= 2x its RSS after the first 100
                        calls, and never over --max-rss-mb)

and exits 0 when all hold, 1 otherwise. `--json FILE` writes the whole report.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from imagegen import AsyncImagesClient, ImagesClient
from imagegen.errors import ImagesError

TOKEN = "sk-soak-7f3a9c2e"
LOCAL_MODEL = "sd-1.5-ggml"
CLIENT_TIMEOUT_S = 5.0
LATENCY_S = 6.0  # past the client's timeout: the call times out and is retried
MAX_RETRIES = 3
CALL_BOUND_S = 90.0  # a call taking longer than this is a hang
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
RSS_EVERY_S = 1.0
BASELINE_CALLS = 100

# (name, weight, header or None, whether the call must still succeed, applies to streams only)
FAULTS: tuple[tuple[str, int, str | None, bool, bool], ...] = (
    ("none", 50, None, True, False),
    ("429+retry-after-ms", 6, "status=429; retry-after-ms=50", True, False),
    ("500", 5, "status=500", True, False),
    ("503+retry-after", 4, "status=503; retry-after=1", True, False),
    ("503x2+retry-after-ms", 4, "status=503; retry-after-ms=100; times=2", True, False),
    ("520", 3, "status=520", True, False),
    ("599", 3, "status=599", True, False),
    ("latency", 3, "latency={latency}", True, False),
    ("drop", 5, "drop", True, False),
    ("malformed", 3, "malformed", False, False),
    ("429-outlasting-retries", 2, f"status=429; retry-after-ms=20; times={MAX_RETRIES + 2}", False, False),
    ("truncate", 6, "truncate=1", False, True),
)


@dataclass(frozen=True)
class Settings:
    """What a soak run does."""

    seconds: float = 600.0
    sync_clients: int = 4
    async_tasks: int = 4
    workers: int = 2
    max_calls: int | None = None
    max_rss_mb: float = 600.0
    seed: int = 0
    verbose: bool = False
    client_timeout_s: float = CLIENT_TIMEOUT_S
    latency_s: float = LATENCY_S
    """The latency fault: past the client's timeout, so that the call times out and is retried."""


@dataclass
class Call:
    """One call of the soak and how it ended."""

    number: int
    operation: str
    fault: str
    key: str
    client: str
    seconds: float = 0.0
    outcome: str = "pending"  # ok, typed:<ErrorClass>, unexpected:<Class>, hang
    detail: str = ""
    files: list[str] = field(default_factory=list)


@dataclass
class Report:
    """What the soak did and found."""

    settings: dict[str, Any]
    elapsed_s: float = 0.0
    calls: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    by_fault: dict[str, dict[str, int]] = field(default_factory=dict)
    by_operation: dict[str, int] = field(default_factory=dict)
    hangs: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    partial_files: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    files_saved: int = 0
    rss_mb: dict[str, dict[str, float]] = field(default_factory=dict)
    rss_problems: list[str] = field(default_factory=list)
    server_log_errors: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.hangs
            or self.unexpected
            or self.partial_files
            or self.duplicates
            or self.rss_problems
            or self.server_log_errors
        )

    def summary(self) -> str:
        rate = self.calls / self.elapsed_s if self.elapsed_s else 0.0
        lines = [
            f"soak: {self.calls} calls in {self.elapsed_s:.0f} s ({rate:.1f}/s), "
            f"{self.settings['workers']} server workers, "
            f"{self.settings['sync_clients']} sync clients + {self.settings['async_tasks']} async tasks",
            "outcomes: " + ", ".join(f"{name} {count}" for name, count in sorted(self.outcomes.items())),
            "operations: "
            + ", ".join(f"{name} {count}" for name, count in sorted(self.by_operation.items())),
            "by fault:",
            *(
                f"  {name:<24} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                for name, counts in sorted(self.by_fault.items())
            ),
            f"hangs             {len(self.hangs)}",
            f"unexpected errors {len(self.unexpected)}",
            f"partial files     {len(self.partial_files)} (of {self.files_saved} saved)",
            f"duplicates        {len(self.duplicates)}",
            f"server RSS (MB, after {BASELINE_CALLS} calls / max / end): "
            + "; ".join(
                f"{who} {rss['baseline']:.0f} / {rss['max']:.0f} / {rss['end']:.0f}"
                for who, rss in sorted(self.rss_mb.items())
            ),
        ]
        for title, problems in (
            ("hang", self.hangs),
            ("unexpected", self.unexpected),
            ("partial file", self.partial_files),
            ("duplicate", self.duplicates),
            ("rss", self.rss_problems),
            ("server log", self.server_log_errors),
        ):
            lines += [f"  {title}: {problem}" for problem in problems[:10]]
        lines.append("CLEAN" if self.clean else "NOT CLEAN")
        return "\n".join(lines)


# ---- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def server(workers: int, folder: Path) -> Iterator[Server]:
    """`imagegen serve --workers N` with faults on, its store and its log in `folder`."""
    log = folder / "server.log"
    command = [
        str(Path(sys.executable).parent / "imagegen"),
        "serve",
        "--port",
        "0",
        "--workers",
        str(workers),
        "--token",
        TOKEN,
        "--faults",
        "--model",
        LOCAL_MODEL,
        "--data-dir",
        str(folder / "store"),
        "--quiet",
    ]
    with open(log, "wb") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        url = _first_line(process, START_TIMEOUT_S)
        if not url.startswith("http://"):
            raise RuntimeError(f"the server did not start: {log.read_text(errors='replace')[-2000:]}")
        yield Server(url, process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
        if process.stdout is not None:
            process.stdout.close()


def _first_line(process: subprocess.Popen[bytes], timeout_s: float) -> str:
    found: list[bytes] = []
    reader = threading.Thread(target=lambda: found.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout_s)
    return found[0].decode().strip() if found else ""


def worker_pids(parent: int) -> list[int]:
    """The server's worker processes: children of `parent` (not multiprocessing's helpers)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    command = cmdline.read()
            except OSError:
                continue
            if int(fields[1]) == parent and b"resource_tracker" not in command:
                children.append(int(entry))
    return children


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssWatch:
    """Samples the RSS of the server's processes (the parent and each worker) every second."""

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self.samples: dict[str, list[float]] = {}
        self.baseline: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> dict[str, float]:
        now = {"parent": rss_mb(self.parent)}
        for number, pid in enumerate(sorted(worker_pids(self.parent)), start=1):
            now[f"worker {number}"] = rss_mb(pid)
        for who, value in now.items():
            self.samples.setdefault(who, []).append(value)
        return now

    def mark_baseline(self) -> None:
        self.baseline = self.sample()

    def _run(self) -> None:
        while not self._stop.wait(RSS_EVERY_S):
            self.sample()


# ---- the calls --------------------------------------------------------------------------------


def png(width: int, height: int, seed: int, alpha: bool = False) -> bytes:
    rng = random.Random(seed)
    image = Image.new(
        "RGBA", (width, height), (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
    )
    if alpha:  # a mask: the left half transparent
        image.paste((0, 0, 0, 0), (0, 0, width // 2, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


SMALL, SMALL_MASK, MEDIUM = png(256, 256, 1), png(256, 256, 2, alpha=True), png(512, 512, 3)

# (operation, weight, method, arguments, streams)
OPERATIONS: tuple[tuple[str, int, str, dict[str, Any], bool], ...] = (
    (
        "generate dall-e-2 b64",
        14,
        "generate",
        {"model": "dall-e-2", "size": "256x256", "response_format": "b64_json"},
        False,
    ),
    ("generate dall-e-2 url n=2", 8, "generate", {"model": "dall-e-2", "size": "256x256", "n": 2}, False),
    ("generate dall-e-3 url", 4, "generate", {"model": "dall-e-3", "size": "1024x1024"}, False),
    (
        "generate gpt-image-1-mini",
        8,
        "generate",
        {"model": "gpt-image-1-mini", "quality": "low", "size": "1024x1024"},
        False,
    ),
    (
        "generate gpt-image-1-mini stream",
        8,
        "generate",
        {"model": "gpt-image-1-mini", "quality": "low", "size": "1024x1024", "partial_images": 2},
        True,
    ),
    ("generate local 64x64", 6, "generate", {"model": LOCAL_MODEL, "size": "64x64"}, False),
    (
        "edit dall-e-2 mask",
        10,
        "edit",
        {"model": "dall-e-2", "size": "256x256", "response_format": "b64_json"},
        False,
    ),
    (
        "edit gpt-image-1-mini 2 images",
        6,
        "edit",
        {"model": "gpt-image-1-mini", "quality": "low", "size": "1024x1024"},
        False,
    ),
    (
        "edit gpt-image-1-mini stream",
        5,
        "edit",
        {"model": "gpt-image-1-mini", "quality": "low", "size": "1024x1024", "partial_images": 1},
        True,
    ),
    (
        "vary dall-e-2 n=2",
        8,
        "vary",
        {"model": "dall-e-2", "size": "256x256", "n": 2, "response_format": "b64_json"},
        False,
    ),
)


class Plan:
    """Draws the calls: operation, fault, key (seeded, so a run can be repeated)."""

    def __init__(self, seed: int, max_calls: int | None, latency_s: float) -> None:
        self._latency_s = latency_s
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._count = 0
        self._max = max_calls

    def next(self, client: str) -> tuple[Call, tuple[str, int, str, dict[str, Any], bool], str | None] | None:
        with self._lock:
            if self._max is not None and self._count >= self._max:
                return None
            self._count += 1
            number = self._count
            operation = self._rng.choices(OPERATIONS, [op[1] for op in OPERATIONS])[0]
            eligible = [fault for fault in FAULTS if operation[4] or not fault[4]]
            fault = self._rng.choices(eligible, [f[1] for f in eligible])[0]
            key = f"soak-{os.getpid()}-{number}-{self._rng.getrandbits(48):012x}"
        header = f"{fault[2].format(latency=self._latency_s)}; id={key}" if fault[2] else None
        return Call(number, operation[0], fault[0], key, client), operation, header


def _arguments(
    call: Call, operation: tuple[str, int, str, dict[str, Any], bool], header: str | None
) -> dict[str, Any]:
    arguments = dict(operation[3])
    arguments["idempotency_key"] = call.key
    if header is not None:
        arguments["extra_headers"] = {"X-Imagegen-Fault": header}
    return arguments


def call_sync(client: ImagesClient, call: Call, operation: Any, header: str | None, out: Path) -> None:
    name, _, method, _, streams = operation
    arguments = _arguments(call, operation, header)
    prompt = f"soak call {call.number}: {name}"
    if method == "generate" and streams:
        stream = client.generate(prompt, stream=True, **arguments)
        images = stream.until_done()
    elif method == "generate":
        images = client.generate(prompt, **arguments).images
    elif method == "edit" and "2 images" in name:
        result = client.edit([MEDIUM, SMALL], prompt, stream=False, **arguments)
        images = result.images
    elif method == "edit" and streams:
        images = client.edit(MEDIUM, prompt, stream=True, **arguments).until_done()
    elif method == "edit":
        images = client.edit(SMALL, prompt, mask=SMALL_MASK, **arguments).images
    else:
        images = client.vary(SMALL, **arguments).images
    for index, image in enumerate(images):
        call.files.append(str(image.save(out / f"{call.key}-{index}.png")))


async def call_async(
    client: AsyncImagesClient, call: Call, operation: Any, header: str | None, out: Path
) -> None:
    name, _, method, _, streams = operation
    arguments = _arguments(call, operation, header)
    prompt = f"soak call {call.number}: {name}"
    if method == "generate" and streams:
        stream = await client.generate(prompt, stream=True, **arguments)
        images = await stream.until_done()
    elif method == "generate":
        images = (await client.generate(prompt, **arguments)).images
    elif method == "edit" and "2 images" in name:
        images = (await client.edit([MEDIUM, SMALL], prompt, **arguments)).images
    elif method == "edit" and streams:
        images = await (await client.edit(MEDIUM, prompt, stream=True, **arguments)).until_done()
    elif method == "edit":
        images = (await client.edit(SMALL, prompt, mask=SMALL_MASK, **arguments)).images
    else:
        images = (await client.vary(SMALL, **arguments)).images
    for index, image in enumerate(images):
        call.files.append(str(await image.save(out / f"{call.key}-{index}.png")))


def settle(call: Call, started: float, error: BaseException | None) -> None:
    """Record how `call` ended."""
    call.seconds = time.monotonic() - started
    if error is None:
        call.outcome = "ok"
    elif isinstance(error, ImagesError):
        call.outcome = f"typed:{type(error).__name__}"
        call.detail = str(error)[:300]
    else:
        call.outcome = f"unexpected:{type(error).__name__}"
        call.detail = "".join(traceback.format_exception(error))[-1500:]
    if call.seconds > CALL_BOUND_S:
        call.outcome = "hang"


# ---- the run ----------------------------------------------------------------------------------


def run_soak(settings: Settings, log: Callable[[str], None] = print) -> Report:
    """Run a soak as `settings` say; the report of what it found."""
    report = Report(settings=asdict(settings))
    folder = Path(tempfile.mkdtemp(prefix="imagegen-soak-"))
    out = folder / "saved"
    out.mkdir()
    calls: list[Call] = []
    try:
        with server(settings.workers, folder) as running:
            watch = RssWatch(running.process.pid)
            watch.start()
            plan = Plan(settings.seed, settings.max_calls, settings.latency_s)
            started = time.monotonic()
            deadline = started + settings.seconds
            done = Counter[str]()
            baseline_marked = threading.Event()
            lock = threading.Lock()

            def finished(call: Call) -> None:
                with lock:
                    calls.append(call)
                    done[call.outcome.split(":")[0]] += 1
                    total = len(calls)
                if total >= BASELINE_CALLS and not baseline_marked.is_set():
                    baseline_marked.set()
                    watch.mark_baseline()
                if settings.verbose and total % 500 == 0:
                    log(f"  {total} calls, {time.monotonic() - started:.0f} s: {dict(done)}")

            def sync_worker(number: int) -> None:
                with ImagesClient(
                    base_url=running.url,
                    api_key=TOKEN,
                    timeout=settings.client_timeout_s,
                    max_retries=MAX_RETRIES,
                ) as client:
                    while time.monotonic() < deadline:
                        drawn = plan.next(f"sync-{number}")
                        if drawn is None:
                            return
                        call, operation, header = drawn
                        began = time.monotonic()
                        try:
                            call_sync(client, call, operation, header, out)
                        except BaseException as error:  # every ending is recorded
                            settle(call, began, error)
                        else:
                            settle(call, began, None)
                        finished(call)

            async def async_worker(client: AsyncImagesClient, number: int) -> None:
                while time.monotonic() < deadline:
                    drawn = plan.next(f"async-{number}")
                    if drawn is None:
                        return
                    call, operation, header = drawn
                    began = time.monotonic()
                    try:
                        await asyncio.wait_for(call_async(client, call, operation, header, out), CALL_BOUND_S)
                    except BaseException as error:
                        settle(call, began, error)
                        if isinstance(error, TimeoutError):
                            call.outcome = "hang"
                    else:
                        settle(call, began, None)
                    finished(call)

            async def async_side() -> None:
                async with AsyncImagesClient(
                    base_url=running.url,
                    api_key=TOKEN,
                    timeout=settings.client_timeout_s,
                    max_retries=MAX_RETRIES,
                ) as client:
                    await asyncio.gather(*(async_worker(client, n) for n in range(settings.async_tasks)))

            threads = [
                threading.Thread(target=sync_worker, args=(n,), daemon=True)
                for n in range(settings.sync_clients)
            ]
            if settings.async_tasks:
                threads.append(threading.Thread(target=lambda: asyncio.run(async_side()), daemon=True))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()) + CALL_BOUND_S + 30)
                if thread.is_alive():
                    report.hangs.append(f"client thread {thread.name} still running after the bound")
            report.elapsed_s = time.monotonic() - started
            if not baseline_marked.is_set():
                watch.mark_baseline()
            watch.stop()
            check_duplicates(running.url, calls, report)
            report.rss_mb, report.rss_problems = rss_verdict(watch, settings.max_rss_mb)
        report.server_log_errors = server_log_errors(running.log)
        check_files(out, calls, report)
        tally(calls, report)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report


def tally(calls: list[Call], report: Report) -> None:
    must_succeed = {name for name, _, _, succeeds, _ in FAULTS if succeeds}
    report.calls = len(calls)
    for call in calls:
        kind = call.outcome.split(":")[0]
        report.outcomes[call.outcome] = report.outcomes.get(call.outcome, 0) + 1
        report.by_operation[call.operation] = report.by_operation.get(call.operation, 0) + 1
        counts = report.by_fault.setdefault(call.fault, {})
        counts[kind] = counts.get(kind, 0) + 1
        where = (
            f"#{call.number} {call.operation} with fault {call.fault} ({call.client}, {call.seconds:.1f} s)"
        )
        if kind == "hang":
            report.hangs.append(where)
        elif kind == "unexpected":
            report.unexpected.append(f"{where}: {call.detail}")
        elif kind == "typed" and call.fault in must_succeed:
            report.unexpected.append(f"{where}: {call.outcome}: {call.detail}")


def check_files(out: Path, calls: list[Call], report: Report) -> None:
    """Every saved file is a whole image, and nothing else (no temporary file) is left."""
    expected = {path for call in calls for path in call.files}
    report.files_saved = len(expected)
    for path in sorted(out.iterdir()):
        if str(path) not in expected:
            report.partial_files.append(f"{path.name}: not a file any call saved (a temporary one?)")
            continue
        try:
            with Image.open(path) as image:
                image.load()
        except Exception as error:
            report.partial_files.append(f"{path.name}: {error}")
    for saved in expected:
        if not Path(saved).exists():
            report.partial_files.append(f"{Path(saved).name}: reported saved, but missing")


def check_duplicates(url: str, calls: list[Call], report: Report) -> None:
    """Ask the server how many answers it generated for each call's key: at most one."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http:
        for call in calls:
            records = http.get(f"/debug/idempotency/{call.key}").json()["operations"]
            for operation, record in records.items():
                if record["generations"] > 1:
                    report.duplicates.append(
                        f"{call.key} ({call.operation}, fault {call.fault}): {operation} generated "
                        f"{record['generations']} times"
                    )


def rss_verdict(watch: RssWatch, max_mb: float) -> tuple[dict[str, dict[str, float]], list[str]]:
    found: dict[str, dict[str, float]] = {}
    problems: list[str] = []
    for who, samples in watch.samples.items():
        baseline = watch.baseline.get(who, samples[0])
        end, peak = samples[-1], max(samples)
        found[who] = {"baseline": baseline, "max": peak, "end": end}
        if peak > max_mb:
            problems.append(f"{who} reached {peak:.0f} MB (bound {max_mb:.0f} MB)")
        if who != "parent" and baseline and end > 2 * baseline:
            problems.append(
                f"{who} ended at {end:.0f} MB, over twice its {baseline:.0f} MB after {BASELINE_CALLS} calls"
            )
    return found, problems


def server_log_errors(log: Path) -> list[str]:
    """Tracebacks and errors in the server's log (the server must not fail on any of this)."""
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if "Traceback" in line or line.startswith("ERROR")][:20]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to send calls (default 10)")
    parser.add_argument("--sync-clients", type=int, default=4, help="threads with an ImagesClient each (4)")
    parser.add_argument("--async-tasks", type=int, default=4, help="tasks sharing an AsyncImagesClient (4)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--max-calls", type=int, help="stop after this many calls")
    parser.add_argument("--max-rss-mb", type=float, default=600.0, help="bound of each server process (600)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the whole report here")
    parser.add_argument("-v", "--verbose", action="store_true", help="progress every 500 calls")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings(
        seconds=60 * args.minutes,
        sync_clients=args.sync_clients,
        async_tasks=args.async_tasks,
        workers=args.workers,
        max_calls=args.max_calls,
        max_rss_mb=args.max_rss_mb,
        seed=args.seed,
        verbose=args.verbose,
    )
    report = run_soak(settings)
    print(report.summary())
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
