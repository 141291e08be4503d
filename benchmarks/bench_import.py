"""Importing 1,000 sessions through ``create_many`` under a 20-per-2-s limit, beside its floor.

The sandbox enforces 20 requests per 2 s (the shape of 60/min, thirty times shorter) in fixed
windows, its default. The default limiter keeps exactly the server's window: its slots are held
until each answer arrives, so network jitter cannot meet the server's window edge. The token
bucket charges at the send, so it keeps 20 ms (1%) of slack. Two limiters:

- the default exact sliding log: the first 20 go at once, then 20 each period, so the floor is
  ``(N − limit) / limit × period`` = 98 s;
- :class:`~aioprintora.ratelimit.TokenBucket` with ``burst=1``: one every
  ``period / (limit − 1)``, floor ``(N − b) × period / (limit − b)`` = 105 s.

Run alone: ``python -m benchmarks.bench_import [--sessions N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time

from aioprintora import PrintoraClient
from aioprintora.jobs._imports import Progress, SessionRequest
from aioprintora.ratelimit._bucket import TokenBucket
from aioprintora.ratelimit._local import Limiter, RateLimiter, Window
from aioprintora.sandbox import Sandbox

from ._report import fmt, table

LIMIT, PERIOD = 20, 2.0
ALGORITHM = "fixed"


def requests(n: int, tag: str) -> list[SessionRequest]:
    """``n`` image sessions with refs."""
    return [
        SessionRequest(
            ref=f"{tag}-{i}",
            image_url=f"https://cdn.example.com/{i}.png",
            success_url="https://shop.example.com/ok",
            failed_url="https://shop.example.com/failed",
        )
        for i in range(n)
    ]


async def run(n: int, limiter: Limiter, tag: str) -> tuple[float, int, float]:
    """Seconds for the import, 429s the server sent, largest gap between progress calls."""
    async with (
        Sandbox(rate_limits=((LIMIT, PERIOD),), rate_limit_algorithm=ALGORITHM) as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=limiter) as client,
    ):
        calls: list[float] = []

        def progress(_: Progress) -> None:
            calls.append(time.perf_counter())

        started = time.perf_counter()
        results = await client.sessions.create_many(
            requests(n, tag), concurrency=20, on_progress=progress
        )
        elapsed = time.perf_counter() - started
        if not all(r.ok for r in results) or sb.session_count() != n:
            raise RuntimeError(f"{tag}: {sb.session_count()} sessions for {n} rows")
        rejected = sum(1 for r in sb.requests if r.status == 429)
        stamps = [started, *calls]
        gap = max(b - a for a, b in itertools.pairwise(stamps))
    return elapsed, rejected, gap


async def main(n: int) -> None:
    """Both limiters, one after the other; print the table."""
    exact = Window(LIMIT, PERIOD)  # held slots: no slack needed
    # The bucket charges at the send: a little slack keeps jitter off the server's window edge.
    window = Window(LIMIT, PERIOD + 0.02)
    log_floor = (n - LIMIT) / LIMIT * PERIOD
    bucket_floor = (n - 1) * PERIOD / (LIMIT - 1)
    rows = []
    for label, limiter, floor in (
        ("sliding log (default)", RateLimiter([exact]), log_floor),
        ("token bucket, burst 1", TokenBucket([window], burst=1), bucket_floor),
    ):
        elapsed, rejected, gap = await run(n, limiter, label.split()[0])
        rows.append(
            [
                label,
                fmt(floor),
                fmt(elapsed),
                f"{(elapsed / floor - 1) * 100:+.1f}%",
                rejected,
                fmt(gap, 2),
            ]
        )
    print(
        table(
            f"Jobs: importing {n:,} sessions at {LIMIT} per {PERIOD:g} s",
            ["limiter", "floor (s)", "wall (s)", "vs floor", "429s", "longest silence (s)"],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000)
    asyncio.run(main(parser.parse_args().sessions))
