"""Saving images from the command line: into a folder, under names that never replace a file."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ..imageinfo import EXTENSIONS, image_info
from ..results import write_image

MAX_TRIES = 10_000


def slug(text: str, words: int = 6, fallback: str = "image") -> str:
    """A file-name-friendly stem from a prompt: 'Yellow alpaca, at dawn!' -> 'yellow-alpaca-at-dawn'."""
    parts = re.findall(r"[a-z0-9]+", text.lower())[:words]
    return "-".join(parts)[:60].strip("-") or fallback


def save_new(data: bytes, folder: Path, stem: str, *, overwrite: bool = False) -> Path:
    """Write `data` as `folder/stem.<ext>` (extension from the bytes), or `stem-2.<ext>`, `stem-3`...
    when taken. With `overwrite`, `stem.<ext>` is replaced instead. Atomic either way."""
    info = image_info(data)
    extension = EXTENSIONS[info.format] if info is not None else ".bin"
    if overwrite:
        return write_image(data, folder / f"{stem}{extension}", overwrite=True)
    for attempt in range(1, MAX_TRIES + 1):
        name = f"{stem}{extension}" if attempt == 1 else f"{stem}-{attempt}{extension}"
        target = folder / name
        if target.exists():
            continue
        try:
            return write_image(data, target)
        except FileExistsError:  # taken between the check and the write: try the next name
            continue
    raise FileExistsError(f"no free name for {stem}{extension} in {folder} after {MAX_TRIES} tries")


def output_folder(path: Path) -> Path:
    """The folder to save into, created if missing; UsageError when images could not be saved
    there (checked before anything is sent and paid for)."""
    from .common import UsageError

    folder = path.expanduser()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {path}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"-o {path}: cannot create the folder ({error.strerror or error})") from None
    try:  # a real try: permission bits say nothing of read-only file systems, or of root
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(
            f"-o {path}: cannot write in this folder ({reason}); choose another with -o"
        ) from None
    return folder
