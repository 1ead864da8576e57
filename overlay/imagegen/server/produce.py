"""From a Job to the bytes on the wire: the JSON answer, or one event of a stream. CPU work (paint,
encode, base64, JSON), run in the pool (pool.py), never on the event loop."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import answers
from .policy import Job
from .render import render
from .store import ImageStore


def answer_body(job: Job, images: ImageStore, url_of: Callable[[str], str]) -> bytes:
    """The JSON body answering `job`: every image painted and encoded, given as base64 or as a
    URL of the image store (`url_of(name)`)."""
    items: list[dict[str, str]] = []
    encoded: list[bytes] = []
    for index in range(job.n):
        data = render(job, index)
        if job.response_format == "url":
            items.append({"url": url_of(images.put(data, job.output_format))})
        else:
            items.append({"b64_json": ""})
            encoded.append(data)
    document = answers.images_response(job, items)
    holders = [entry for entry in document["data"] if "b64_json" in entry]
    return _with_base64(document, holders, encoded)


def event_frame(
    job: Job,
    index: int,
    partial_index: int | None,
    events: tuple[str, str],
    spool: Path | None = None,
) -> bytes:
    """One server-sent event: partial image `partial_index` of image `index` (None: the completed
    image). With `spool`, the frame is also appended to that file (a stream kept for replays)."""
    detail = 1.0 if partial_index is None else (partial_index + 1) / (job.partial_images + 1)
    event = answers.stream_event(job, "", events, partial_index=partial_index)
    data = _with_base64(event, [event], [render(job, index, detail)])
    frame = b"event: " + str(event["type"]).encode() + b"\ndata: " + data + b"\n\n"
    if spool is not None:
        with open(spool, "ab") as out:
            out.write(frame)
    return frame


def _with_base64(document: dict[str, Any], holders: list[dict[str, Any]], images: list[bytes]) -> bytes:
    """`document` as JSON, with each holder's `b64_json` the base64 of its image.

    The base64 goes in after json.dumps, not through it: its alphabet needs no escaping, and
    scanning megabytes of it for characters to escape cost more than encoding it.
    """
    marks = [f"b64-{secrets.token_hex(8)}-{number}" for number in range(len(images))]
    for holder, mark in zip(holders, marks, strict=True):
        holder["b64_json"] = mark
    text = json.dumps(document).encode()
    for mark, image in zip(marks, images, strict=True):
        text = text.replace(mark.encode(), base64.b64encode(image), 1)
    return text
