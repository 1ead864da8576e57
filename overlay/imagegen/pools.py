"""The async client's connections: several small httpx pools, each request sent through the one
with the fewest requests in flight.

Hand-written because httpx's pool (httpcore) does not scale with many kept-alive connections:
on every request it walks every connection, counts the idle ones once per idle connection and
polls each idle socket, so one pool of 64 kept-alive connections cost the client 6-11 ms of CPU
per request on this project's 2-core test machine, several times the request itself. httpx's
default pool keeps only 20 connections alive, so at 64 requests in flight it opens and closes
a connection for most requests instead. Eight pools of eight keep 64 connections alive at an
eighth of the walking: a loop of 64 generations in flight ran 10-20 % faster, at a fifth less
client CPU, than with the default pool. Thirty-two pools of two took a batch's client CPU per
request down by another 15-25 % (2.5-3.0 ms against 3.3-4.5 ms, saving each image included).

A request goes to the first of the least busy pools, so a client with one request at a time
uses one connection, and one with N in flight about N (one TLS handshake each on a real server).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpx

SHARDS = 32
KEPT_ALIVE_PER_SHARD = 2
CONNECTIONS_PER_SHARD = 4
"""Thirty-two pools of up to 4 connections (128 in all, where httpx's one pool has 100), of which
two each (64 in all) are kept alive between requests."""


class PooledTransport(httpx.AsyncBaseTransport):
    """An httpx transport over `shards` connection pools; a request goes to the least busy."""

    def __init__(
        self,
        verify: bool | ssl.SSLContext = True,
        *,
        shards: int = SHARDS,
        kept_alive: int = KEPT_ALIVE_PER_SHARD,
        connections: int = CONNECTIONS_PER_SHARD,
    ) -> None:
        if shards < 1 or connections < 1 or not 0 <= kept_alive <= connections:
            raise ValueError(
                f"a PooledTransport needs at least one pool of at least one connection, "
                f"with 0..connections kept alive, not {shards}, {connections}, {kept_alive}"
            )
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=kept_alive)
        self._shards = [httpx.AsyncHTTPTransport(verify=context, limits=limits) for _ in range(shards)]
        self._busy = [0] * shards

    @property
    def in_flight(self) -> list[int]:
        """Requests in flight in each pool (sent, and their answer not yet closed)."""
        return list(self._busy)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self._least_busy()
        self._busy[index] += 1
        try:
            answer = await self._shards[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        return httpx.Response(
            answer.status_code,
            headers=answer.headers,
            stream=_Released(answer.stream, self, index),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()

    def _least_busy(self) -> int:
        """The first of the pools with the fewest requests in flight (so that a client with few
        requests at a time reuses the connections of the first pools, opening no others)."""
        busy = self._busy
        return busy.index(min(busy))

    def _release(self, index: int) -> None:
        self._busy[index] -= 1


class _Released(httpx.AsyncByteStream):
    """An answer's body that counts its request out of its pool once it is closed."""

    def __init__(
        self, stream: httpx.AsyncByteStream | httpx.SyncByteStream, owner: PooledTransport, index: int
    ) -> None:
        self._stream = stream
        self._owner = owner
        self._index: int | None = index

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._stream, httpx.AsyncByteStream)
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            if isinstance(self._stream, httpx.AsyncByteStream):
                await self._stream.aclose()
        finally:
            if self._index is not None:
                self._owner._release(self._index)
                self._index = None
