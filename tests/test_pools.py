"""The async client's connection pools (imagegen.pools): requests spread over small pools, each
counted out when its answer is closed, connections kept alive between waves of requests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from imagegen import AsyncImagesClient
from imagegen.pools import PooledTransport
from imagegen.server.background import serve_app_in_background

WAVE = 32
_gate: dict[str, Any] = {"waiting": 0, "open": None}


async def _wave_gate() -> None:
    if _gate["open"] is None or _gate["open"].is_set():
        _gate["open"], _gate["waiting"] = asyncio.Event(), 0
    opened: asyncio.Event = _gate["open"]
    _gate["waiting"] += 1
    if _gate["waiting"] >= WAVE:
        opened.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(opened.wait(), 2.0)


async def _slow_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the port the request came from: at once for /now, otherwise once WAVE
    requests are in (or after 2 s), so that each wave really has WAVE connections open at once,
    however loaded the machine."""
    if scope["type"] != "http":
        return
    if not scope["path"].endswith("/now"):
        await _wave_gate()
    body = str(scope["client"][1]).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def slow_url() -> Iterator[str]:
    with serve_app_in_background(_slow_app) as url:
        yield url


async def _wave(
    client: httpx.AsyncClient, url: str, count: int, transport: PooledTransport
) -> tuple[set[str], int]:
    """`count` requests at once: the ports they came from, and the most any pool held at once."""
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, *transport.in_flight)
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    answers = await asyncio.gather(*(client.get(url) for _ in range(count)))
    watcher.cancel()
    assert all(answer.status_code == 200 for answer in answers)
    return {answer.text for answer in answers}, peak


def test_requests_are_spread_over_the_pools_and_their_connections_kept(slow_url: str) -> None:
    async def run() -> None:
        transport = PooledTransport(shards=4, kept_alive=8, connections=16)
        async with httpx.AsyncClient(transport=transport) as client:
            first, peak = await _wave(client, slow_url, WAVE, transport)
            assert peak == 8  # 32 over 4 pools: 8 each, never more in one
            assert transport.in_flight == [0, 0, 0, 0]  # every answer counted out
            second, _ = await _wave(client, slow_url, WAVE, transport)
        assert len(first) == 32
        assert second <= first  # the same kept-alive connections, none opened again

    asyncio.run(run())


def test_one_request_at_a_time_uses_one_connection(slow_url: str) -> None:
    async def run() -> set[str]:
        async with httpx.AsyncClient(transport=PooledTransport()) as client:
            return {(await client.get(slow_url + "/now")).text for _ in range(10)}

    assert len(asyncio.run(run())) == 1


def test_the_default_pool_would_have_opened_connections_again(slow_url: str) -> None:
    """What the test above guards against: httpx's one pool keeps 20 alive, so the second wave
    of 32 opens new connections."""

    async def run() -> tuple[set[str], set[str]]:
        async with httpx.AsyncClient() as client:
            first = {
                answer.text for answer in await asyncio.gather(*(client.get(slow_url) for _ in range(WAVE)))
            }
            second = {
                answer.text for answer in await asyncio.gather(*(client.get(slow_url) for _ in range(WAVE)))
            }
        return first, second

    first, second = asyncio.run(run())
    assert not second <= first


def test_a_failed_request_and_an_unread_stream_give_their_place_back(slow_url: str) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}/"

    async def run() -> None:
        transport = PooledTransport(shards=2)
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(nobody)
            assert transport.in_flight == [0, 0]
            async with client.stream("GET", slow_url + "/now") as answer:
                assert answer.status_code == 200
                assert sum(transport.in_flight) == 1
            assert transport.in_flight == [0, 0]

    asyncio.run(run())


def test_the_async_client_uses_the_pools_unless_given_a_transport() -> None:
    async def run() -> None:
        async with AsyncImagesClient(base_url="http://127.0.0.1:9/v1", api_key="sk-pools-1") as client:
            assert isinstance(client._http._transport, PooledTransport)
        mock = httpx.MockTransport(lambda request: httpx.Response(204))
        async with AsyncImagesClient(
            base_url="http://127.0.0.1:9/v1", api_key="sk-pools-1", transport=mock
        ) as client:
            assert client._http._transport is mock

    asyncio.run(run())


@pytest.mark.parametrize(
    ("shards", "kept_alive", "connections"), [(0, 1, 1), (1, 1, 0), (1, 2, 1), (1, -1, 1)]
)
def test_impossible_pools_are_refused(shards: int, kept_alive: int, connections: int) -> None:
    with pytest.raises(ValueError, match="at least one pool"):
        PooledTransport(shards=shards, kept_alive=kept_alive, connections=connections)
