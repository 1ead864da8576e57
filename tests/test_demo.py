"""`imagegen demo`: the installed command on its own server, its folder, its report, its failures."""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from imagegen import ImagesClient, ImagesError
from imagegen.cli import demo_command
from imagegen.cli.main import main

from .support.cli import IMAGEGEN

# name: (width, height), in the order the demo makes them
EXPECTED = {
    "01-generated.png": (1024, 1024),
    "02-dall-e-3.png": (1024, 1024),
    "03-mask.png": (1024, 1024),
    "04-edited.png": (1024, 1024),
    "05-variation-1.png": (256, 256),
    "06-variation-2.png": (256, 256),
    "07-stream-partial-1.png": (1024, 1024),
    "08-stream-partial-2.png": (1024, 1024),
    "09-stream-final.png": (1024, 1024),
}
REPORT_LINE = re.compile(r"^  (\d\d-\S+)\s+(\d+)x(\d+) (\w+)\s+(\d+(?:\.\d)? (?:B|KB|MB))  ")
SERVER_LINE = re.compile(r"reference server on (http://127\.0\.0\.1:\d+/v1)")


@dataclass(frozen=True)
class DemoRun:
    """A finished `imagegen demo` process and the folder it ran in."""

    cwd: Path
    returncode: int
    stdout: str
    stderr: str

    def reported(self) -> dict[str, tuple[int, int, str, str]]:
        """name: (width, height, format, file size) for each file line of the report."""
        found = {}
        for line in self.stdout.splitlines():
            match = REPORT_LINE.match(line)
            if match:
                name, width, height, kind, size = match.groups()
                found[name] = (int(width), int(height), kind, size)
        return found


def run_demo(cwd: Path, *args: str) -> DemoRun:
    """Run the installed `imagegen demo ARGS` in `cwd` until it exits (a hang fails the test)."""
    done = subprocess.run(
        [IMAGEGEN, "demo", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    return DemoRun(cwd, done.returncode, done.stdout, done.stderr)


def hashes(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def server_threads() -> list[threading.Thread]:
    return [
        thread for thread in threading.enumerate() if thread.name == "imagegen-server" and thread.is_alive()
    ]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    return run_demo(tmp_path_factory.mktemp("demo"))


def test_the_demo_succeeds_and_reports_every_file_it_saved(first_run: DemoRun) -> None:
    assert first_run.returncode == 0, first_run.stderr
    folder = first_run.cwd / "imagegen-demo"
    saved = sorted(path.name for path in folder.iterdir())
    assert saved == list(EXPECTED)  # nothing else: no temporary or partial files
    assert list(first_run.reported()) == list(EXPECTED)


def test_each_file_has_the_size_and_format_the_report_gives(first_run: DemoRun) -> None:
    folder = first_run.cwd / "imagegen-demo"
    for name, (width, height, kind, _) in first_run.reported().items():
        with Image.open(folder / name) as image:
            image.load()
            assert (image.width, image.height) == EXPECTED[name] == (width, height), name
            assert image.format == "PNG", name
            assert kind == "png", name


def test_the_report_gives_file_sizes_the_folder_the_time_and_what_next(first_run: DemoRun) -> None:
    folder = first_run.cwd / "imagegen-demo"
    for name, (_, _, _, size) in first_run.reported().items():
        assert size == demo_command.human_size((folder / name).stat().st_size), name
    assert f"Folder: {folder.resolve()}\n" in first_run.stdout
    assert re.search(r"^Time: +\d+\.\d s$", first_run.stdout, re.MULTILINE)
    assert 'dall-e-3 revised the prompt: "Yellow alpaca in a green field' in first_run.stdout
    last = first_run.stdout.strip().splitlines()[-1]
    assert last.startswith("Next:")
    assert "imagegen serve --no-auth" in last
    assert "README" in last


def test_progress_goes_to_stderr_and_the_server_is_gone_once_the_demo_exits(first_run: DemoRun) -> None:
    assert "generating" in first_run.stderr
    assert "editing" in first_run.stderr
    assert "generating" not in first_run.stdout
    found = SERVER_LINE.search(first_run.stderr)
    assert found, first_run.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(found.group(1).removesuffix("/v1") + "/health", timeout=5)


def test_the_mask_is_rgba_with_a_transparent_area_to_repaint(first_run: DemoRun) -> None:
    with Image.open(first_run.cwd / "imagegen-demo" / "03-mask.png") as mask:
        assert mask.mode == "RGBA"
        alpha = mask.getchannel("A")
    low, high = alpha.getextrema()
    assert (low, high) == (0, 255)  # a transparent hole in an opaque mask


def test_the_edit_keeps_the_pixels_outside_the_mask_and_repaints_inside(first_run: DemoRun) -> None:
    folder = first_run.cwd / "imagegen-demo"
    with Image.open(folder / "03-mask.png") as mask:
        hole = mask.getchannel("A").point(lambda a: 255 if a == 0 else 0).getbbox()
    with Image.open(folder / "01-generated.png") as generated, Image.open(folder / "04-edited.png") as edited:
        before, after = generated.convert("RGB"), edited.convert("RGB")
    assert hole is not None
    left, top, right, bottom = hole
    far = [(0, 0), (1023, 0), (0, 1023), (1023, 1023), (512, 1000), (100, 600), (900, 500)]
    for point in far:
        assert not (left <= point[0] < right and top <= point[1] < bottom)
        assert after.getpixel(point) == before.getpixel(point), point
    assert after.crop(hole).tobytes() != before.crop(hole).tobytes()


def test_a_second_run_uses_a_new_folder_and_leaves_the_first_untouched(tmp_path: Path) -> None:
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stderr
    before = hashes(tmp_path / "imagegen-demo")
    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stderr
    assert hashes(tmp_path / "imagegen-demo") == before
    assert sorted(path.name for path in (tmp_path / "imagegen-demo-2").iterdir()) == list(EXPECTED)
    assert f"Folder: {(tmp_path / 'imagegen-demo-2').resolve()} (imagegen-demo already held files)" in (
        second.stdout
    )


def test_output_option_saves_into_the_given_folder_creating_it(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "-o", "pictures/today")
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in (tmp_path / "pictures" / "today").iterdir()) == list(EXPECTED)
    assert not (tmp_path / "imagegen-demo").exists()
    assert f"Folder: {(tmp_path / 'pictures' / 'today').resolve()}\n" in done.stdout


def test_quiet_prints_the_report_and_no_progress(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "--quiet")
    assert done.returncode == 0
    assert done.stderr == ""
    assert list(done.reported()) == list(EXPECTED)


def test_help_lists_the_demo_command() -> None:
    done = subprocess.run([IMAGEGEN, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    assert re.search(r"^\s+demo\s+\S", done.stdout, re.MULTILINE), done.stdout


def test_an_existing_empty_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert demo_command.choose_folder(tmp_path / "empty") == ((tmp_path / "empty").resolve(), False)


def test_a_file_or_a_folder_with_files_is_never_used(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    (tmp_path / "out-2").mkdir()
    (tmp_path / "out-2" / ".hidden").write_text("")
    assert demo_command.choose_folder(tmp_path / "out") == ((tmp_path / "out-3").resolve(), True)
    assert (tmp_path / "out").read_text() == "not a folder"


def test_a_failed_call_exits_1_after_stopping_the_server_and_keeps_whole_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[int] = []

    def refuse(self: ImagesClient, *args: Any, **kwargs: Any) -> None:
        seen.append(len(server_threads()))
        raise ImagesError("the server refused the variation")

    monkeypatch.setattr(ImagesClient, "vary", refuse)
    before = len(server_threads())  # the session's shared server may be running
    assert main(["demo", "-o", str(tmp_path / "out"), "--quiet"]) == 1
    assert seen == [before + 1]  # the demo's server ran during the demo...
    assert len(server_threads()) == before  # ...and is stopped now
    assert "imagegen demo: the server refused the variation" in capsys.readouterr().err
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == list(EXPECTED)[:4]


def test_ctrl_c_while_saving_stops_the_server_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_fsync = os.fsync
    calls: list[int] = []

    def fsync_then_interrupt(descriptor: int) -> None:
        calls.append(len(server_threads()))
        if len(calls) == 3:  # while writing the third file, the mask
            raise KeyboardInterrupt
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync_then_interrupt)
    before = len(server_threads())  # the session's shared server may be running
    assert main(["demo", "-o", str(tmp_path / "out"), "--quiet"]) == 130
    assert calls == [before + 1] * 3
    assert len(server_threads()) == before
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == list(EXPECTED)[:2]
    assert "interrupted" in capsys.readouterr().err


def test_ctrl_c_before_any_file_removes_the_folder_it_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(self: ImagesClient, *args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ImagesClient, "generate", interrupt)
    before = len(server_threads())
    with pytest.raises(KeyboardInterrupt):
        demo_command.run(argparse.Namespace(output=tmp_path / "new", quiet=True))
    assert not (tmp_path / "new").exists()
    assert len(server_threads()) == before
