"""Uncontended acquire overhead of aioprintora's RateLimiter beside aiolimiter, same run.

``python -m benchmarks.bench_ratelimit``. Limits are set so high that nobody ever waits: the
figures are the bookkeeping cost per request. Ours checks two windows (a sliding log each) where
aiolimiter checks one leaky bucket. With ``--redis URL`` (or a Redis on 127.0.0.1:6379) the
RedisRateLimiter's round trip is shown too.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from aiolimiter import AsyncLimiter

from aioprintora.ratelimit._local import RateLimiter, Window

from ._report import fmt, machine, median, ratio, table

HUGE = (Window(10**9, 60.0), Window(10**9, 86_400.0))


async def _per_call_us(acquire: Callable[[], Awaitable[object]], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await acquire()
    return (time.perf_counter() - started) / calls * 1e6


async def _noop() -> None:
    return None


async def _redis_round_trip_us(url: str, calls: int) -> float | None:
    try:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        from aioprintora.ratelimit._redis import RedisRateLimiter
    except ImportError:
        return None
    client = Redis.from_url(url, socket_connect_timeout=0.5, retry=None)
    try:
        await client.ping()
    except (OSError, RedisError):
        await client.aclose()
        return None
    key = f"aioprintora-bench:{time.time_ns()}"
    try:
        limiter = RedisRateLimiter(client, key=key, windows=HUGE)
        await _per_call_us(limiter.acquire, 100)  # warm: script loaded, connection open
        return await _per_call_us(limiter.acquire, calls)
    finally:
        await client.delete(*(await client.keys("{" + key + "}*")))
        await client.aclose()


async def run(calls: int, repeats: int, redis_url: str) -> str:
    """Measure and return the Markdown report."""
    results: dict[str, list[float]] = {"await noop()": [], "aiolimiter": [], "RateLimiter": []}
    pure: list[float] = []
    for _ in range(repeats):
        theirs = AsyncLimiter(max_rate=1e12, time_period=1)
        ours = RateLimiter(HUGE)
        results["await noop()"].append(await _per_call_us(_noop, calls))
        results["aiolimiter"].append(await _per_call_us(theirs.acquire, calls))
        results["RateLimiter"].append(await _per_call_us(ours.acquire, calls))
        core = RateLimiter(HUGE)
        started = time.perf_counter()
        for _ in range(calls):
            core.try_acquire(time.monotonic())
        pure.append((time.perf_counter() - started) / calls * 1e6)
    base = median(results["aiolimiter"])
    rows = [[name, fmt(median(v)), ratio(median(v), base)] for name, v in results.items()]
    rows.append(
        ["RateLimiter.try_acquire (sync core)", fmt(median(pure)), ratio(median(pure), base)]
    )
    redis_us = await _redis_round_trip_us(redis_url, max(200, calls // 100))
    if redis_us is not None:
        rows.append(
            ["RedisRateLimiter (loopback round trip)", fmt(redis_us), ratio(redis_us, base)]
        )
    title = f"Uncontended acquire, µs per call (median of {repeats} × {calls:,}; {machine()})"
    ours_vs = ratio(median(results["RateLimiter"]), base)
    return table(title, ["limiter", "µs/acquire", "vs aiolimiter"], rows) + (
        f"\nRateLimiter (2 windows, FIFO, exact) costs {ours_vs} aiolimiter (1 window).\n"
    )


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)
    print(asyncio.run(run(args.calls, args.repeats, args.redis)))


if __name__ == "__main__":
    main()
