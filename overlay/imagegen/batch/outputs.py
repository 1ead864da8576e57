"""The output folder of a batch: the images, `results.jsonl` and `errors.jsonl`.

The lines are the Batch API's output format, `{"id", "custom_id", "response": {"status_code",
"request_id", "body"}, "error"}`, with each image's `b64_json` replaced by `"file"`, the name of
the saved image (`<custom_id>-<i>.<ext>`). The state is the record; the two JSONL files are
views of it, appended to as results come and written again whole (atomically, in input order)
when a run starts and ends, so a run killed mid-line leaves no broken or missing line behind.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from ..atomic import write_atomically
from ..imageinfo import EXTENSIONS, image_info
from .inputs import BadLine, file_stem
from .state import DONE, FAILED, BatchState

RESULTS_FILE = "results.jsonl"
ERRORS_FILE = "errors.jsonl"
_PART_SUFFIX = ".part"


def request_id(custom_id: str) -> str:
    """The `id` of a result line (stable across runs, as the custom_id is)."""
    return "batch_req_" + hashlib.sha256(custom_id.encode()).hexdigest()[:24]


def save_images(folder: Path, custom_id: str, images: list[bytes]) -> list[str]:
    """Write each image whole as `<custom_id>-<i>.<ext>` (the extension from its bytes) and return
    the names. A file of that name is this request's own (from a run that was killed before it
    committed), so it is replaced. Each is renamed into place whole but not flushed to disk one by
    one: the state it is recorded in (SQLite, WAL, synchronous=NORMAL) is not either, so after a
    power cut both lose the same last moments, and the next run sends those requests again."""
    names = []
    stem = file_stem(custom_id)
    for index, data in enumerate(images, start=1):
        info = image_info(data)
        name = f"{stem}-{index}{EXTENSIONS[info.format] if info else '.bin'}"
        write_atomically(data, folder / name, overwrite=True, durable=False)
        names.append(name)
    return names


def success_line(
    custom_id: str, status: int, request: str | None, answer: Mapping[str, Any], names: list[str]
) -> dict[str, Any]:
    """The results.jsonl line of an answered request, its images by file name."""
    body = dict(answer)
    items = body.get("data")
    if isinstance(items, list):
        body["data"] = [
            _by_file(item, names[index] if index < len(names) else None) for index, item in enumerate(items)
        ]
    return {
        "id": request_id(custom_id),
        "custom_id": custom_id,
        "response": {"status_code": status, "request_id": request, "body": body},
        "error": None,
    }


def failure_line(
    custom_id: str,
    *,
    status: int | None,
    request: str | None,
    body: Any,
    code: str,
    message: str,
) -> dict[str, Any]:
    """The errors.jsonl line of a request that failed for good."""
    response = None if status is None else {"status_code": status, "request_id": request, "body": body}
    return {
        "id": request_id(custom_id),
        "custom_id": custom_id,
        "response": response,
        "error": {"code": code, "message": message},
    }


def bad_line(bad: BadLine) -> dict[str, Any]:
    """The errors.jsonl line of an input line skipped as bad (--skip-bad-lines)."""
    return {
        "id": None,
        "custom_id": bad.custom_id,
        "response": None,
        "error": {"code": "invalid_line", "message": str(bad), "line": bad.line},
    }


class Views:
    """results.jsonl and errors.jsonl, kept in step with the state."""

    def __init__(self, folder: Path, state: BatchState) -> None:
        self.folder = folder
        self.state = state
        self._results: TextIO | None = None
        self._errors: TextIO | None = None

    def rewrite(self) -> None:
        """Write both files again from the state, whole and in input order."""
        self.close()
        bad = [json.dumps(bad_line(item), ensure_ascii=False) for item in self.state.bad_lines()]
        _write_lines(self.folder / RESULTS_FILE, self.state.results(DONE))
        _write_lines(self.folder / ERRORS_FILE, [*bad, *self.state.results(FAILED)])

    def append(self, status: str, line: Mapping[str, Any]) -> None:
        """Add the line of a result just committed."""
        if status == DONE:
            if self._results is None:
                self._results = open(self.folder / RESULTS_FILE, "a", encoding="utf-8")  # noqa: SIM115
            handle = self._results
        else:
            if self._errors is None:
                self._errors = open(self.folder / ERRORS_FILE, "a", encoding="utf-8")  # noqa: SIM115
            handle = self._errors
        handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        handle.flush()

    def close(self) -> None:
        """Close the files being appended to."""
        for handle in (self._results, self._errors):
            if handle is not None:
                handle.close()
        self._results = self._errors = None


def remove_partials(folder: Path) -> int:
    """Delete the temporary files a killed run left (`.<name>.<random>.part`); return how many."""
    removed = 0
    for entry in os.scandir(folder):
        if entry.name.startswith(".") and entry.name.endswith(_PART_SUFFIX) and entry.is_file():
            os.unlink(entry.path)
            removed += 1
    return removed


def _by_file(item: Any, name: str | None) -> Any:
    if not isinstance(item, Mapping):
        return item
    shown = {key: value for key, value in item.items() if key != "b64_json"}
    if name is not None:
        shown["file"] = name
    return shown


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    temporary = path.with_name(f".{path.name}.rewrite{_PART_SUFFIX}")
    with open(temporary, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
