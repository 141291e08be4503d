"""Issue 12, bullets 5 and 7: a slow callback keeps its dedup claim; a frozen Redis store: 503."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aioprintora.webhooks import MemoryDedupStore, WebhookEvent
from aioprintora.webhooks.aiohttp_receiver import webhook_handler
from aioprintora.webhooks.dedup import DedupStore
from tests._loopback import serve
from tests.webhooks.conftest import SECRET, event_body, signed_headers

pytestmark = pytest.mark.timeout(30)

LEASE = 0.3


async def _deliver_twice_during_a_slow_callback(store: DedupStore) -> tuple[list[int], int]:
    """The first delivery's callback runs 4 leases; a redelivery arrives after 2 of them."""
    runs = 0

    async def slow(event: WebhookEvent) -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(4 * LEASE)

    app = web.Application()
    app.router.add_post("/hook", webhook_handler(SECRET, slow, store=store))
    body = event_body(session_id=f"sess-{uuid.uuid4().hex[:8]}")
    async with serve(app) as url, aiohttp.ClientSession() as http:

        async def deliver(delay: float) -> int:
            await asyncio.sleep(delay)
            async with http.post(f"{url}/hook", data=body, headers=signed_headers(body)) as r:
                return r.status

        first, again = await asyncio.gather(deliver(0), deliver(2 * LEASE))
        after = await deliver(0)  # processed by now: a duplicate
    return [first, again, after], runs


async def _post(http: aiohttp.ClientSession, url: str, body: bytes) -> int:
    async with http.post(url, data=body, headers=signed_headers(body)) as response:
        return response.status


async def test_memory_store_renews_the_lease_while_the_callback_runs() -> None:
    statuses, runs = await _deliver_twice_during_a_slow_callback(MemoryDedupStore(lease=LEASE))
    assert statuses == [200, 409, 200]  # the redelivery meanwhile is "in progress", not re-run
    assert runs == 1


async def test_redis_store_renews_the_lease_while_the_callback_runs(redis_url: str) -> None:
    pytest.importorskip("redis")
    from redis.asyncio import Redis

    from aioprintora.webhooks import RedisDedupStore

    redis = Redis.from_url(redis_url)
    try:
        store = RedisDedupStore(redis, prefix=f"hostile:{uuid.uuid4().hex}:", lease=LEASE)
        statuses, runs = await _deliver_twice_during_a_slow_callback(store)
    finally:
        await redis.aclose()
    assert statuses == [200, 409, 200]
    assert runs == 1


async def test_a_frozen_redis_dedup_store_answers_503_not_a_hang(
    redis_server_factory: Callable[[], Any],
) -> None:
    pytest.importorskip("redis")
    from redis.asyncio import Redis

    from aioprintora.webhooks import RedisDedupStore

    server = redis_server_factory()
    redis = Redis.from_url(server.url)  # no socket_timeout: only the store's own bound
    store = RedisDedupStore(redis, prefix="hostile:frozen:", redis_timeout=0.3)
    runs = 0

    async def callback(event: WebhookEvent) -> None:
        nonlocal runs
        runs += 1

    app = web.Application()
    app.router.add_post("/hook", webhook_handler(SECRET, callback, store=store))
    body = event_body()
    pid = server._process.pid
    try:
        async with serve(app) as url, aiohttp.ClientSession() as http:
            await redis.ping()
            os.kill(pid, signal.SIGSTOP)
            try:
                status = await asyncio.wait_for(_post(http, f"{url}/hook", body), 3)
            finally:
                os.kill(pid, signal.SIGCONT)
    finally:
        await redis.aclose()
    assert status == 503
    assert runs == 0
