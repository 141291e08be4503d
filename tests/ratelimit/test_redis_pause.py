"""The Redis limiter as the client calls it: a declared SlotLimiter that names a 429's pause."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from aioprintora.ratelimit._local import SlotLimiter, Window
from aioprintora.ratelimit._redis import RedisRateLimiter
from tests._redis_server import unique_prefix

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_429_released_with_its_slot_is_a_pause_at_once(redis: Redis) -> None:
    limiter = RedisRateLimiter(redis, key=unique_prefix("pause"), windows=[Window(100, 60.0)])
    assert isinstance(limiter, SlotLimiter)
    slot = await limiter.hold()
    assert not limiter.paused()
    limiter.release(slot, 429, {"Retry-After": "30"})
    assert limiter.paused()  # known before Redis has been told: the next wait is reported so
    await limiter.aclose()  # waits for the release to reach Redis
    assert await redis.exists(limiter._pause_key)  # which paused every process too


async def test_a_success_is_no_pause(redis: Redis) -> None:
    limiter = RedisRateLimiter(redis, key=unique_prefix("pause"), windows=[Window(100, 60.0)])
    limiter.release(await limiter.hold(), 200, {"X-RateLimit-Remaining": "99"})
    assert not limiter.paused()
    await limiter.aclose()
