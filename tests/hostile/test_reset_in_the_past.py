"""A reset in the past never stalls: ``X-RateLimit-Reset: -30`` with ``Remaining: 0``."""

from __future__ import annotations

import pytest
from aiohttp import web

from aioprintora import PrintoraClient
from aioprintora.clock import VirtualClock
from aioprintora.ratelimit._headers import observation, reset_delay_seconds
from aioprintora.ratelimit._local import DEFAULT_WINDOWS, RateLimiter

from .conftest import API_KEY, FAST, hostile, order

pytestmark = pytest.mark.timeout(30)

NOW = 1_800_000_000.0
PAST = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "-30"}


@pytest.mark.parametrize("reset", ["-30", "-0.5", str(int(NOW) - 30), str(int(NOW * 1000) - 30)])
def test_a_reset_in_the_past_is_now(reset: str) -> None:
    assert reset_delay_seconds({"X-RateLimit-Reset": reset}, NOW) == 0.0


def test_a_limiter_told_nothing_remains_until_a_past_reset_holds_nothing() -> None:
    limiter = RateLimiter(DEFAULT_WINDOWS, clock=lambda: 100.0)
    seen = observation(200, PAST, NOW, limiter.windows)
    assert (seen.remaining, seen.reset_after) == (0, 0.0)
    limiter.apply(seen, 100.0)
    assert limiter.try_acquire(100.0) == 0.0


async def _past_reset_first(request: web.Request, n: int) -> web.StreamResponse:
    return web.json_response({"orders": [order(n)]}, headers=PAST if n == 0 else {})


async def test_the_next_call_does_not_wait_on_the_virtual_clock() -> None:
    clock = VirtualClock(wall_start=NOW)
    async with (
        hostile(_past_reset_first) as server,
        PrintoraClient(API_KEY, base_url=server.url, clock=clock, retry=FAST) as api,
    ):
        await api.orders.list()
        await api.orders.list()
    assert clock.sleeps == []  # the whole minute window was held before
    assert len(server.requests) == 2


async def test_the_next_call_does_not_wait_past_max_queue_wait() -> None:
    async with (
        hostile(_past_reset_first) as server,
        PrintoraClient(API_KEY, base_url=server.url, retry=FAST, max_queue_wait=3.0) as api,
    ):
        await api.orders.list()
        await api.orders.list()  # RateLimitError after 3 s if the window were held
    assert len(server.requests) == 2
