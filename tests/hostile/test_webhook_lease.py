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
from aioprintora.webhooks._aiohttp_receiver import webhook_handler
from aioprintora.webhooks._dedup import Claim, DedupStore
from tests._loopback import serve
from tests._wait import until
from tests.webhooks.conftest import SECRET, event_body, signed_headers

pytestmark = pytest.mark.timeout(30)

#: Renewals come every third of a lease: a claim renewed this many times is older than its
#: lease, held only by its renewals.
RENEWALS = 4
#: The Redis store's lease is Redis's real time: long enough that only a stall of a second
#: between two renewals (two thirds of it) could lapse it.
REDIS_LEASE = 1.5


async def _deliver_twice_during_a_slow_callback(
    store: DedupStore, advance: Callable[[float], None] | None = None
) -> tuple[list[int], int]:
    """A redelivery while the first delivery's callback still runs, its claim renewed past its
    lease; the callback ends once the redelivery is answered, then a third delivery comes.

    ``advance`` moves the store's clock by half a lease at each renewal (a store on a fake
    clock); without it the store's lease runs on real time.
    """
    runs = 0
    renewals = 0
    renew = store.renew  # type: ignore[attr-defined]  # both stores here have one

    async def counting_renew(claim: Claim) -> None:
        nonlocal renewals
        await renew(claim)
        renewals += 1
        if advance is not None:
            advance(store.lease / 2)  # type: ignore[attr-defined]

    store.renew = counting_renew  # type: ignore[attr-defined]
    redelivered = asyncio.Event()

    async def slow(event: WebhookEvent) -> None:
        nonlocal runs
        runs += 1
        await redelivered.wait()

    app = web.Application()
    app.router.add_post("/hook", webhook_handler(SECRET, slow, store=store))
    body = event_body(session_id=f"sess-{uuid.uuid4().hex[:8]}")
    async with serve(app) as url, aiohttp.ClientSession() as http:

        async def deliver() -> int:
            async with http.post(f"{url}/hook", data=body, headers=signed_headers(body)) as r:
                return r.status

        first = asyncio.create_task(deliver())
        await until(lambda: renewals >= RENEWALS, what=f"{RENEWALS} renewals of the claim")
        again = await deliver()
        redelivered.set()
        statuses = [await first, again, await deliver()]  # the last: processed by now
    return statuses, runs


async def test_memory_store_renews_the_lease_while_the_callback_runs() -> None:
    now = [0.0]  # the store's clock moves only at renewals: half a lease each

    def advance(seconds: float) -> None:
        now[0] += seconds

    store = MemoryDedupStore(lease=0.3, clock=lambda: now[0])
    statuses, runs = await _deliver_twice_during_a_slow_callback(store, advance)
    assert now[0] > store.lease  # the claim outlived its lease by its renewals alone
    assert statuses == [200, 409, 200]  # the redelivery meanwhile is "in progress", not re-run
    assert runs == 1


async def test_redis_store_renews_the_lease_while_the_callback_runs(redis_url: str) -> None:
    pytest.importorskip("redis")
    from redis.asyncio import Redis

    from aioprintora.webhooks import RedisDedupStore

    redis = Redis.from_url(redis_url)
    try:
        store = RedisDedupStore(redis, prefix=f"hostile:{uuid.uuid4().hex}:", lease=REDIS_LEASE)
        statuses, runs = await _deliver_twice_during_a_slow_callback(store)
    finally:
        await redis.aclose()
    assert statuses == [200, 409, 200]
    assert runs == 1


async def _post(http: aiohttp.ClientSession, url: str, body: bytes) -> int:
    async with http.post(url, data=body, headers=signed_headers(body)) as response:
        return response.status


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
