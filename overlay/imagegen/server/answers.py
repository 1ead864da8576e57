"""What the server answers: the ImagesResponse body, stream events, and token usage."""

from __future__ import annotations

import math
import time
from typing import Any

from .policy import Job

# Output tokens per image at 1024x1024, by quality (other sizes scale with their pixels).
_OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160}
_TILE = 512


def usage(job: Job, images: int | None = None) -> dict[str, Any]:
    """Token usage of `job` (or of `images` of its images), deterministic from the request."""
    count = job.n if images is None else images
    text_tokens = max(1, math.ceil(len(job.prompt) / 4))
    image_tokens = sum(
        85 + 170 * math.ceil(i.width / _TILE) * math.ceil(i.height / _TILE) for i in job.inputs
    )
    if job.input_fidelity == "high":
        image_tokens *= 4
    per_image = round(_OUTPUT_TOKENS.get(job.quality, 1056) * job.width * job.height / (1024 * 1024))
    output_tokens = max(1, per_image) * count
    input_tokens = text_tokens + image_tokens
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
        "output_tokens_details": {"image_tokens": output_tokens, "text_tokens": 0},
    }


def revised_prompt(prompt: str) -> str:
    """What a dall-e-3-like model reports it drew instead of the prompt, deterministically."""
    return f"{prompt.strip().rstrip('.')}, shown in a clear composition with soft, even light."


def images_response(job: Job, items: list[dict[str, str]], created: int | None = None) -> dict[str, Any]:
    """The JSON body of a non-streaming answer; `items` are {"b64_json": ...} or {"url": ...}."""
    data = []
    for item in items:
        entry = dict(item)
        if job.model.revised_prompt:
            entry["revised_prompt"] = revised_prompt(job.prompt)
        data.append(entry)
    body: dict[str, Any] = {"created": int(time.time()) if created is None else created, "data": data}
    if job.reports_settings:
        body.update(
            background=job.background, output_format=job.output_format, quality=job.quality, size=job.size
        )
    if job.model.usage:
        body["usage"] = usage(job)
    return body


def event_names(events: tuple[str, ...]) -> tuple[str, str]:
    """(partial, completed): the operation's stream events as the contract names them."""
    completed = next((name for name in events if name.endswith(".completed")), "")
    partial = next((name for name in events if name != completed), "")
    return partial, completed


def stream_event(
    job: Job, b64_json: str, events: tuple[str, str], *, partial_index: int | None
) -> dict[str, Any]:
    """One event's JSON: a partial image (with its index) or a completed one (with usage)."""
    event: dict[str, Any] = {
        "type": events[1] if partial_index is None else events[0],
        "b64_json": b64_json,
        "created_at": int(time.time()),
        "size": job.size,
        "quality": job.quality,
        "background": job.background,
        "output_format": job.output_format,
    }
    if partial_index is None:
        event["usage"] = usage(job, images=1)
    else:
        event["partial_image_index"] = partial_index
    return event
