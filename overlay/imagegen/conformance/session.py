"""The requests the runner makes itself (probes, rule negatives, image downloads), and its clock.

They go through `requests`, as schemathesis' own do: to a server at a URL, or to an ASGI
application in-process through schemathesis' ASGI client (no port, no network; the application's
lifespan is started once and shared with schemathesis' requests). Every request is bounded by
the request timeout and by what is left of the run's time limit, so a slow server cannot hold
the run past `--max-time`; each answer's latency is kept for the slow-server warning.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

# Enough events for 10 images of 3 partial images each, and a few more: a stream is judged whole.
MAX_STREAM_EVENTS = 64
# A median answer this slow, a slowest one this slow, or a run stopped while it waited, makes the
# report warn that the run covered less than it could.
SLOW_MEDIAN_S = 2.0
SLOW_ANSWER_S = 10.0
APP_ORIGIN = "http://testserver"


class RunStopped(Exception):
    """The run's time limit passed, or it was interrupted: stop making requests."""


@dataclass
class Clock:
    """The run's time limit and stop signal, shared by every thread of the run."""

    deadline: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    latencies: list[float] = field(default_factory=list)
    unanswered: list[float] = field(default_factory=list)
    """How long each request given up on (a timeout, the time limit) had waited."""
    _in_flight: dict[int, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tickets: itertools.count[int] = field(default_factory=itertools.count)
    _last: float = field(default_factory=time.monotonic)

    def remaining(self) -> float | None:
        """Seconds left (None without a limit); RunStopped once the run must stop."""
        if self.stop.is_set():
            raise RunStopped
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RunStopped
        return left

    def started(self) -> int:
        """Note that a request went out; returns its ticket for `answered`."""
        with self._lock:
            ticket = next(self._tickets)
            self._in_flight[ticket] = time.monotonic()
            return ticket

    def answered(self, ticket: int, *, answer: bool = True) -> None:
        """Note that the request of `ticket` was answered (or, `answer=False`, given up on)."""
        with self._lock:
            began = self._in_flight.pop(ticket, None)
            self._last = time.monotonic()
            if began is not None:
                (self.latencies if answer else self.unanswered).append(self._last - began)

    def record(self, elapsed: float) -> None:
        """Keep the latency of an answer timed elsewhere (schemathesis' own requests)."""
        with self._lock:
            self.latencies.append(elapsed)
            self._last = time.monotonic()

    def slow_warning(self, *, waiting: bool = False) -> str | None:
        """A warning when answers were slow (or one never came), with the latencies seen;
        `waiting` says that the run was still waiting for an answer when it stopped."""
        now = time.monotonic()
        with self._lock:
            seen = list(self.latencies)
            unanswered = [*self.unanswered, *(now - began for began in self._in_flight.values())]
            if waiting and not unanswered:
                unanswered = [now - self._last]  # one of schemathesis' requests, sent after the last answer
        return _slow(seen, unanswered)


def _slow(seen: list[float], waiting: list[float]) -> str | None:
    median = statistics.median(seen) if seen else 0.0
    if not waiting and median < SLOW_MEDIAN_S and max(seen, default=0.0) < SLOW_ANSWER_S:
        return None
    if seen:
        median = statistics.median(seen)
        parts = [f"the slowest of {len(seen)} answers took {max(seen):.1f} s (median {median:.1f} s)"]
    else:
        parts = ["no answer came"]
    if waiting:
        parts.append(f"{len(waiting)} request(s) got no answer, one after waiting {max(waiting):.1f} s")
    return (
        f"The server is slow: {'; '.join(parts)}. The run made fewer requests than it would have; "
        "raise --max-time (or lower --max-examples) to cover more."
    )


class Http:
    """Requests to the server under test (`root` is its API base), bounded by `clock`."""

    def __init__(self, root: str, app: Any, request_timeout_s: float, clock: Clock) -> None:
        self.root = root.rstrip("/")
        self.app = app
        self.request_timeout_s = request_timeout_s
        self.clock = clock
        self._local = threading.local()

    @property
    def origin(self) -> str:
        return origin_of(self.root)

    def _session(self, same_origin: bool) -> requests.Session:
        key = "api" if same_origin else "other"
        session: requests.Session | None = getattr(self._local, key, None)
        if session is None:
            if same_origin and self.app is not None:
                from schemathesis.python.asgi import get_client

                session = get_client(self.app, max_stream_events=MAX_STREAM_EVENTS)
            else:
                session = requests.Session()
                session.trust_env = False  # no proxy or .netrc credentials from the environment
            setattr(self._local, key, session)
        return session

    def timeout(self) -> float:
        """The timeout of the next request: the request timeout, or what is left of the run."""
        left = self.clock.remaining()
        return self.request_timeout_s if left is None else max(0.1, min(self.request_timeout_s, left))

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        allow_redirects: bool = True,
    ) -> requests.Response:
        """Send one request; RunStopped when the run is out of time, requests' errors as they are."""
        same = origin_of(url) == self.origin
        session = self._session(same)
        timeout = self.timeout()
        ticket = self.clock.started()
        try:
            answer = session.request(
                method,
                url,
                headers=dict(headers or {}),
                json=json,
                data=data,
                files=files,
                timeout=timeout,
                allow_redirects=allow_redirects,
            )
        except requests.RequestException:
            self.clock.answered(ticket, answer=False)
            raise
        self.clock.answered(ticket)
        return answer


def origin_of(url: str) -> str:
    """scheme://host:port of `url`, with the default port written out."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


__all__ = [
    "APP_ORIGIN",
    "MAX_STREAM_EVENTS",
    "SLOW_ANSWER_S",
    "SLOW_MEDIAN_S",
    "Clock",
    "Http",
    "RunStopped",
    "origin_of",
]
