"""When to retry a request and how long to wait first.

Retried: connection errors, timeouts, and the statuses 408, 409, 429 and 5xx (unless the server
says `x-should-retry: false`). Never other 4xx. The wait is exponential with jitter, unless the
server says how long with `retry-after-ms` or `Retry-After` (seconds or an HTTP date), which is
honoured up to `max_retry_after_s`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .errors import APIStatusError

RETRYABLE_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry, and the bounds of the waits in between."""

    max_retries: int = 2
    initial_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 60.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries cannot be negative, got {self.max_retries}")

    def retries_status(self, status_code: int, headers: Mapping[str, str]) -> bool:
        """Whether an answer with this status (and headers) is worth retrying."""
        verdict = headers.get("x-should-retry", "").lower()
        if verdict in ("true", "false"):
            return verdict == "true"
        return status_code in RETRYABLE_STATUSES or status_code >= 500

    def retries_error(self, failure: APIStatusError) -> bool:
        """Whether an error answer is worth retrying: by its status (and headers), except a 409
        saying the Idempotency-Key was used for another request, which no retry can change."""
        if failure.status_code == 409 and (
            failure.param == "Idempotency-Key" or "idempotency" in (failure.code or "").lower()
        ):
            return False
        return self.retries_status(failure.status_code, failure.headers)

    def delay_s(
        self, retry: int, headers: Mapping[str, str] | None = None, *, now: float | None = None
    ) -> float:
        """Seconds to wait before retry number `retry` (0 for the first retry)."""
        asked = server_delay_s(headers or {}, now=now)
        if asked is not None and 0 <= asked <= self.max_retry_after_s:
            return asked
        backoff: float = min(self.initial_delay_s * (2**retry), self.max_delay_s)
        return backoff * (1 - self.jitter * random.random())


def server_delay_s(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait the server asks for in `retry-after-ms` or `Retry-After`, in seconds, if any."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return float(milliseconds) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
