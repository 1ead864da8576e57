"""The images of one successful answer, as the image checks see them: JSON or a stream of events.

A JSON answer's `data` items give their image as `b64_json` (decoded strictly) or as a `url`
(downloaded: the API key goes only to the API's own origin, redirects elsewhere drop it). A
stream's completed events give the images, its partial events the previews. Each answer is read
once, however many checks look at it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from ..imageinfo import CONTENT_TYPES, ImageInfo
from ..streaming import SseDecoder
from .images import format_name, read_image, strict_base64
from .session import RunStopped, origin_of

EVENT_STREAM = "text/event-stream"
# What can be wrong with a URL answer.
UNANSWERED, NOT_AN_IMAGE, MISLABELLED = "unanswered", "not an image", "mislabelled"


@dataclass(frozen=True)
class Fetched:
    """What downloading an image URL gave."""

    status: int | None
    content_type: str
    data: bytes
    error: str | None = None
    token_sent: bool = False


@dataclass(frozen=True)
class AnswerImage:
    """One image of an answer, however it came, and what is wrong with how it came."""

    where: str
    """How messages name it: data[0].b64_json, data[1].url, completed event 2, ..."""
    source: str
    """b64_json or url."""
    data: bytes | None
    info: ImageInfo | None
    problem: str | None = None
    """What is wrong with the image as given (not base64, not an image, the URL failed...)."""
    url: str | None = None
    fetched: Fetched | None = None
    kind: str | None = None
    """For a URL's problem: unanswered, not an image, or mislabelled."""


@dataclass(frozen=True)
class StreamEvent:
    """One server-sent event: its `event:` name and its data, parsed as JSON when it is."""

    number: int
    name: str | None
    data: Mapping[str, Any] | None
    text: str

    @property
    def type(self) -> str | None:
        kind = self.data.get("type") if self.data is not None else None
        return str(kind) if kind is not None else None


@dataclass(frozen=True)
class Answer:
    """A successful answer: its JSON body or its events, and its (completed) images."""

    streamed: bool
    body: Mapping[str, Any] | None
    images: list[AnswerImage]
    events: list[StreamEvent] = field(default_factory=list)
    pending: bool = False
    """The stream ended in the middle of an event."""
    cut_short: bool = False
    """Schemathesis stopped reading the stream (its event limit, or the request timeout)."""


def content_type_of(response: Any) -> str:
    values = response.headers.get("content-type") or [""]
    return str(values[0] if isinstance(values, list) else values).split(";")[0].strip().lower()


def read_answer(response: Any, fetch: Any) -> Answer | None:
    """The answer of a 200 `response` (schemathesis' Response), or None when it is neither JSON
    with a `data` list nor an event stream; `fetch(url)` downloads a URL answer."""
    kind = content_type_of(response)
    if kind == EVENT_STREAM:
        return _stream(response)
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    images = []
    for index, item in enumerate(body["data"]):
        if not isinstance(item, Mapping):
            continue
        if isinstance(item.get("b64_json"), str):
            images.append(_from_b64(f"data[{index}].b64_json", item["b64_json"]))
        elif isinstance(item.get("url"), str):
            images.append(_from_url(f"data[{index}].url", item["url"], fetch))
    return Answer(streamed=False, body=body, images=images)


def _stream(response: Any) -> Answer:
    decoder = SseDecoder()
    events: list[StreamEvent] = []
    text = response.content.decode("utf-8", errors="replace")
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        event = decoder.feed(line)
        if event is None:
            continue
        try:
            data = json.loads(event.data)
        except ValueError:
            data = None
        events.append(
            StreamEvent(len(events) + 1, event.event, data if isinstance(data, dict) else None, event.data)
        )
    images = [
        _from_b64(f"completed event {event.number}", str(event.data["b64_json"]))
        for event in events
        if _completed(event) and event.data is not None and isinstance(event.data.get("b64_json"), str)
    ]
    return Answer(
        streamed=True,
        body=None,
        images=images,
        events=events,
        pending=decoder.pending,
        cut_short=bool(getattr(response, "stream_cut_short", False)),
    )


def _completed(event: StreamEvent) -> bool:
    return (event.type or "").endswith(".completed")


def is_completed(event: StreamEvent) -> bool:
    """Whether the event carries a finished image (its type ends in .completed)."""
    return _completed(event)


def is_partial(event: StreamEvent) -> bool:
    """Whether the event carries a partial image (its type ends in .partial_image)."""
    return (event.type or "").endswith(".partial_image")


def _from_b64(where: str, text: str) -> AnswerImage:
    data, problem = strict_base64(text)
    if data is None:
        return AnswerImage(where, "b64_json", None, None, f"{where} {problem}")
    info, problem = read_image(data)
    if info is None:
        return AnswerImage(where, "b64_json", data, None, f"{where} decodes to bytes that {problem}")
    return AnswerImage(where, "b64_json", data, info)


def _from_url(where: str, url: str, fetch: Any) -> AnswerImage:
    def broken(kind: str, problem: str, fetched: Fetched | None = None) -> AnswerImage:
        return AnswerImage(where, "url", None, None, f"{where} {problem}", url, fetched, kind)

    if not url.lower().startswith(("http://", "https://")):
        return broken(UNANSWERED, f"is not an http(s) URL: {url[:80]!r}")
    fetched: Fetched = fetch(url)
    if fetched.error is not None:
        return broken(UNANSWERED, f"could not be fetched: {fetched.error}", fetched)
    if fetched.status != 200:
        return broken(UNANSWERED, f"answered {fetched.status}", fetched)
    served = fetched.content_type or "no content type"
    info, problem = read_image(fetched.data)
    if info is None:
        return broken(NOT_AN_IMAGE, f"serves {served} that {problem}", fetched)
    if fetched.content_type != CONTENT_TYPES.get(info.format):
        problem = f"{where} serves a {format_name(info.format)} labelled {served}"
        return AnswerImage(where, "url", fetched.data, info, problem, url, fetched, MISLABELLED)
    return AnswerImage(where, "url", fetched.data, info, None, url, fetched)


def fetcher(http: Any, token: str | None, api_url: str) -> Any:
    """A `fetch(url)` for `read_answer`: GET through the run's client, with the API key only
    when `url` has the origin of `api_url` (the API's own host)."""

    def fetch(url: str) -> Fetched:
        same = origin_of(url) == origin_of(api_url)
        headers = {"Authorization": f"Bearer {token}"} if token and same else {}
        try:
            answer: requests.Response = http.request("GET", url, headers=headers)
        except RunStopped:
            raise
        except requests.RequestException as error:
            return Fetched(None, "", b"", f"{type(error).__name__}: {str(error)[:200]}")
        kind = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        return Fetched(answer.status_code, kind, answer.content, None, bool(headers))

    return fetch


__all__ = [
    "MISLABELLED",
    "NOT_AN_IMAGE",
    "UNANSWERED",
    "Answer",
    "AnswerImage",
    "Fetched",
    "StreamEvent",
    "content_type_of",
    "fetcher",
    "is_completed",
    "is_partial",
    "read_answer",
]
