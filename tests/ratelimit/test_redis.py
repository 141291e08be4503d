"""RedisRateLimiter against a real redis-server (see tests/_redis_server.py)."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from aioprintora.ratelimit._local import Limiter, Window
from aioprintora.ratelimit._redis import (
    RateLimiterUnavailableError,
    RedisRateLimiter,
    redis_key_for,
)
from tests._loopback import serve
from tests._redis_server import RedisServer, unique_prefix

from .helpers import max_in_any_interval

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]


def fast_failing(url: str) -> Redis:
    """A client that reports an outage at once instead of retrying for seconds."""
    return Redis.from_url(
        url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=0.5, socket_timeout=0.5
    )


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def key() -> str:
    return unique_prefix("ratelimit")


def window_key(limiter: RedisRateLimiter, index: int = 0) -> str:
    return limiter._window_keys[index]


async def test_satisfies_the_protocol_and_hides_the_api_key(redis: Redis) -> None:
    api_key = "sk_live_super_secret_0123456789"
    limiter = RedisRateLimiter(redis, key=redis_key_for(api_key))
    assert isinstance(limiter, Limiter)
    assert api_key not in limiter.key
    assert api_key not in repr(limiter)
    assert redis_key_for(api_key) == redis_key_for(api_key) != redis_key_for(api_key + "x")


async def test_grants_are_atomic_across_competing_limiters(redis: Redis, key: str) -> None:
    limiters = [RedisRateLimiter(redis, key=key, windows=[Window(10, 60.0)]) for _ in range(5)]
    tasks = [asyncio.create_task(lim.acquire()) for lim in limiters for _ in range(10)]
    done, pending = await asyncio.wait(tasks, timeout=0.5)
    assert len(done) == 10  # never an eleventh token, whoever asked
    assert len(pending) == 40
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for limiter in limiters:
        await limiter.aclose()
    assert await redis.zcard(window_key(limiters[0])) == 10


async def test_windows_are_all_or_nothing(redis: Redis, key: str) -> None:
    limiter = RedisRateLimiter(redis, key=key, windows=[Window(2, 60.0), Window(5, 600.0)])
    await limiter.acquire()
    await limiter.acquire()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.1)
    assert await redis.zcard(window_key(limiter, 0)) == 2
    assert await redis.zcard(window_key(limiter, 1)) == 2  # the refusal charged no window


async def test_waits_until_the_token_is_due_in_one_sleep(redis: Redis, key: str) -> None:
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)
        await asyncio.sleep(delay)

    limiter = RedisRateLimiter(redis, key=key, windows=[Window(3, 0.3)], sleep=sleep)
    started = time.monotonic()
    grants = []
    for _ in range(9):
        await limiter.acquire()
        grants.append(time.monotonic() - started)
    assert max_in_any_interval(grants, 0.3 - 0.02) <= 3  # less a little for the round trip
    assert grants[-1] >= 0.6 - 0.02
    assert len(sleeps) <= 4  # about one sleep per refill; never a poll loop


async def test_cancelling_100_waiters_leaks_no_tokens(redis: Redis, key: str) -> None:
    limiter = RedisRateLimiter(redis, key=key, windows=[Window(5, 60.0)])
    for _ in range(5):
        await limiter.acquire()
    waiters = [asyncio.create_task(limiter.acquire()) for _ in range(100)]
    await asyncio.sleep(0.05)
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await limiter.aclose()
    assert await redis.zcard(window_key(limiter)) == 5
    assert not limiter._gate


async def test_cancel_while_the_script_is_on_the_wire_returns_the_token(
    redis: Redis, key: str
) -> None:
    limiter = RedisRateLimiter(redis, key=key, windows=[Window(5, 60.0)])
    task = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)  # the script call is scheduled, its answer not yet read
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await limiter.aclose()
    assert await redis.zcard(window_key(limiter)) == 0
    for _ in range(5):  # all five tokens are still there
        await asyncio.wait_for(limiter.acquire(), 1.0)


async def test_headers_tighten_the_shared_state_and_never_loosen_it(redis: Redis, key: str) -> None:
    limiter = RedisRateLimiter(redis, key=key, windows=[Window(10, 60.0), Window(100, 600.0)])
    for _ in range(2):
        await limiter.acquire()
    headers = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "30"}
    await limiter.observe(200, headers)  # someone else used 5 of the 8 we thought we had
    assert await redis.zcard(window_key(limiter, 0)) == 7
    assert await redis.zcard(window_key(limiter, 1)) == 2  # the day-like window is untouched
    await limiter.observe(200, dict(headers, **{"X-RateLimit-Remaining": "9"}))
    assert await redis.zcard(window_key(limiter, 0)) == 7
    entries = await redis.zrange(window_key(limiter, 0), 0, -1, withscores=True)
    scores = [float(entry[1]) for entry in entries]
    assert max(scores) - min(scores) == pytest.approx(30e6, rel=0.01)  # others' use ends at reset
    for _ in range(3):
        await asyncio.wait_for(limiter.acquire(), 1.0)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.1)


async def test_a_429_in_one_process_pauses_all_of_them(redis_url: str, key: str) -> None:
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        a = RedisRateLimiter(first, key=key, windows=[Window(100, 60.0)])
        b = RedisRateLimiter(second, key=key, windows=[Window(100, 60.0)])
        await b.acquire()
        await a.observe(429, {"Retry-After": "0.4"})
        assert 0 < await second.pttl("{" + key + "}:pause") <= 1400
        started = time.monotonic()
        await b.acquire()
        assert time.monotonic() - started >= 0.35
        await a.observe(429, {"Retry-After": "0.01"})  # a shorter pause never shortens one
        await a.observe(429, {"Retry-After": "0.3"})
        started = time.monotonic()
        await b.acquire()
        assert time.monotonic() - started >= 0.25
    finally:
        await first.aclose()
        await second.aclose()


async def test_keys_expire(redis: Redis, key: str) -> None:
    limiter = RedisRateLimiter(redis, key=key, windows=[Window(5, 2.0), Window(50, 20.0)])
    await limiter.acquire()
    assert 2_000 < await redis.pttl(window_key(limiter, 0)) <= 3_000
    assert 20_000 < await redis.pttl(window_key(limiter, 1)) <= 21_000
    await limiter.observe(200, {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0"})
    assert 20_000 < await redis.pttl(window_key(limiter, 1)) <= 21_000


async def test_script_reloads_after_script_flush(redis: Redis, key: str) -> None:
    limiter = RedisRateLimiter(redis, key=key, windows=[Window(5, 60.0)])
    await limiter.acquire()
    await redis.script_flush()
    await limiter.acquire()
    await limiter.observe(429, {"Retry-After": "0.01"})
    assert await redis.zcard(window_key(limiter)) == 2


async def test_outage_fail_closed_raises_and_observe_stays_quiet(
    redis_server_factory: Callable[[], RedisServer], key: str
) -> None:
    server = redis_server_factory()
    client = fast_failing(server.url)
    try:
        limiter = RedisRateLimiter(client, key=key, windows=[Window(5, 60.0)])
        await limiter.acquire()
        server.stop()
        with pytest.raises(RateLimiterUnavailableError, match="not sent"):
            await limiter.acquire()
        await limiter.observe(429, {"Retry-After": "1"})  # must not raise: response in hand
    finally:
        await client.aclose()


async def test_outage_of_a_server_that_never_was(key: str) -> None:
    client = fast_failing("redis://127.0.0.1:1/0")
    try:
        limiter = RedisRateLimiter(client, key=key)
        with pytest.raises(RateLimiterUnavailableError):
            await limiter.acquire()
    finally:
        await client.aclose()


async def test_outage_fail_open_limits_per_process_then_recovers(
    redis_server_factory: Callable[[], RedisServer], key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aioprintora.ratelimit")
    server = redis_server_factory()
    client = fast_failing(server.url)
    try:
        limiter = RedisRateLimiter(client, key=key, windows=[Window(3, 60.0)], on_error="open")
        server.stop(kill=True)
        for _ in range(3):
            await asyncio.wait_for(limiter.acquire(), 1.0)
        with pytest.raises(asyncio.TimeoutError):  # the local fallback keeps the window
            await asyncio.wait_for(limiter.acquire(), 0.1)
        outages = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(outages) == 1  # one warning per outage, not per request
        server.start()  # same port, empty state, no scripts loaded
        await asyncio.wait_for(limiter.acquire(), 1.0)
        assert await client.zcard(window_key(limiter)) == 1
        assert any("reachable again" in r.getMessage() for r in caplog.records)
    finally:
        await client.aclose()


@pytest.mark.slow
async def test_four_processes_share_the_windows(redis_url: str, key: str) -> None:
    """4 OS processes, 2 tasks each, 20 per 2 s: no interval over the limit, nearly full rate."""
    arrivals: list[float] = []

    async def hit(request: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        return web.Response(text="ok")

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/hit", hit)
    app.router.add_get("/ready", ready)
    async with serve(app) as base:
        seconds = 4.5
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.ratelimit._redis_worker",
                redis_url,
                key,
                base,
                "4",
                str(seconds),
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(4)
        ]
        outputs = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), 30)
    assert [w.returncode for w in workers] == [0, 0, 0, 0]
    assert sum(int(out) for out, _ in outputs) == len(arrivals)
    # Grants are exact on Redis' clock, but arrivals here carry each request's send latency (a
    # burst of 20 from 4 processes on 2 cores takes up to ~40 ms to land), hence 100 ms of slack.
    assert max_in_any_interval(arrivals, 2.0 - 0.1) <= 20
    first = arrivals[0]
    in_run = [t for t in arrivals if t < first + 4.4]
    assert len(in_run) >= 0.9 * 60  # bursts at 0, 2 and 4 s: 60 is the most a client may send


async def test_a_slot_held_by_a_dead_process_frees_within_the_request_timeout(
    redis: Redis, key: str
) -> None:
    # A process killed mid-request never releases its slot: it must stop counting one period
    # after the latest moment its request could have reached the server (the client's default
    # 30 s attempt timeout), not period + 120 s.
    timeout = 30.0  # PrintoraClient's default attempt timeout
    limiter = RedisRateLimiter(redis, key=key, windows=[Window(5, 60.0)])
    member = await limiter.hold()  # and never released: the process "dies" here
    seconds, micros = await redis.time()
    now = seconds + micros / 1_000_000
    frees_at = await redis.zscore(window_key(limiter), member)
    assert frees_at is not None
    assert frees_at / 1_000_000 - now <= 60.0 + timeout + 1.0
    await limiter.aclose()
