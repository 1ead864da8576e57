"""How many requests a batch keeps in flight, adapting to what the server says (AIMD).

The limit starts at the concurrency asked for and moves as TCP's congestion window does:

- additive increase: each success raises it by 1/limit, so about one more request in flight per
  round of `limit` successes, never above the concurrency asked for;
- multiplicative decrease: a 429 or 503 halves it (at least 1), once per cool-down (the
  Retry-After asked for, and at least a second), so one burst of refusals counts once; when
  refusals are scattered (at most one in five of the last 50 answers, answers not yet seen
  counted as successes) it is cut by a tenth only. The refused request itself waits its
  Retry-After before it is sent again;
- a pause: when half of the last 50 answers (25) or more are refusals, the server is refusing
  everything (a rate limit reached), and no new request starts until the Retry-After has
  passed. A refusal here and there (a busy replica) pauses nothing: the cut is answer enough,
  and stopping every request for each one would cost far more;
- `max_rpm`, when given, caps how many requests start in any 60 seconds.

Other failures (a 500, a dropped connection) neither raise nor lower it: they say nothing of load.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable

MIN_COOLDOWN_S = 1.0
RECENT = 50
"""How many of the last answers the pause (and the size of a cut) looks at. Counted against the
whole window even before it is full: with a window of 20 and the fraction of the answers seen,
the first refusal of a batch (one of one) paused it for its Retry-After and halved it, and a
batch whose every tenth request was refused was halved whenever three fell in twenty, running
at 0.74-0.80 of its speed without refusals."""
SCATTERED = 5
"""Refusals are scattered when at most one in this many of the last RECENT answers is one."""
GENTLE_CUT = 0.9
"""What a refusal leaves of the limit when refusals are scattered (one in five recent answers, or
fewer): halving for each would keep a batch at a fraction of what the server takes. With a
cut by a quarter, a batch whose every tenth request was refused settled at a third of its
concurrency and 0.7 of its speed without refusals; a tenth keeps it at 0.9-0.98."""


class Pacer:
    """The gate every request of a batch passes: `await acquire()`, then `await release(...)`."""

    def __init__(
        self,
        concurrency: int,
        *,
        max_rpm: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if max_rpm is not None and max_rpm < 1:
            raise ValueError(f"max_rpm must be at least 1, not {max_rpm}")
        self.maximum = concurrency
        self.limit = float(concurrency)
        self.in_flight = 0
        self.max_rpm = max_rpm
        self.cuts = 0
        """How many times the limit was halved."""
        self._clock = clock
        self._paused_until = 0.0
        self._last_cut = float("-inf")
        self._starts: deque[float] = deque()
        self._recent: deque[bool] = deque(maxlen=RECENT)  # True: a refusal
        self._changed = asyncio.Event()

    @property
    def concurrency(self) -> int:
        """The number of requests allowed in flight now."""
        return max(1, int(self.limit))

    async def acquire(self) -> None:
        """Wait until a request may start, and count it in flight."""
        while True:
            delay = self._delay()
            if delay == 0.0:
                self.in_flight += 1
                if self.max_rpm is not None:
                    self._starts.append(self._clock())
                return
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=delay)

    def release(self, outcome: str, retry_after: float | None = None) -> None:
        """A request ended: `ok`, `throttled` (429/503, with the Retry-After in seconds) or `failed`."""
        self.in_flight -= 1
        now = self._clock()
        self._recent.append(outcome == "throttled")
        if outcome == "throttled":
            wait = max(retry_after or 0.0, 0.0)
            refused = sum(self._recent)
            if 2 * refused >= RECENT:
                self._paused_until = max(self._paused_until, now + wait)
            if now - self._last_cut >= max(wait, MIN_COOLDOWN_S):
                scattered = refused * SCATTERED <= RECENT
                self.limit = max(1.0, self.limit * (GENTLE_CUT if scattered else 0.5))
                self._last_cut = now
                self.cuts += 1
        elif outcome == "ok":
            self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
        self._changed.set()

    def _delay(self) -> float | None:
        """0 when a request may start now, else how long to wait (None: until one ends)."""
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        if self.in_flight >= self.concurrency:
            return None
        if self.max_rpm is not None:
            while self._starts and self._starts[0] <= now - 60.0:
                self._starts.popleft()
            if len(self._starts) >= self.max_rpm:
                return self._starts[0] + 60.0 - now
        return 0.0
