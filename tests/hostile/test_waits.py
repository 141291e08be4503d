"""Issue 12, bullet 5: no call waits silently for hours, and a frozen Redis is an outage."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from aiohttp import web

from aioprintora import DEFAULT_RATE_LIMIT, RateLimitError
from aioprintora.ratelimit._local import Window

from .conftest import client, hostile, order

pytestmark = pytest.mark.timeout(30)


async def _ok(request: web.Request, n: int) -> web.StreamResponse:
    return web.json_response({"orders": [order(n)]})


async def test_a_long_429_pause_fails_later_calls_fast_without_sending() -> None:
    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        if n == 0:
            return web.json_response({}, status=429, headers={"Retry-After": "3600"})
        return await _ok(request, n)

    # The default limiter (60/min, 10,000/day) pauses for the whole hour the server asks.
    async with hostile(handler) as server, client(server.url, rate_limit=DEFAULT_RATE_LIMIT) as api:
        with pytest.raises(RateLimitError):
            await api.orders.list()
        started = time.monotonic()
        with pytest.raises(RateLimitError, match="max_server_wait") as info:
            await api.orders.list()
        assert time.monotonic() - started < 1.0
    assert len(server.requests) == 1  # the second call was never sent
    reset_at = info.value.reset_at
    assert reset_at is not None
    assert abs(reset_at - (datetime.now(timezone.utc) + timedelta(hours=1))) < timedelta(minutes=1)


async def test_an_exhausted_day_window_fails_fast() -> None:
    windows = [Window(60, 60), Window(2, 86_400)]
    async with hostile(_ok) as server, client(server.url, rate_limit=windows) as api:
        await api.orders.list()
        await api.orders.list()
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            await api.orders.list()
        assert time.monotonic() - started < 1.0
    assert len(server.requests) == 2
    assert info.value.retry_after is not None and info.value.retry_after > 86_000


async def test_minute_window_queueing_is_unchanged() -> None:
    async with hostile(_ok) as server, client(server.url, rate_limit=[Window(2, 0.5)]) as api:
        started = time.monotonic()
        for _ in range(3):
            await api.orders.list()  # the third queues ~0.5 s, then goes
        assert time.monotonic() - started >= 0.45
    assert len(server.requests) == 3


@pytest.mark.parametrize("where", ["client", "with_options"])
async def test_max_queue_wait_bounds_time_in_the_limiter(where: str) -> None:
    per_client = {"max_queue_wait": 0.3} if where == "client" else {}
    async with (
        hostile(_ok) as server,
        client(server.url, rate_limit=[Window(1, 60)], **per_client) as api,
    ):
        await api.orders.list()
        hurried = api if where == "client" else api.with_options(max_queue_wait=0.3)
        started = time.monotonic()
        with pytest.raises(RateLimitError, match="max_queue_wait"):
            await hurried.orders.list()
        took = time.monotonic() - started
    assert 0.25 <= took < 2.0
    assert len(server.requests) == 1


# -- a frozen Redis (SIGSTOP) --------------------------------------------------------------------


@pytest.mark.parametrize("on_error", ["closed", "open"])
async def test_a_frozen_redis_limiter_is_an_outage_not_a_hang(
    on_error: str, redis_server_factory: Callable[[], object]
) -> None:
    from redis.asyncio import Redis

    from aioprintora.ratelimit._redis import RateLimiterUnavailableError, RedisRateLimiter

    server = redis_server_factory()
    redis = Redis.from_url(server.url)  # type: ignore[attr-defined]  # no socket_timeout at all
    limiter = RedisRateLimiter(redis, key="hostile-frozen", on_error=on_error, redis_timeout=0.3)  # type: ignore[arg-type]
    pid = server._process.pid  # type: ignore[attr-defined]
    try:
        async with hostile(_ok) as http, client(http.url, rate_limit=limiter) as api:
            await api.orders.list()  # Redis answers
            os.kill(pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                if on_error == "closed":
                    with pytest.raises(RateLimiterUnavailableError):
                        await api.orders.list()
                else:
                    await api.orders.list()
                took = time.monotonic() - started
            finally:
                os.kill(pid, signal.SIGCONT)
        assert took < 3.0
        assert len(http.requests) == (1 if on_error == "closed" else 2)
    finally:
        await limiter.aclose()
        await redis.aclose()
