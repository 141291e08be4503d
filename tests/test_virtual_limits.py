"""The SDK client itself at exactly Printora's limit, on a virtual clock shared with the server.

The sandbox and the client read one :class:`~aioprintora.clock.VirtualClock`: the limiter's
waits move virtual time, the sandbox's windows follow it, and five virtual minutes take a second.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from aioprintora import PrintoraClient
from aioprintora.clock import VirtualClock
from aioprintora.ratelimit._local import Window
from aioprintora.sandbox import Sandbox

pytestmark = pytest.mark.timeout(60)

MINUTE = 60.0


@pytest.mark.parametrize("algorithm", ["fixed", "sliding"])
async def test_exactly_sixty_a_minute_for_five_minutes_and_no_429(algorithm: str) -> None:
    # One flow of calls: a VirtualClock moves as soon as its sleeper yields, so calls still in
    # flight elsewhere would see time jump (concurrent bursts are proven on the limiter itself
    # in test_limits.py, and against the real clock there too).
    clock = VirtualClock(wall_start=1_800_000_000.0)  # a whole minute boundary: fixed windows
    calls = 5 * 60
    async with (
        Sandbox(
            clock=clock.time,
            rate_limits=[(60, MINUTE)],
            rate_limit_algorithm=algorithm,  # type: ignore[arg-type]
        ) as sb,
        PrintoraClient(
            sb.api_key,
            base_url=sb.base_url,
            clock=clock,
            rate_limit=[Window(60, MINUTE), Window(10_000, 86_400.0)],  # the defaults, stated
        ) as client,
    ):
        for _ in range(calls):
            await client.orders.list(limit=1)
        seen = list(sb.requests)
    assert [r.status for r in seen].count(429) == 0
    assert len(seen) == calls  # every call went out once: no retry was needed
    start = clock.time() - clock.monotonic()
    per_minute = Counter(int((r.at - start) // MINUTE) for r in seen)
    assert per_minute == dict.fromkeys(range(5), 60)  # exactly the limit, in every minute
    assert clock.sleeps == [pytest.approx(MINUTE, abs=1e-3)] * 4  # one wait per minute, no polling
    # Never more than 60 in ANY 60 s, not only in the minutes counted from the start.
    times = sorted(r.at for r in seen)
    assert all(times[i + 60] - times[i] >= MINUTE for i in range(len(times) - 60))


async def test_the_default_limit_is_sixty_a_minute_end_to_end() -> None:
    # Nothing stated on either side: PrintoraClient's default limiter against the sandbox's
    # default enforcement of Printora's 60 a minute (sliding: a request over 60 in any 60 s is
    # refused). 61 calls at once, a connection each, so the server's X-RateLimit headers come
    # too late to help: only the client's own default holds the 61st back (a default of 61
    # sends it with the others: a 429).
    clock = VirtualClock(wall_start=1_800_000_000.0)
    async with (
        Sandbox(clock=clock.time, rate_limit_algorithm="sliding") as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, clock=clock, pool_size=61) as client,
    ):
        await asyncio.gather(*(client.orders.list(limit=1) for _ in range(61)))
        seen = list(sb.requests)
    assert [r.status for r in seen] == [200] * 61
    start = clock.time() - clock.monotonic()
    assert Counter(int((r.at - start) // MINUTE) for r in seen) == {0: 60, 1: 1}
    assert clock.sleeps == [pytest.approx(MINUTE, abs=1e-3)]  # the 61st waited a minute
