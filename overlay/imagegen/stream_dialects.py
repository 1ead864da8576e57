"""The stream formats servers send for `stream: true`, read into one meaning.

Each dialect is a small function that recognises its events and says what they are: a partial
image, completed images, an error, progress to skip, or nothing it knows. The first that
recognises an event wins; an event none knows is `Unknown` (kept on the stream, and named in the
error if the stream ends without its images).

- OpenAI (the contract): `image_generation.partial_image` / `.completed` and `image_edit.*`,
  the type in the data's `type` (and usually the `event:` line too), each with one `b64_json`.
- vLLM-Omni's image edit stream (its `ImageEditARDeltaChunk`, `ImageEditImageChunk` and
  `ImageEditStreamError` models): frames without an `event:` line whose data has
  `"object": "image.edit.chunk"` and `"type": "ar_delta"` (text of the reasoning stage: skipped)
  or `"type": "image"` with the images in `data`, `{"object": "error", "error": {...}}`, then
  `data: [DONE]`.
- Progress-then-result streams, as Xinference's edits were reported to send: `event: start`,
  `event: processing` (skipped), then `event: complete` (or `completed`, `done`, `result`) whose
  data is an images answer, `{"created": ..., "data": [{"b64_json": ...}]}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Partial:
    """A partial image (OpenAI's partial_image event)."""

    kind: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Completed:
    """Finished images: each item has a `b64_json` (and maybe a `url`), with the event's settings."""

    kind: str
    items: list[Mapping[str, Any]]
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    """The server reported an error in the stream."""

    message: str


@dataclass(frozen=True)
class Skipped:
    """Progress or text the client has no use for (named, for the record)."""

    name: str


@dataclass(frozen=True)
class Unknown:
    """An event no dialect knows."""

    name: str


Meaning = Partial | Completed | Failed | Skipped | Unknown
_RESULT_EVENTS = frozenset({"complete", "completed", "done", "result", "final"})
_PROGRESS_EVENTS = frozenset({"start", "started", "processing", "progress", "queued", "running", "ping"})


def meaning(event: str | None, data: Mapping[str, Any]) -> Meaning:
    """What one event means, by the first dialect that recognises it."""
    for dialect in DIALECTS:
        found = dialect(event, data)
        if found is not None:
            return found
    return Unknown(str(data.get("type") or data.get("object") or event or "an event without a type"))


def _openai(event: str | None, data: Mapping[str, Any]) -> Meaning | None:
    kind = str(data.get("type") or event or "")
    if kind == "error" or ("error" in data and not kind.endswith(("partial_image", "completed"))):
        return Failed(_error_text(data))
    if kind.endswith(".partial_image"):
        return Partial(kind, data)
    if kind.endswith(".completed"):
        return Completed(kind, [data], data)
    return None


def _vllm_omni(event: str | None, data: Mapping[str, Any]) -> Meaning | None:
    if data.get("object") != "image.edit.chunk":
        return None
    if data.get("type") == "image":
        return Completed("image.edit.chunk", _images(data.get("data")), data)
    return Skipped(f"image.edit.chunk {data.get('type') or ''}".strip())


def _progress_then_result(event: str | None, data: Mapping[str, Any]) -> Meaning | None:
    name = (event or str(data.get("status") or data.get("event") or "")).lower()
    items = _images(data.get("data"))
    if items and (name in _RESULT_EVENTS or not name):
        return Completed(name or "images", items, data)
    if name in _PROGRESS_EVENTS:
        return Skipped(name)
    return None


DIALECTS: tuple[Callable[[str | None, Mapping[str, Any]], Meaning | None], ...] = (
    _openai,
    _vllm_omni,
    _progress_then_result,
)


def _images(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping) and ("b64_json" in item or "url" in item)]


def _error_text(data: Mapping[str, Any]) -> str:
    error = data.get("error")
    if isinstance(error, Mapping):
        return str(error.get("message") or dict(error))
    return str(error or data.get("message") or dict(data))
