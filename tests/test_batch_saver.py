"""The batch's image saver: on the event loop while saves are quick, in threads while they are
slow (a slow disk must not stall the requests in flight), and back when they are quick again."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from imagegen.batch import saver as saver_module
from imagegen.batch.outputs import save_images
from imagegen.batch.saver import INLINE_MAX_S, ImageSaver

from .support.images import png_bytes

PNG = png_bytes(16, 16, (200, 40, 40, 255))


def test_quick_saves_stay_on_the_loop_and_write_whole_files(tmp_path: Path) -> None:
    saver = ImageSaver(tmp_path)

    async def run() -> list[list[str]]:
        return [await saver.save(f"cat-{n}", [PNG, PNG]) for n in range(20)]

    names = asyncio.run(run())
    assert names[3] == ["cat-3-1.png", "cat-3-2.png"]
    assert saver.in_threads == 0
    assert saver.average_s < INLINE_MAX_S
    for name in ("cat-0-1.png", "cat-19-2.png"):
        with Image.open(tmp_path / name) as image:
            assert image.size == (16, 16)
    assert not list(tmp_path.glob(".*.part"))


def test_slow_saves_move_to_threads_and_come_back_when_quick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow disk cannot be had here: each save is made to take 40 ms (then really written).
    slow = {"on": True}
    where: list[str] = []

    def slow_save(folder: Path, custom_id: str, images: list[bytes]) -> list[str]:
        where.append(threading.current_thread().name)
        if slow["on"]:
            time.sleep(0.04)
        return save_images(folder, custom_id, images)

    monkeypatch.setattr(saver_module, "save_images", slow_save)
    saver = ImageSaver(tmp_path)

    async def run() -> tuple[int, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        ticker = asyncio.create_task(tick())
        for n in range(8):
            await saver.save(f"slow-{n}", [PNG])
        slow_ticks = ticks
        slow["on"] = False
        for n in range(40):
            await saver.save(f"quick-{n}", [PNG])
        ticker.cancel()
        return slow_ticks, saver.in_threads

    slow_ticks, in_threads = asyncio.run(run())
    main = threading.main_thread().name
    assert where[0] == main  # saves start on the loop
    assert 4 <= in_threads < 48  # the slow ones went to threads, but not all that followed
    assert where[-1] == main  # quick again: back on the loop
    assert slow_ticks >= 20  # the loop kept running while the slow saves were in threads
    assert (tmp_path / "slow-7-1.png").read_bytes() == PNG
    assert (tmp_path / "quick-39-1.png").read_bytes() == PNG
