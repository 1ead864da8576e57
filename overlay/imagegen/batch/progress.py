"""What a batch shows while it runs: a tqdm bar on a terminal, plain lines otherwise.

The bar (`pip install 'imagegen[batch]'` brings tqdm) shows done of total, failed, in flight, the
rate, the time left and the current concurrency. Without a terminal (or without tqdm) a line goes
to stderr every `every_s` seconds, and one at the end.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass
class Snapshot:
    """Where a batch is."""

    total: int
    done: int
    failed: int
    in_flight: int
    concurrency: int
    started_done: int
    """Requests already done when this run started (a resumed batch): not counted in the rate."""


class Progress:
    """Shows snapshots: `update(snapshot)` as often as you like, `close()` at the end."""

    def __init__(self, *, enabled: bool = True, stream: TextIO | None = None, every_s: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.every_s = every_s
        self.started = time.monotonic()
        self._last_line = self.started
        self._bar: Any = None
        if enabled and self.stream.isatty():
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=0, file=self.stream, unit="req", dynamic_ncols=True, smoothing=0.1)
            except ImportError:
                self._bar = None

    def update(self, snapshot: Snapshot) -> None:
        """Show where the batch is (a bar redraw, or a line when one is due)."""
        if not self.enabled:
            return
        if self._bar is not None:
            if self._bar.total != snapshot.total:
                self._bar.total = snapshot.total
            self._bar.n = snapshot.done + snapshot.failed
            self._bar.set_postfix_str(
                f"failed {snapshot.failed}, in flight {snapshot.in_flight}, "
                f"concurrency {snapshot.concurrency}",
                refresh=False,
            )
            self._bar.refresh()
            return
        now = time.monotonic()
        if now - self._last_line >= self.every_s:
            self._last_line = now
            print(self.line(snapshot), file=self.stream, flush=True)

    def say(self, text: str) -> None:
        """Print one message (above the bar, if there is one)."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def line(self, snapshot: Snapshot) -> str:
        """`batch: 340/2000 done, 2 failed, 16 in flight, 12.3/s, ETA 2m15s, concurrency 16`."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        finished = snapshot.done + snapshot.failed
        rate = (finished - snapshot.started_done) / elapsed
        left = snapshot.total - finished
        eta = _duration(left / rate) if rate > 0 else "?"
        return (
            f"batch: {snapshot.done}/{snapshot.total} done, {snapshot.failed} failed, "
            f"{snapshot.in_flight} in flight, {rate:.1f}/s, ETA {eta}, concurrency {snapshot.concurrency}"
        )

    def close(self) -> None:
        """Take the bar down."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def duration(seconds: float) -> str:
    """`2m15s`, `1h04m`: a time for people."""
    return _duration(seconds)
