"""Checks of streamed answers (`stream: true`), registered with schemathesis beside its own.

Schemathesis validates each event against the contract (the `event:` name among the operation's,
the data's schema); these checks judge the sequence: an event stream at all when the model
streams, partial images at most `partial_images` per image and in order, each a real image, one
completed event per image and nothing after the last, the `event:` line naming the data's type,
and no stream that just stops. The completed images go through the image checks too
(image_checks.py). The checks' docstrings are their explanations in the report.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from .answers import StreamEvent, content_type_of, is_completed, is_partial
from .context import asked, context_of
from .image_checks import NOT_APPLICABLE, fail, scope
from .images import read_image, strict_base64

STREAM_NOT_SUPPORTED = "stream_not_supported"
STREAM_NOT_SUPPORTED_TITLE = "Streaming not supported"


def not_streamed_message(model: str, answer: str) -> str:
    """The words of a stream_not_supported finding, from a check or from the probe."""
    return (
        f"stream: true was asked of {model}, whose rules say it streams, so the answer must be "
        f"text/event-stream; it was {answer}"
    )


@schemathesis.check
def stream_not_supported(ctx: Any, response: Any, case: Any) -> bool | None:
    """A `stream: true` request to a model whose rules say it streams is answered with an event
    stream (not plain JSON)."""
    run = context_of(case)
    request = asked(run, case) if run is not None and response.status_code == 200 else None
    if run is None or request is None or not request.stream or not run.promises_streaming:
        return NOT_APPLICABLE
    kind = content_type_of(response) or "no content type"
    if kind != "text/event-stream":
        fail(case, [(STREAM_NOT_SUPPORTED_TITLE, not_streamed_message(run.model, f"200 {kind}"))])
    return None


def _streamed(case: Any, response: Any) -> Any:
    found = scope(case, response)
    return found if found is not None and found[2].streamed else None


@schemathesis.check
def stream_event_names(ctx: Any, response: Any, case: Any) -> bool | None:
    """Each event's `event:` line, when it has one, names the type its data says it is."""
    found = _streamed(case, response)
    if found is None:
        return NOT_APPLICABLE
    named = [event for event in found[2].events if event.name is not None and event.type is not None]
    if not named:
        return NOT_APPLICABLE
    wrong = [
        f"event {e.number} is sent as {e.name} but its data is a {e.type}" for e in named if e.name != e.type
    ]
    if wrong:
        fail(case, [("Stream events are misnamed", "\n".join(wrong[:3]))])
    return None


def _segments(events: list[StreamEvent]) -> list[list[StreamEvent]]:
    """The events of each image: up to and with each completed event. Events after the last
    completed one belong to no known image (stream_completed_events judges them)."""
    segments: list[list[StreamEvent]] = []
    current: list[StreamEvent] = []
    for event in events:
        current.append(event)
        if is_completed(event):
            segments.append(current)
            current = []
    return segments


@schemathesis.check
def stream_partial_images(ctx: Any, response: Any, case: Any) -> bool | None:
    """Each image gets at most `partial_images` partial images, numbered from 0 in order, each the
    strict base64 of a whole image."""
    found = _streamed(case, response)
    if found is None:
        return NOT_APPLICABLE
    _, request, answer = found
    failures = []
    for number, segment in enumerate(_segments(answer.events), start=1):
        partials = [event for event in segment if is_partial(event)]
        if len(partials) > request.partial_images:
            failures.append(
                (
                    "More partial images than partial_images",
                    f"partial_images was {request.partial_images}; image {number} got {len(partials)} "
                    f"(events {', '.join(str(event.number) for event in partials)})",
                )
            )
        indexes = [event.data.get("partial_image_index") if event.data else None for event in partials]
        if indexes != list(range(len(partials))):
            failures.append(
                (
                    "Partial images out of order",
                    f"image {number}: partial_image_index went {indexes}, not 0, 1, 2, ... in order",
                )
            )
        for event in partials:
            problem = _image_problem(event)
            if problem is not None:
                failures.append(
                    ("A partial image is not an image", f"event {event.number}: b64_json {problem}")
                )
    fail(case, failures)
    return None


def _image_problem(event: StreamEvent) -> str | None:
    text = event.data.get("b64_json") if event.data is not None else None
    if not isinstance(text, str):
        return None  # the schema check reports a missing image
    data, problem = strict_base64(text)
    if data is None:
        return problem
    info, problem = read_image(data)
    return problem if info is None else None


@schemathesis.check
def stream_completed_events(ctx: Any, response: Any, case: Any) -> bool | None:
    """A stream ends with exactly one completed event per image (`n`), the last event being the
    last completed one; a stream that stops early, or in the middle of an event, fails."""
    found = _streamed(case, response)
    if found is None or found[2].cut_short:
        return NOT_APPLICABLE  # read up to a limit of ours: the end was not seen
    _, request, answer = found
    completed = [event for event in answer.events if is_completed(event)]
    failures = []
    if answer.pending:
        failures.append(
            ("The stream ended in the middle of an event", "its last event has no blank line after it")
        )
    if not completed:
        failures.append(
            (
                "The stream has no completed event",
                f"n was {request.n}; {len(answer.events)} events, none completed",
            )
        )
    elif len(completed) < request.n:
        failures.append(
            (
                "The stream ended before every image was completed",
                f"n was {request.n}; {len(completed)} completed",
            )
        )
    elif len(completed) > request.n:
        failures.append(
            ("More completed events than images", f"n was {request.n}; {len(completed)} completed")
        )
    if completed and answer.events[-1] is not completed[-1]:
        after = [event.number for event in answer.events if event.number > completed[-1].number]
        failures.append(
            ("Events after the last completed image", f"events {after} come after the last completed event")
        )
    fail(case, failures)
    return None


STREAM_CHECKS = (
    stream_not_supported.__name__,
    stream_event_names.__name__,
    stream_partial_images.__name__,
    stream_completed_events.__name__,
)

__all__ = ["STREAM_CHECKS", "STREAM_NOT_SUPPORTED", "STREAM_NOT_SUPPORTED_TITLE", "not_streamed_message"]
