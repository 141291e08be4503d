"""The request path on a virtual clock: retries, server waits, deadline and limiter, no waiting."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from aioprintora import PrintoraClient, RateLimitError, RetryPolicy, ServerError
from aioprintora.clock import SYSTEM_CLOCK, Clock, VirtualClock
from aioprintora.ratelimit._local import Window

from .conftest import API_KEY, assert_no_acquired
from .scripted import ScriptedServer, fail, ok

ORDERS = {"orders": [], "pagination": {"total": 0, "limit": 20, "offset": 0, "hasMore": False}}
POLICY = RetryPolicy(max_retries=5, backoff_base=1.0, backoff_cap=30.0, deadline=120.0)


def _client(server: ScriptedServer, clock: VirtualClock, **kwargs: object) -> PrintoraClient:
    options: dict[str, object] = {"rate_limit": None, "retry": POLICY, "timeout": 2.0}
    options.update(kwargs)
    return PrintoraClient(API_KEY, base_url=server.base_url, clock=clock, **options)  # type: ignore[arg-type]


def test_both_clocks_satisfy_the_protocol() -> None:
    assert isinstance(SYSTEM_CLOCK, Clock)
    assert isinstance(VirtualClock(), Clock)


async def test_server_directed_waits_are_slept_exactly_on_the_virtual_clock(
    scripted: ScriptedServer,
) -> None:
    date = datetime(2026, 1, 30, 10, 0, tzinfo=timezone.utc)
    scripted.add(
        fail(429, "RATE_LIMITED", **{"Retry-After": "7"}),
        fail(503, **{"Retry-After": "30"}),
        fail(429, **{"X-RateLimit-Reset": "12"}),  # seconds from now, no Retry-After
        fail(
            503,
            **{
                "Date": format_datetime(date, usegmt=True),
                "Retry-After": format_datetime(date + timedelta(seconds=20), usegmt=True),
            },
        ),
        fail(500),  # no server wait: full jitter under backoff_base * 2**4, capped at 30
        ok(ORDERS),
    )
    clock = VirtualClock()
    started = time.monotonic()
    async with _client(scripted, clock) as client:
        page = await client.orders.list()
        assert_no_acquired(client)
    assert page.items == []
    assert len(scripted.seen) == 6
    assert clock.sleeps[:4] == [7.0, 30.0, 12.0, 20.0]
    assert len(clock.sleeps) == 5 and 0.0 <= clock.sleeps[4] <= 16.0
    assert clock.monotonic() == pytest.approx(sum(clock.sleeps))
    assert time.monotonic() - started < 5.0  # 69+ virtual seconds, no real waiting


async def test_no_retry_is_started_whose_wait_would_pass_the_deadline(
    scripted: ScriptedServer,
) -> None:
    scripted.add(
        fail(429, **{"Retry-After": "7"}),
        fail(503, **{"Retry-After": "30"}),
        fail(429, **{"Retry-After": "12"}),  # 37 s spent of 40: 12 more would pass it
        ok(ORDERS),
    )
    clock = VirtualClock()
    policy = RetryPolicy(max_retries=5, deadline=40.0)
    async with _client(scripted, clock, retry=policy) as client:
        with pytest.raises(RateLimitError) as info:
            await client.orders.list()
    assert clock.sleeps == [7.0, 30.0]
    assert info.value.attempts == 3
    assert info.value.retry_after == 12.0
    assert len(scripted.seen) == 3


async def test_backoff_ceilings_double_per_retry_on_the_virtual_clock(
    scripted: ScriptedServer,
) -> None:
    scripted.add(*[fail(500) for _ in range(4)])
    clock = VirtualClock()
    policy = RetryPolicy(max_retries=3, backoff_base=1.0, backoff_cap=3.0, deadline=None)
    async with _client(scripted, clock, retry=policy) as client:
        with pytest.raises(ServerError) as info:
            await client.orders.list()
    assert info.value.attempts == 4
    assert len(clock.sleeps) == 3
    for sleep, ceiling in zip(clock.sleeps, [1.0, 2.0, 3.0], strict=True):  # 4.0 is capped
        assert 0.0 <= sleep <= ceiling


async def test_the_default_limiter_waits_on_the_clients_clock(scripted: ScriptedServer) -> None:
    scripted.default = lambda _: ok(ORDERS)
    clock = VirtualClock()
    async with _client(scripted, clock, rate_limit=[Window(2, 60.0)]) as client:
        for _ in range(3):
            await client.orders.list()
    # Two slots, each held until its answer (virtual time does not move meanwhile), then
    # charged 60 s from then: the third call waits one whole period, once.
    assert clock.sleeps == [pytest.approx(60.0, abs=1e-3)]
    assert len(scripted.seen) == 3
