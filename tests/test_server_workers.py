"""`imagegen serve --workers 2`: two processes on one port share the store (URL images and
idempotency records) and a restart keeps it; and a short soak with random faults runs clean."""

from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import httpx

from .support.cli import IMAGEGEN
from .test_serve_command import serving

ROOT = Path(__file__).resolve().parent.parent
SLOW = {"prompt": "shared", "model": "dall-e-2", "size": "512x512", "n": 3}


def soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_soak", ROOT / "scripts" / "_soak.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_soak"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def pinned_clients(url: str) -> tuple[httpx.Client, httpx.Client]:
    """Two clients of one connection each, kept alive, answered by different worker processes."""
    by_worker: dict[str, httpx.Client] = {}
    for _ in range(40):
        client = httpx.Client(base_url=url, limits=httpx.Limits(max_connections=1), timeout=60)
        worker = client.get("/health").headers["x-imagegen-worker"]
        if worker in by_worker:
            client.close()
        else:
            by_worker[worker] = client
        if len(by_worker) == 2:
            first, second = by_worker.values()
            return first, second
    raise AssertionError(f"fresh connections reached only the workers {sorted(by_worker)}")


def test_two_workers_share_the_store_generate_once_and_a_restart_keeps_it(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serving("--no-auth", "--quiet", "--workers", "2", "--data-dir", str(store)) as (url, process):
        one, other = pinned_clients(url)
        keys = [f"shared-{time.monotonic_ns()}-{n}" for n in range(3)]

        def send(job: tuple[httpx.Client, str]) -> httpx.Response:
            client, key = job
            return client.post("/images/generations", json=SLOW, headers={"Idempotency-Key": key})

        with closing(one), closing(other), ThreadPoolExecutor(2) as pool:
            for key in keys:  # the same key on both workers at once: generated once
                first, second = pool.map(send, [(one, key), (other, key)])
                assert first.headers["x-imagegen-worker"] != second.headers["x-imagegen-worker"]
                assert first.status_code == second.status_code == 200
                assert first.json() == second.json()
                record = one.get(f"/debug/idempotency/{key}").json()["operations"]["generations"]
                assert (record["state"], record["generations"]) == ("done", 1)
            image_url = first.json()["data"][0]["url"]
            # a given --data-dir is synced to disk (it is kept), by every worker
            durable = [client.get("/debug/store").json()["durable"] for client in (one, other)]
            assert durable == [True, True]
            # an image made by one worker is served by both
            assert one.get(image_url).content == other.get(image_url).content
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0

    with serving("--no-auth", "--quiet", "--data-dir", str(store)) as (url_again, _):
        image = httpx.get(image_url.replace(url, url_again))
        replay = httpx.post(
            f"{url_again}/images/generations", json=SLOW, headers={"Idempotency-Key": keys[-1]}, timeout=60
        )
    assert image.status_code == 200
    assert image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert replay.json() == first.json()  # remembered across the restart


def worker_of(connection: socket.socket) -> str:
    """The worker that answers `GET /health` on an open (kept-alive) connection."""
    connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = connection.recv(4096)
        assert chunk, f"the connection closed after {head!r}"
        head += chunk
    for line in head.split(b"\r\n\r\n")[0].decode().split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "x-imagegen-worker":
            return value.strip()
    raise AssertionError(f"no worker header in {head!r}")


def test_connections_opened_at_once_are_spread_over_the_workers() -> None:
    # A client opening its whole pool at once (a batch starting 64 requests): with one listening
    # socket shared by the workers, the first to wake accepted them all and the other idled.
    with serving("--no-auth", "--quiet", "--workers", "2") as (url, _):
        address = urlsplit(url)
        assert address.hostname is not None
        assert address.port is not None
        connections = [
            socket.create_connection((address.hostname, address.port), timeout=30) for _ in range(32)
        ]
        try:
            workers = [worker_of(connection) for connection in connections]
        finally:
            for connection in connections:
                connection.close()
    counts = sorted(workers.count(worker) for worker in set(workers))
    # Spread by a hash of each connection's port: 32 split like coin tosses, fewer than 8 on one
    # worker about once in 500 runs, fewer than 4 once in 400,000.
    assert len(counts) == 2, f"connections per worker: {counts}"
    assert counts[0] >= 4, f"connections per worker: {counts}"


def test_a_short_soak_with_random_faults_runs_clean() -> None:
    soak = soak_module()
    settings = soak.Settings(
        seconds=2, sync_clients=2, async_tasks=2, workers=2, seed=11, client_timeout_s=1.0, latency_s=1.5
    )
    report = soak.run_soak(settings)

    assert report.clean, report.summary()
    assert report.calls >= 15
    assert report.files_saved > 0
    assert {"none", "drop", "latency"} & set(report.by_fault)


def test_of_two_servers_with_workers_started_together_on_one_port_one_serves() -> None:
    # Until its workers listen, a server holds its port with a socket that is bound but not
    # listening, which a second server could bind beside: before the fix, both started.
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [IMAGEGEN, "serve", "--no-auth", "--quiet", "--workers", "2", "--port", str(port)]
    both = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.PIPE
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 60
        while all(process.poll() is None for process in both) and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = [process for process in both if process.poll() is not None]
        assert len(refused) == 1, "one of the two must be refused at once"
        [serving_one] = [process for process in both if process not in refused]
        assert refused[0].returncode == 1
        assert refused[0].stderr is not None
        assert f"cannot listen on 127.0.0.1:{port}" in refused[0].stderr.read()
        assert serving_one.stdout is not None
        url = serving_one.stdout.readline().strip()  # printed once its workers answer
        assert url == f"http://127.0.0.1:{port}/v1"
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code == 200
        assert serving_one.poll() is None, "the other one serves on"
    finally:
        for process in both:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate(timeout=10)


def test_a_second_server_with_workers_on_the_same_port_is_refused() -> None:
    # The workers share their port (SO_REUSEPORT): another server of the same user must not
    # join them silently and take half of their connections.
    with serving("--no-auth", "--quiet", "--workers", "2") as (url, _):
        port = urlsplit(url).port
        done = subprocess.run(
            [IMAGEGEN, "serve", "--no-auth", "--workers", "2", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, done.stdout
        assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
        assert httpx.get(url.removesuffix("/v1") + "/health", timeout=10).status_code == 200
