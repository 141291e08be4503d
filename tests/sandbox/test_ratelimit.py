"""Rate limits as documented: headers on every response, 429 with Retry-After, no charge."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import aiohttp
import pytest

from aioprintora.sandbox import Sandbox
from aioprintora.sandbox._ratelimit import QuotaCounter

from .conftest import Api

T0 = 1_800_000_000.0  # a multiple of 2 and of 60: fixed windows start here


class Clock:
    def __init__(self) -> None:
        self.now = T0 + 0.25

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def limited(clock: Clock) -> AsyncIterator[Api]:
    async with (
        Sandbox(clock=clock, rate_limits=[(20, 2.0), (30, 60.0)]) as sb,
        aiohttp.ClientSession() as http,
    ):
        yield Api(http, sb, sb.api_key)


async def test_every_response_carries_the_headers(limited: Api) -> None:
    for path, auth in (
        ("/api/v1/partners/orders", True),
        ("/api/v1/partners/orders?limit=0", True),
        ("/api/v1/partners/orders", False),
        ("/api/v1/nothing-here", True),
    ):
        _, headers, _ = await limited.call("GET", path, auth=auth)
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Date"} <= set(
            headers
        ), path


async def test_429_after_the_limit_with_retry_after_and_no_charge(
    limited: Api, clock: Clock
) -> None:
    remaining = []
    for _ in range(20):
        status, headers, _ = await limited.call("GET", "/api/v1/partners/orders")
        assert status == 200
        remaining.append(int(headers["X-RateLimit-Remaining"]))
        assert headers["X-RateLimit-Limit"] == "20"
        assert headers["X-RateLimit-Reset"] == str(math.ceil(T0 + 2.0))
    assert remaining == list(range(19, -1, -1))
    for _ in range(3):  # refused requests must not consume quota
        status, headers, body = await limited.call("GET", "/api/v1/partners/orders")
        assert status == 429
        assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert headers["Retry-After"] == "2"  # ceil(1.75)
        assert headers["X-RateLimit-Remaining"] == "0"
    clock.now = T0 + 2.0  # the next 2-second window; the minute window is now the tightest
    status, headers, _ = await limited.call("GET", "/api/v1/partners/orders")
    assert status == 200
    assert (headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]) == ("30", "9")
    # The per-minute window has counted 21 requests: the three refused ones were not charged.
    clock.now = T0 + 4.0
    _, headers, _ = await limited.call("GET", "/api/v1/partners/orders")
    assert headers["X-RateLimit-Limit"] == "30"
    assert headers["X-RateLimit-Remaining"] == str(30 - 22)


async def test_the_tightest_window_is_reported(limited: Api, clock: Clock) -> None:
    for second in range(2):  # 2 windows of 2 s x 12 = 24 of the 30 per minute
        clock.now = T0 + 2.0 * second + 0.1
        for _ in range(12):
            await limited.call("GET", "/api/v1/partners/orders")
    clock.now = T0 + 4.1
    _, headers, _ = await limited.call("GET", "/api/v1/partners/orders")
    assert headers["X-RateLimit-Limit"] == "30"
    assert headers["X-RateLimit-Remaining"] == "5"
    assert headers["X-RateLimit-Reset"] == str(math.ceil(T0 + 60))


async def test_keys_are_limited_separately(limited: Api) -> None:
    other = limited.sb.add_partner()
    other_api = Api(limited.http, limited.sb, other.api_key)
    for _ in range(20):
        await limited.call("GET", "/api/v1/partners/orders")
    assert (await limited.call("GET", "/api/v1/partners/orders"))[0] == 429
    assert (await other_api.call("GET", "/api/v1/partners/orders"))[0] == 200


def test_sliding_window_frees_slots_as_they_age() -> None:
    limiter = QuotaCounter([(3, 10.0)], "sliding")
    for t in (0.0, 1.0, 2.0):
        assert limiter.hit("k", T0 + t).allowed
    refused = limiter.hit("k", T0 + 5.0)
    assert not refused.allowed
    assert refused.retry_after == 5  # the hit at +0 frees its slot at +10
    assert refused.reset == math.ceil(T0 + 10.0)
    assert limiter.hit("k", T0 + 10.0).allowed
    assert not limiter.hit("k", T0 + 10.5).allowed


def test_fixed_window_resets_on_the_boundary() -> None:
    limiter = QuotaCounter([(2, 60.0)])
    assert limiter.hit("k", T0 + 59.0).allowed
    assert limiter.hit("k", T0 + 59.5).allowed
    refused = limiter.hit("k", T0 + 59.9)
    assert not refused.allowed and refused.retry_after == 1
    assert limiter.hit("k", T0 + 60.0).remaining == 1


def test_limiter_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError):
        QuotaCounter([])
    with pytest.raises(ValueError):
        QuotaCounter([(1, 1.0)], "leaky")  # type: ignore[arg-type]


async def test_default_limits_are_the_documented_ones() -> None:
    async with Sandbox() as sb, aiohttp.ClientSession() as http:
        _, headers, _ = await Api(http, sb, sb.api_key).call("GET", "/api/v1/partners/orders")
        assert headers["X-RateLimit-Limit"] == "60"
        assert headers["X-RateLimit-Remaining"] == "59"
