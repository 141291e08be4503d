"""The client and its rate limiter against the sandbox's own limits (issue 4's proofs)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from aioprintora import PrintoraClient, RetryPolicy
from aioprintora.ratelimit._local import RateLimiter, Window
from aioprintora.sandbox import Sandbox

from ._redis_server import redis_url, unique_prefix  # noqa: F401  (fixture)
from ._wait import BOUND, until
from .conftest import assert_no_acquired
from .ratelimit.helpers import ManualTime, VirtualTime, max_in_any_interval

ROOT = Path(__file__).resolve().parent.parent


def _server_429s(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.status == 429)


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["fixed", "sliding"])
async def test_two_hundred_concurrent_calls_stay_within_the_limit(algorithm: str) -> None:
    # No slack: the client's window is the server's. A slot stays held until its response
    # arrives, so the server's copy of every window expires before ours (docs/reliability.md).
    window = Window(20, 1.0)
    async with (
        Sandbox(
            rate_limits=[(window.limit, window.period)],
            rate_limit_algorithm=algorithm,  # type: ignore[arg-type]
        ) as sandbox,
        PrintoraClient(sandbox.api_key, base_url=sandbox.base_url, rate_limit=[window]) as client,
    ):
        pages = await asyncio.gather(*(client.orders.list(limit=1) for _ in range(200)))
        assert_no_acquired(client)
    assert len(pages) == 200  # no 429 (nor anything else) reached a caller
    assert _server_429s(sandbox) == 0
    # The achieved rate is measured in benchmarks/bench_limit.py, and the schedule is checked
    # exactly on a virtual clock below: here, only that nothing is refused.


@pytest.mark.parametrize("period", [1.0, 1.03, 60.0])
async def test_two_hundred_waiters_go_in_exact_bursts_on_a_virtual_clock(period: float) -> None:
    time_ = VirtualTime()
    limiter = RateLimiter([Window(20, period)], clock=time_.clock, sleep=time_.sleep)
    start = time_.now
    granted: list[float] = []

    async def call() -> None:
        await limiter.acquire()
        granted.append(time_.now - start)

    await asyncio.gather(*(call() for _ in range(200)))
    # Full throughput, never more: 20 at 0, 20 at one period, ... 20 at nine periods.
    assert granted == pytest.approx([(i // 20) * period for i in range(200)], abs=1e-4)
    assert max_in_any_interval(granted, period) == 20
    assert len(time_.sleeps) == 9  # one exact sleep per burst, no polling


async def test_without_a_limiter_every_429_is_retried() -> None:
    async with (
        Sandbox(rate_limits=[(5, 1.0)]) as sandbox,
        PrintoraClient(
            sandbox.api_key,
            base_url=sandbox.base_url,
            rate_limit=None,
            retry=RetryPolicy(max_retries=10, deadline=30.0),
        ) as client,
    ):
        pages = await asyncio.gather(*(client.orders.list(limit=1) for _ in range(12)))
    assert len(pages) == 12
    assert _server_429s(sandbox) > 0  # the server refused some, and the client waited them out


async def test_cancelling_a_hundred_waiters_leaks_no_tokens_or_connections() -> None:
    # On a clock the test moves by hand: a sleeper on it sleeps until the test wakes it.
    time_ = ManualTime()
    limiter = RateLimiter([Window(5, 0.5)], clock=time_.clock, sleep=time_.sleep)
    async with (
        Sandbox(rate_limits=None) as sandbox,
        PrintoraClient(sandbox.api_key, base_url=sandbox.base_url, rate_limit=limiter) as client,
    ):
        await asyncio.gather(*(client.orders.list(limit=1) for _ in range(5)))
        waiting = [asyncio.create_task(client.orders.list(limit=1)) for _ in range(100)]
        # All 100 in the limiter's line, its head asleep until the window passes.
        await until(lambda: len(limiter._gate._line) == 100, what="100 calls queued")
        await until(lambda: len(time_.sleepers) == 1, what="the head of the line asleep")
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        assert all(task.cancelled() for task in waiting)
        assert not limiter._gate and not time_.sleepers
        assert len(sandbox.requests) == 5  # none of the cancelled calls was sent
        assert_no_acquired(client)
        # Once the window has passed, the cancelled waiters hold nothing: 5 calls go at once
        # (none sleeps: nobody moves the clock again, so a sleeper would never wake).
        time_.now += 0.5
        assert limiter.remaining(time_.now) == (5,)
        calls = asyncio.gather(*(client.orders.list(limit=1) for _ in range(5)))
        await asyncio.wait_for(calls, BOUND)
        assert not time_.sleepers
        assert len(sandbox.requests) == 10


@pytest.mark.slow
@pytest.mark.redis
async def test_four_processes_share_one_key_through_redis(redis_url: str) -> None:  # noqa: F811
    async with Sandbox(rate_limits=[(20, 2.0)]) as sandbox:
        key = unique_prefix("client")
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests._client_worker",
                redis_url,
                key,
                sandbox.base_url,
                sandbox.api_key,
                "4",
                "25",
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(4)
        ]
        outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 50)
        server_429s = _server_429s(sandbox)
    results = [json.loads(out) for out, _ in outputs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0]
    assert [r["errors"] for r in results] == [[], [], [], []]
    assert sum(r["ok"] for r in results) == 100
    # No slack in the window: held slots keep every server window within the limit.
    assert server_429s == 0
    # The achieved share of the limit is benchmarks/bench_throughput.py's to report.
