"""Where a batch saves its images: on the event loop while saving is quick, in a thread when not.

A thread for every save is the safe default for async code, but it is not free: on this
project's 2-core test machine, handing each result's save to `asyncio.to_thread` (and the GIL
back and forth between the loop and the saving threads) cost the client 0.4-0.5 ms of CPU per
request, a sixth of all it spends on one, and the batch took 9 % longer than saving on the
loop (2,000 generations, 64 in flight, against the reference server with two workers).
Creating a file there takes 0.6-1 ms. A slow disk (a network filesystem, a busy one)
would stall every request in flight if saved on the loop, so the saver times its saves and
moves them to threads while they are slow (a moving average above `INLINE_MAX_S`), and back
when they are quick again.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from .outputs import save_images

INLINE_MAX_S = 0.005
"""Saves slower than this on average (5 ms) go to threads, so that the loop keeps reading answers."""
_WEIGHT = 0.2
"""How much the latest save counts in the moving average."""


class ImageSaver:
    """Saves the images of each result into one folder (see save_images), adapting where."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.average_s = 0.0
        """The moving average of how long a save took (its own time, not its wait for a thread)."""
        self.in_threads = 0
        """How many saves went to a thread."""

    async def save(self, custom_id: str, images: list[bytes]) -> list[str]:
        """Write the images of `custom_id` whole; their file names, in order."""
        if self.average_s <= INLINE_MAX_S:
            return self._timed(custom_id, images)
        self.in_threads += 1
        return await asyncio.to_thread(self._timed, custom_id, images)

    def _timed(self, custom_id: str, images: list[bytes]) -> list[str]:
        started = time.perf_counter()
        try:
            return save_images(self.folder, custom_id, images)
        finally:
            took = time.perf_counter() - started
            self.average_s += _WEIGHT * (took - self.average_s)


__all__ = ["INLINE_MAX_S", "ImageSaver"]
