"""Run the reference server with uvicorn: in a background thread (tests, demos) or in the
foreground (`imagegen serve`)."""

from __future__ import annotations

import copy
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from .app import API_PREFIX, DropConnection, create_app
from .config import ServerConfig

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0


class _HideDroppedConnections(logging.Filter):
    """Dropped connections are faults asked for, not errors worth a traceback in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DropConnection))


def _server(
    app: Any, host: str, port: int, on_ready: Callable[[str], None] | None, *, access_log: bool = False
) -> uvicorn.Server:
    logging.getLogger("uvicorn.error").addFilter(_HideDroppedConnections())
    # All logs on stderr: stdout carries only the base URL, and a caller that reads just that
    # line must never block the server on a full pipe.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    uvicorn_config = uvicorn.Config(
        app,
        log_config=log_config,
        host=host,
        port=port,
        log_level="info" if access_log else "warning",
        access_log=access_log,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )

    class ReadyServer(uvicorn.Server):
        async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
            await super().startup(sockets)  # type: ignore[arg-type]
            if self.started and on_ready is not None:
                on_ready(base_url_of(self))

    return ReadyServer(uvicorn_config)


def base_url_of(server: uvicorn.Server) -> str:
    """The base URL (ending in /v1) a started server answers on."""
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{API_PREFIX}"


@contextmanager
def serve_in_background(config: ServerConfig, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run a reference server in a thread for the duration of the block; yields its base URL.

    >>> with serve_in_background(ServerConfig(auth=False)) as base_url:
    ...     ...  # e.g. http://127.0.0.1:40123/v1
    """
    with serve_app_in_background(create_app(config), host, port, access_log=config.access_log) as url:
        yield url


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


def serve_forever(config: ServerConfig, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Run a server in this thread until SIGINT or SIGTERM; `on_ready(base_url)` once it listens.

    Raises OSError (e.g. address in use) before serving when the address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, so that asyncio turns Nagle off on accepted connections (else ~40 ms a reply).
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    if threading.current_thread() is threading.main_thread():
        # uvicorn shuts down gracefully, then raises the signal again for the previous handler:
        # make SIGTERM's a no-op so that a requested stop ends with exit status 0.
        signal.signal(signal.SIGTERM, lambda signum, frame: None)
    _server(create_app(config), host, port, on_ready, access_log=config.access_log).run(sockets=[listener])
