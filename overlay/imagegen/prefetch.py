"""Reading the first bytes of a streamed answer before handing it on.

A stream whose connection drops before its first byte has sent nothing the caller could have
seen, so the client retries it like any other failed request; httpx gives no way to peek at a
body without consuming it, hence these small wrappers that put the first chunk back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx


class _Prefetched(httpx.SyncByteStream):
    """A response body whose first chunk was already read, then the rest as it comes."""

    def __init__(self, first: bytes, rest: Iterator[bytes], original: httpx.SyncByteStream) -> None:
        self._first, self._rest, self._original = first, rest, original

    def __iter__(self) -> Iterator[bytes]:
        if self._first:
            yield self._first
        yield from self._rest

    def close(self) -> None:
        self._original.close()


class _AsyncPrefetched(httpx.AsyncByteStream):
    """The async twin of _Prefetched."""

    def __init__(self, first: bytes, rest: AsyncIterator[bytes], original: httpx.AsyncByteStream) -> None:
        self._first, self._rest, self._original = first, rest, original

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._first:
            yield self._first
        async for chunk in self._rest:
            yield chunk

    async def aclose(self) -> None:
        await self._original.aclose()


def prefetch(response: httpx.Response) -> None:
    """Read the first chunk of a streamed body (a TransportError here means nothing arrived)."""
    original = response.stream
    assert isinstance(original, httpx.SyncByteStream)
    rest = iter(original)
    try:
        first = next(rest, b"")
    except httpx.TransportError:
        response.close()
        raise
    if not first:
        response.close()
        raise httpx.RemoteProtocolError("the stream ended before its first byte", request=response.request)
    response.stream = _Prefetched(first, rest, original)


async def async_prefetch(response: httpx.Response) -> None:
    """The async twin of prefetch."""
    original = response.stream
    assert isinstance(original, httpx.AsyncByteStream)
    rest = original.__aiter__()
    try:
        first = await anext(rest, b"")
    except httpx.TransportError:
        await response.aclose()
        raise
    if not first:
        await response.aclose()
        raise httpx.RemoteProtocolError("the stream ended before its first byte", request=response.request)
    response.stream = _AsyncPrefetched(first, rest, original)
