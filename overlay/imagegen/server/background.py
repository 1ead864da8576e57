"""Run the reference server with uvicorn: in a background thread (tests, demos) or in the
foreground (`imagegen serve`), in one process or in several worker processes sharing a store."""

from __future__ import annotations

import copy
import errno
import logging
import logging.config
import os
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from .access import WORKER_HEADER
from .app import API_PREFIX, DropConnection, create_app
from .config import ServerConfig
from .storage import Store

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0
WORKERS_START_TIMEOUT_S = 60.0
ORPHAN_CHECK_S = 1.0
logger = logging.getLogger("imagegen.server")


class HideDroppedConnections(logging.Filter):
    """Dropped connections are faults asked for, not errors worth a traceback in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DropConnection))


def log_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's logging setup with every line on stderr (stdout carries only the base URL, and a
    caller that reads just that line must never block the server on a full pipe), dropped
    connections hidden, and the server's own loggers (access log, store warnings) added."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config.setdefault("filters", {})["hide_dropped"] = {"()": f"{__name__}.HideDroppedConnections"}
    config["handlers"]["default"]["filters"] = ["hide_dropped"]
    level = "INFO" if access_log else "WARNING"
    config["loggers"]["imagegen.server"] = {"handlers": ["default"], "level": level, "propagate": False}
    return config


def _uvicorn_config(app: Any, host: str, port: int, access_log: bool, workers: int = 1) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_config=log_config(access_log),
        host=host,
        port=port,
        log_level="info" if access_log else "warning",
        access_log=False,  # ours (access.py) leaves query strings out
        lifespan="off",
        timeout_graceful_shutdown=5,
        workers=workers,
    )


def _server(
    app: Any, host: str, port: int, on_ready: Callable[[str], None] | None, *, access_log: bool = False
) -> uvicorn.Server:
    class ReadyServer(uvicorn.Server):
        async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
            await super().startup(sockets)  # type: ignore[arg-type]
            if self.started and on_ready is not None:
                on_ready(base_url_of(self))

    return ReadyServer(_uvicorn_config(app, host, port, access_log))


def base_url_of(server: uvicorn.Server) -> str:
    """The base URL (ending in /v1) a started server answers on."""
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    return _base_url(host, port)


def _base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{API_PREFIX}"


@contextmanager
def serve_in_background(config: ServerConfig, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run a reference server in a thread for the duration of the block; yields its base URL.

    >>> with serve_in_background(ServerConfig(auth=False)) as base_url:
    ...     ...  # e.g. http://127.0.0.1:40123/v1
    """
    app = create_app(config)
    try:
        with serve_app_in_background(app, host, port, access_log=config.access_log) as url:
            yield url
    finally:
        app.state.imagegen.close()


@contextmanager
def serve_app_in_background(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, access_log: bool = False
) -> Iterator[str]:
    """Run any ASGI application with uvicorn in a thread for the duration of the block; yields
    the base URL it answers on (with /v1 appended, as for the reference server)."""
    server = _server(app, host, port, on_ready=None, access_log=access_log)
    thread = threading.Thread(target=server.run, name="imagegen-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.01)
    try:
        yield base_url_of(server)
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)


def serve_forever(
    config: ServerConfig, host: str, port: int, on_ready: Callable[[str], None], *, workers: int = 1
) -> None:
    """Run a server in this thread until SIGINT or SIGTERM; `on_ready(base_url)` once it listens.

    With `workers` > 1, that many processes answer on the same port and share the store in
    `config.data_dir`. Without a data_dir, the store is a temporary folder removed at the end.
    Raises OSError (e.g. address in use) before serving when the address cannot be bound, and
    RuntimeError when the store cannot be opened or the workers do not start.
    """
    listener = _listen(host, port) if workers <= 1 else _workers_listen(host, port)
    owned = None
    if config.data_dir is None:
        owned = Path(tempfile.mkdtemp(prefix="imagegen-server-"))
        config = config.with_temporary_store(owned)
    assert config.data_dir is not None
    logging.config.dictConfig(log_config(config.access_log))
    try:
        try:  # the schema, and files a crashed run left, before any worker
            Store(config.data_dir, durable=config.store_durable).close()
        except (OSError, sqlite3.Error) as error:
            raise RuntimeError(f"cannot keep the store in {config.data_dir}: {error}") from None
        logger.info(
            "store in %s: URL images up to %d bytes for %g s, idempotent answers up to %d bytes for %g s%s",
            config.data_dir,
            config.store_max_bytes,
            config.url_ttl_s,
            config.idempotency_max_bytes,
            config.idempotency_window_s,
            " (a temporary folder, removed at exit)" if owned else "",
        )
        if threading.current_thread() is threading.main_thread():
            # uvicorn shuts down gracefully, then raises the signal again for the previous handler:
            # make SIGTERM's a no-op so that a requested stop ends with exit status 0.
            signal.signal(signal.SIGTERM, lambda signum, frame: None)
        if workers <= 1:
            _server(create_app(config), host, port, on_ready, access_log=config.access_log).run(
                sockets=[listener]
            )
        else:
            _serve_workers(config, listener, workers, on_ready)
    finally:
        listener.close()
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)


def _listen(host: str, port: int) -> socket.socket:
    listener = _bound(_family(host), host, port)
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _bound(
    family: socket.AddressFamily,
    host: str,
    port: int,
    *,
    reuse_port: bool = False,
    kind: type[socket.socket] = socket.socket,
) -> socket.socket:
    # IPPROTO_TCP, so that asyncio turns Nagle off on accepted connections (else ~40 ms a reply).
    bound = kind(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        bound.bind((host, port))
    except OSError:
        bound.close()
        raise
    return bound


class _PortPerWorker(socket.socket):
    """The parent's hold on the address of a server with several workers: bound, never listening.
    A worker that receives it (pickled by uvicorn's supervisor) gets a listening socket of its own
    on that address instead (SO_REUSEPORT), and the kernel spreads new connections over the
    workers. With one socket shared by every worker, the first to wake accepted every connection
    that arrived together: a client that opened its 64 kept-alive connections at once had them all
    on one worker, and the other worker idle, for as long as it kept them."""

    claim: socket.socket | None = None
    """This server's claim on the address among servers with workers (see _claim_address)."""

    def __reduce__(self) -> tuple[Any, ...]:
        host, port = self.getsockname()[:2]
        return (_worker_listener, (self.family, host, port))

    def close(self) -> None:
        if self.claim is not None:
            self.claim.close()
        super().close()


def _worker_listener(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    """In a worker: its own listening socket on the server's address (see _PortPerWorker)."""
    listener = _bound(family, host, port, reuse_port=True)
    listener.listen(2048)
    return listener


def _workers_listen(host: str, port: int) -> socket.socket:
    """The socket the parent of several workers holds (a shared listening one where the kernel
    cannot spread connections over listeners: SO_REUSEPORT balances only on Linux).

    The address is first bound without SO_REUSEPORT: that fails, as for one worker, when anyone
    holds it, another server with workers included (which could otherwise join ours and take a
    share of its connections), and picks the free port when `port` is 0."""
    if sys.platform != "linux" or not hasattr(socket, "SO_REUSEPORT"):
        return _listen(host, port)
    with _bound(_family(host), host, port) as probe:
        address, port = probe.getsockname()[:2]
    claim = _claim_address(address, port)
    try:
        held = _bound(_family(host), host, port, reuse_port=True, kind=_PortPerWorker)
    except OSError:
        claim.close()
        raise
    assert isinstance(held, _PortPerWorker)
    held.claim = claim
    return held


def _claim_address(address: str, port: int) -> socket.socket:
    """A name only one process can hold at a time (a Unix socket in Linux's abstract namespace:
    no file, released when the process ends) for this user's address.

    The probe above fails against a listening socket, but until the workers listen the address
    is held only by the parent's bound, not listening, socket, which a second server's probe
    (SO_REUSEADDR) can bind beside: two servers started together both started, and shared the
    port."""
    claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        claim.bind(f"\0imagegen-serve-{os.getuid()}-{address}-{port}")
    except OSError:
        claim.close()
        raise OSError(errno.EADDRINUSE, "another imagegen server with workers holds this address") from None
    return claim


class _WorkerApp:
    """The application as each worker process builds it: only the configuration is pickled (to
    the worker, through multiprocessing's pipe, never through a file or the environment)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._app: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.config = state["config"]
        self._app = create_app(self.config)  # in the worker, before it accepts connections
        threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = create_app(self.config)
        await self._app(scope, receive, send)


def _stop_when_orphaned(parent: int) -> None:
    """A worker whose parent died (killed, not stopped) stops too, gracefully, within a second."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_S)
    os.kill(os.getpid(), signal.SIGTERM)


def _serve_workers(
    config: ServerConfig, listener: socket.socket, workers: int, on_ready: Callable[[str], None]
) -> None:
    host, port = listener.getsockname()[:2]
    supervisor = Multiprocess(
        _uvicorn_config(_WorkerApp(config), host, port, config.access_log, workers), sockets=[listener]
    )
    ready = threading.Event()

    def announce() -> None:
        if _wait_for_workers(_base_url(host, port), workers, supervisor.should_exit):
            ready.set()
            on_ready(_base_url(host, port))
        else:
            supervisor.should_exit.set()

    threading.Thread(target=announce, name="imagegen-announce", daemon=True).start()
    supervisor.run()
    if not ready.is_set():
        raise RuntimeError(f"the {workers} worker processes did not start; see the log above")


def _wait_for_workers(base_url: str, workers: int, stop: threading.Event) -> bool:
    """Poll /health on fresh connections until `workers` distinct processes have answered."""
    seen: set[str] = set()
    health = base_url.removesuffix(API_PREFIX) + "/health"
    deadline = time.monotonic() + WORKERS_START_TIMEOUT_S
    while time.monotonic() < deadline and not stop.is_set():
        try:
            answer = httpx.get(health, timeout=5.0)
            if answer.status_code == 200:
                seen.add(answer.headers.get(WORKER_HEADER, ""))
        except httpx.HTTPError:
            pass
        if len(seen) >= workers:
            return True
        time.sleep(0.02 if seen else 0.1)
    if seen:
        logger.warning("only %d of %d worker processes answered in time; serving anyway", len(seen), workers)
        return True
    return False
