"""Faults on demand, for testing clients: errors with Retry-After, latency, dropped
connections, truncated streams and malformed JSON.

Only a server started with faults enabled honours them. A request asks for one with the header

    X-Imagegen-Fault: status=503; times=2; retry-after=1; id=my-test

which makes the first two requests carrying exactly that header answer 503 with `Retry-After: 1`,
and later ones succeed (so a client's retries can be tested). A fault can also be set for every
request of an operation (ServerConfig.route_faults). Keys:

    status=CODE         answer CODE (400-599) in the error envelope
    retry-after=VALUE   with this Retry-After header (seconds or an HTTP date)
    retry-after-ms=MS   with this retry-after-ms header
    latency=SECONDS     wait this long first (at most 30), then go on
    drop                close the connection after the headers, before any body
    truncate=K          streams: send K events, then half of the next one, then end
    malformed           answer 200 with a body that is not valid JSON
    times=N             the first N matching requests get the fault (default 1)
    every=K             only every K-th matching request is a candidate (K, 2K, ...; default 1):
                        `every=10; times=200` faults 10 % of 2,000 requests, spread through them
    id=TEXT             any text, to keep the counters of separate tests apart
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import invalid
from .storage import Bucket

FAULT_HEADER = "x-imagegen-fault"
BUCKET = "faults"
COUNT_TTL_S = 3600.0  # a fault's count is forgotten an hour after it last struck
MAX_LATENCY_S = 30.0
_FLAGS = {"drop", "malformed"}
_VALUES = {"status", "retry-after", "retry-after-ms", "latency", "truncate", "times", "every", "id"}


@dataclass(frozen=True)
class Fault:
    """One fault, as parsed from its text."""

    text: str
    status: int | None = None
    retry_after: str | None = None
    retry_after_ms: int | None = None
    latency_s: float = 0.0
    drop: bool = False
    truncate_after: int | None = None
    malformed: bool = False
    times: int = 1
    every: int = 1

    def headers(self) -> dict[str, str]:
        """The retry headers the faulty answer carries."""
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = self.retry_after
        if self.retry_after_ms is not None:
            headers["retry-after-ms"] = str(self.retry_after_ms)
        return headers


def parse_fault(text: str) -> Fault:
    """Parse `status=503; times=2; ...`; a 400 naming the header when it is malformed."""
    values: dict[str, str] = {}
    flags: set[str] = set()
    for item in filter(None, (part.strip() for part in text.split(";"))):
        key, sep, value = (piece.strip() for piece in item.partition("="))
        key = key.lower()
        if not sep and key in _FLAGS:
            flags.add(key)
        elif sep and key in _VALUES:
            values[key] = value
        else:
            raise _bad(f"unknown item {item!r}")
    try:
        status = int(values["status"]) if "status" in values else None
        fault = Fault(
            text=text,
            status=status,
            retry_after=values.get("retry-after"),
            retry_after_ms=int(values["retry-after-ms"]) if "retry-after-ms" in values else None,
            latency_s=min(float(values.get("latency", 0)), MAX_LATENCY_S),
            drop="drop" in flags,
            truncate_after=int(values["truncate"]) if "truncate" in values else None,
            malformed="malformed" in flags,
            times=int(values.get("times", 1)),
            every=int(values.get("every", 1)),
        )
    except ValueError as error:
        raise _bad(str(error)) from None
    if status is not None and not 400 <= status <= 599:
        raise _bad("status must be between 400 and 599")
    if (
        fault.times < 1
        or fault.every < 1
        or fault.latency_s < 0
        or (fault.truncate_after is not None and fault.truncate_after < 0)
    ):
        raise _bad("times and every must be at least 1; latency and truncate cannot be negative")
    return fault


def _bad(reason: str) -> Exception:
    return invalid(f"Malformed X-Imagegen-Fault header: {reason}.", param="X-Imagegen-Fault")


class FaultBook:
    """Decides which requests get a fault, counting how often each fault has struck.

    The counts live in the shared store, so `times=N` means N requests in all, whichever worker
    process answers them; they start afresh with each run of the server (`run`).
    """

    def __init__(
        self, enabled: bool, route_faults: Mapping[str, str], bucket: Bucket | None = None, run: str = ""
    ) -> None:
        self.enabled = enabled
        self._run = run
        self._routes = {route: parse_fault(text) for route, text in route_faults.items()} if enabled else {}
        self._bucket = bucket
        self._struck: Counter[str] = Counter()  # without a store: this process's counts
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def applies(self, operation: str, header: str | None) -> bool:
        """Whether `take` has anything to decide for this request (cheap; no store access)."""
        return self.enabled and (bool(header) or operation in self._routes)

    def take(self, operation: str, header: str | None) -> Fault | None:
        """The fault this request gets, if any (and count it)."""
        if not self.applies(operation, header):
            return None
        if header:
            fault, key = parse_fault(header), f"header:{header}"
        else:
            fault, key = self._routes[operation], f"route:{operation}"
        return fault if self._count(key, fault.times, fault.every) else None

    def _count(self, key: str, times: int, every: int) -> bool:
        """Count this request; whether it gets the fault (the K-th, 2K-th, ... while struck < times)."""
        if self._bucket is None:
            with self._lock:
                self._seen[key] += 1
                if self._struck[key] >= times or self._seen[key] % every:
                    return False
                self._struck[key] += 1
                return True
        bucket = self._bucket
        name = hashlib.sha256(f"{self._run}\0{key}".encode()).hexdigest()
        with bucket.store.transaction():
            current = bucket.get(name)
            struck = int(current.meta.get("struck", 0)) if current is not None else 0
            seen = int(current.meta.get("seen", 0)) + 1 if current is not None else 1
            strikes = struck < times and seen % every == 0
            bucket.put(name, meta={"struck": struck + strikes, "seen": seen}, ttl_s=COUNT_TTL_S)
        return strikes
