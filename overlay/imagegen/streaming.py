"""Streams of partial and completed images (`stream=True`), read from server-sent events.

Each event is read by the dialect that recognises it (imagegen.stream_dialects: OpenAI's, and
those of servers that stream differently), then wrapped in a typed event holding an image object.
A server that answers a stream request with one JSON body (LocalAI and vLLM-Omni ignore
`stream`) gives a completed event per image, flagged `streamed=False`. A stream that breaks off,
or ends before every image is completed, or in the middle of an event, raises StreamError naming
what did arrive: a truncated image is never passed off as final. Stopping early (breaking out of
the loop, or `close()`) closes the connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic

import httpx

if TYPE_CHECKING:
    from imagegen_api.models import ImageUsage

from . import stream_dialects as dialects
from .errors import StreamError
from .masking import mask
from .results import AsyncGeneratedImage, GeneratedImage, ImageT

DONE = "[DONE]"
logger = logging.getLogger("imagegen")


@dataclass(frozen=True)
class ServerSentEvent:
    """One event of a text/event-stream: its name and its data."""

    event: str | None
    data: str


class SseDecoder:
    """Turns the lines of a text/event-stream into events (the WHATWG rules that matter here)."""

    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line (without its newline); return an event when a blank line ends one."""
        if not line:
            if not self._data:
                self._event = None
                return None
            event = ServerSentEvent(self._event, "\n".join(self._data))
            self._event, self._data = None, []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    @property
    def pending(self) -> bool:
        """Whether an event was started and never finished (the stream was cut)."""
        return bool(self._data)


@dataclass(frozen=True)
class PartialImageEvent(Generic[ImageT]):
    """A partial image: a preview of image `image.index`, of increasing detail."""

    type: str
    image: ImageT
    partial_image_index: int
    size: str | None
    quality: str | None
    background: str | None
    output_format: str | None
    created_at: int | None


@dataclass(frozen=True)
class ImageCompletedEvent(Generic[ImageT]):
    """A finished image, with the token usage the server reports for it."""

    type: str
    image: ImageT
    usage: ImageUsage | None
    size: str | None
    quality: str | None
    background: str | None
    output_format: str | None
    created_at: int | None
    streamed: bool = True
    """False when the server answered the stream request with one JSON body instead."""


class _EventReader(Generic[ImageT]):
    """What sync and async streams share: turning events into typed events, and the final check.

    Events are read by the dialects of imagegen.stream_dialects (OpenAI's, vLLM-Omni's, progress-
    then-result streams); what none knows is kept in `unknown`, and named in the error should the
    stream end before its images.
    """

    def __init__(
        self,
        expected_images: int,
        make_image: Callable[[int, str | None, str | None], ImageT],
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.expected_images = expected_images
        self.completed: list[ImageT] = []
        self.unknown: dict[str, int] = {}
        self._make_image: Callable[[int, str | None, str | None], ImageT] = make_image
        self._decoder = SseDecoder()
        self._done = False
        self._secrets = secrets

    def masked(self, text: str) -> str:
        """`text` without the key (a server may echo it into what a stream says)."""
        return mask(text, self._secrets)

    def read_line(self, line: str) -> list[PartialImageEvent[ImageT] | ImageCompletedEvent[ImageT]]:
        """The events one line completes (most lines complete none)."""
        try:
            return self._read_line(line)
        except StreamError as error:
            raise StreamError(self.masked(str(error))) from None

    def _read_line(self, line: str) -> list[PartialImageEvent[ImageT] | ImageCompletedEvent[ImageT]]:
        sse = self._decoder.feed(line)
        if sse is None or self._done:
            return []
        if sse.data.strip() == DONE:
            self._done = True
            return []
        try:
            data = json.loads(sse.data)
        except ValueError:
            raise StreamError(f"the stream sent an event whose data is not JSON: {sse.data[:80]!r}") from None
        if not isinstance(data, dict):
            return []
        found = dialects.meaning(sse.event, data)
        if isinstance(found, dialects.Failed):
            raise StreamError(f"the server reported an error in the stream: {found.message}")
        if isinstance(found, dialects.Partial):
            return [self._partial(found.kind, dict(found.data))]
        if isinstance(found, dialects.Completed):
            return [self._completed(found.kind, dict(item), dict(found.settings)) for item in found.items]
        if isinstance(found, dialects.Unknown):
            self.unknown[found.name] = self.unknown.get(found.name, 0) + 1
        return []

    def answer(self, body: bytes, content_type: str) -> list[ImageCompletedEvent[ImageT]]:
        """The events of a server that answered a stream request with one JSON body (LocalAI and
        vLLM-Omni ignore `stream`): a completed event per image, flagged as not streamed."""
        try:
            data = json.loads(body)
        except ValueError:
            raise StreamError(
                self.masked(
                    f"a stream was asked for, but the answer is {content_type or 'untyped'}: {body[:80]!r}"
                )
            ) from None
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise StreamError(
                self.masked(f"a stream was asked for, but the answer is not images: {body[:80]!r}")
            )
        self._done = True
        settings = {key: value for key, value in data.items() if key != "data"}
        return [
            self._completed("not streamed", dict(item), settings, streamed=False)
            for item in items
            if isinstance(item, dict)
        ]

    def finish(self) -> None:
        if self._decoder.pending:
            raise StreamError(
                f"the stream was cut in the middle of an event after {len(self.completed)} of "
                f"{self.expected_images} image(s) were completed"
            )
        if len(self.completed) < self.expected_images:
            unknown = ", ".join(f"{name} ({count})" for name, count in self.unknown.items())
            also = f"; it sent events this client does not know: {unknown}" if unknown else ""
            raise StreamError(
                self.masked(
                    f"the stream ended after {len(self.completed)} of {self.expected_images} image(s) "
                    f"were completed{also}"
                )
            )

    def _partial(self, kind: str, data: dict[str, Any]) -> PartialImageEvent[ImageT]:
        return PartialImageEvent(
            type=kind,
            image=self._make_image(len(self.completed), _b64(data), None),
            partial_image_index=int(data.get("partial_image_index") or 0),
            **_settings(data),
        )

    def _completed(
        self, kind: str, item: dict[str, Any], settings: dict[str, Any], *, streamed: bool = True
    ) -> ImageCompletedEvent[ImageT]:
        b64, url = item.get("b64_json"), item.get("url")
        if not isinstance(b64, str) and not isinstance(url, str):
            raise StreamError(f"a {kind} event carries no image (b64_json or url)")
        image = self._make_image(
            len(self.completed), b64 if isinstance(b64, str) else None, url if isinstance(url, str) else None
        )
        self.completed.append(image)
        return ImageCompletedEvent(
            type=kind,
            image=image,
            usage=_usage(item.get("usage") or settings.get("usage")),
            streamed=streamed,
            **_settings({**settings, **item}),
        )


def _b64(data: dict[str, Any]) -> str:
    value = data.get("b64_json")
    if not isinstance(value, str):
        raise StreamError(f"a {data.get('type')} event carries no image (b64_json)")
    return value


def _settings(data: dict[str, Any]) -> dict[str, Any]:
    def text(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) else None

    created = data.get("created_at")
    return {
        "size": text("size"),
        "quality": text("quality"),
        "background": text("background"),
        "output_format": text("output_format"),
        "created_at": created if isinstance(created, int) else None,
    }


StreamEvent = PartialImageEvent[GeneratedImage] | ImageCompletedEvent[GeneratedImage]
AsyncStreamEvent = PartialImageEvent[AsyncGeneratedImage] | ImageCompletedEvent[AsyncGeneratedImage]


class ImageStream:
    """The events of a streaming call, in order. Use it in a `with` block or iterate it to the end.

    with client.generate("otter", model="gpt-image-1.5", stream=True, partial_images=2) as stream:
        for event in stream:
            event.image.save(f"otter-{event.type}.png", overwrite=True)
    """

    def __init__(self, response: httpx.Response, reader: _EventReader[GeneratedImage]) -> None:
        self.response = response
        self._reader = reader

    @property
    def images(self) -> list[GeneratedImage]:
        """The images completed so far."""
        return list(self._reader.completed)

    @property
    def unknown_events(self) -> dict[str, int]:
        """Events no dialect knew, by type, with how many arrived (named in the StreamError
        should the stream end without its images)."""
        return dict(self._reader.unknown)

    def __iter__(self) -> Iterator[StreamEvent]:
        try:
            if not _is_event_stream(self.response):
                yield from self._reader.answer(self.response.read(), _content_type(self.response))
            else:
                for line in self.response.iter_lines():
                    yield from self._reader.read_line(line)
            self._reader.finish()
        except httpx.TransportError as error:
            raise StreamError(self._reader.masked(f"the stream broke off: {error}")) from error
        finally:
            self.close()

    def until_done(self) -> list[GeneratedImage]:
        """Read the whole stream and return the completed images."""
        for _ in self:
            pass
        return self.images

    def close(self) -> None:
        """Stop reading and close the connection."""
        self.response.close()

    def __enter__(self) -> ImageStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncImageStream:
    """The events of a streaming call of AsyncImagesClient: `async for event in stream`."""

    def __init__(self, response: httpx.Response, reader: _EventReader[AsyncGeneratedImage]) -> None:
        self.response = response
        self._reader = reader

    @property
    def images(self) -> list[AsyncGeneratedImage]:
        """The images completed so far."""
        return list(self._reader.completed)

    @property
    def unknown_events(self) -> dict[str, int]:
        """Events no dialect knew, by type, with how many arrived (named in the StreamError
        should the stream end without its images)."""
        return dict(self._reader.unknown)

    async def __aiter__(self) -> AsyncIterator[AsyncStreamEvent]:
        try:
            if not _is_event_stream(self.response):
                body = await self.response.aread()
                for completed in self._reader.answer(body, _content_type(self.response)):
                    yield completed
            else:
                async for line in self.response.aiter_lines():
                    for event in self._reader.read_line(line):
                        yield event
            self._reader.finish()
        except httpx.TransportError as error:
            raise StreamError(self._reader.masked(f"the stream broke off: {error}")) from error
        finally:
            await self.close()

    async def until_done(self) -> list[AsyncGeneratedImage]:
        """Read the whole stream and return the completed images."""
        async for _ in self:
            pass
        return self.images

    async def close(self) -> None:
        """Stop reading and close the connection."""
        await self.response.aclose()

    async def __aenter__(self) -> AsyncImageStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _content_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


def _is_event_stream(response: httpx.Response) -> bool:
    kind = _content_type(response)
    if kind == "text/event-stream":
        return True
    if kind in ("application/json", "text/json"):
        logger.debug("a stream was asked for and the server answered %s: read as one answer", kind)
        return False
    return True  # no type, or another one: read it as events, the stream's checks decide


def event_reader(
    expected_images: int,
    make_image: Callable[[int, str | None, str | None], ImageT],
    secrets: tuple[str, ...] = (),
) -> _EventReader[ImageT]:
    """A reader for a stream of `expected_images` images, making image objects with `make_image`."""
    return _EventReader(expected_images, make_image, secrets)


def _usage(data: Any) -> ImageUsage | None:
    from imagegen_api.models import ImageUsage  # on first use: `import imagegen` stays light

    return ImageUsage.from_dict(data) if isinstance(data, dict) else None
