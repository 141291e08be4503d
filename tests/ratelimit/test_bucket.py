"""The pure core of RateLimiter, driven by a fake clock: no sleeping, no event loop."""

from __future__ import annotations

from email.utils import formatdate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioprintora.ratelimit._headers import observation
from aioprintora.ratelimit._local import DEFAULT_WINDOWS, RateLimiter, Window

from .helpers import max_in_any_interval

TWO_DAYS = 2 * 86_400.0


def greedy(limiter: RateLimiter, start: float, until: float) -> list[float]:
    """A client that always wants another request: grant times on the fake clock."""
    grants: list[float] = []
    now = start
    while now < until:
        wait = limiter.try_acquire(now)
        if wait == 0.0:
            grants.append(now)
        else:
            assert wait > 0.0
            now += wait
    return grants


def test_checker_catches_the_naive_bucket() -> None:
    """A token bucket with burst = limit (60, refill 1/s) admits 119 in some 60 s interval."""
    tokens, grants, now = 60.0, [], 0.0
    while now < 120.0:
        if tokens >= 1.0:
            tokens -= 1.0
            grants.append(now)
        else:
            now += 1.0
            tokens = min(60.0, tokens + 1.0)
    assert max_in_any_interval(grants, 60.0) == 119


def test_two_days_of_a_greedy_client_never_exceed_either_window() -> None:
    start = 5_000.0
    grants = greedy(RateLimiter(DEFAULT_WINDOWS), start, start + TWO_DAYS)
    assert max_in_any_interval(grants, 60.0) == 60
    assert max_in_any_interval(grants, 86_400.0) == 10_000
    assert len(grants) == 20_000  # full throughput: the whole daily quota, both days


def test_greedy_client_at_a_large_clock_value_never_stalls_on_rounding() -> None:
    limiter = RateLimiter([Window(7, 0.3)])
    grants = greedy(limiter, 9_876_543.21, 9_876_543.21 + 30.0)
    assert max_in_any_interval(grants, 0.3) == 7
    assert len(grants) == 7 * 100


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(0.0, 0.7), min_size=1, max_size=300),
    remaining=st.lists(st.integers(0, 9), max_size=300),
    resets=st.lists(st.floats(0.0, 30.0), max_size=300),
)
def test_guarantee_holds_for_any_arrivals_and_server_headers(
    gaps: list[float], remaining: list[int], resets: list[float]
) -> None:
    windows = (Window(3, 1.0), Window(8, 5.0))
    limiter = RateLimiter(windows)
    now, grants = 100.0, []
    for i, gap in enumerate(gaps):
        now += gap
        if limiter.try_acquire(now) == 0.0:
            grants.append(now)
        if i < len(remaining) and i < len(resets):
            limit = str(windows[i % 2].limit)
            headers = {
                "X-RateLimit-Limit": limit,
                "X-RateLimit-Remaining": str(remaining[i]),
                "X-RateLimit-Reset": str(resets[i]),
            }
            limiter.apply(observation(429 if i % 7 == 0 else 200, headers, 0.0, windows), now)
    assert max_in_any_interval(grants, 1.0) <= 3
    assert max_in_any_interval(grants, 5.0) <= 8


def test_windows_are_all_or_nothing() -> None:
    limiter = RateLimiter([Window(2, 10.0), Window(3, 100.0)])
    assert limiter.try_acquire(0.0) == limiter.try_acquire(0.0) == 0.0
    assert limiter.try_acquire(1.0) == pytest.approx(9.0, abs=1e-3)  # short window full
    assert limiter.remaining(1.0) == (0, 1)  # ... and the refusal charged neither window
    assert limiter.try_acquire(10.0) == 0.0
    assert limiter.remaining(10.0) == (1, 0)
    assert limiter.try_acquire(11.0) == pytest.approx(89.0, abs=1e-3)  # long window full
    assert limiter.remaining(11.0) == (1, 0)  # the refused request took no short-window token


def test_headers_only_tighten() -> None:
    limiter = RateLimiter([Window(60, 60.0)])
    for _ in range(10):
        limiter.try_acquire(0.0)
    limiter.tighten(0, remaining=45, until=20.0, now=1.0)  # someone else used 5
    assert limiter.remaining(1.0) == (45,)
    limiter.tighten(0, remaining=58, until=30.0, now=2.0)  # a looser report changes nothing
    assert limiter.remaining(2.0) == (45,)
    limiter.tighten(0, remaining=44, until=30.0, now=3.0)
    assert limiter.remaining(3.0) == (44,)
    assert limiter.remaining(19.9) == (44,)
    assert limiter.remaining(20.0) == (49,)  # the first 5 were the server's until its reset
    assert limiter.remaining(30.0) == (50,)
    assert limiter.remaining(60.0) == (60,)


def test_reset_is_converted_with_date_and_capped_at_the_period() -> None:
    server_now = 1_738_234_500
    wall = server_now + 3_600.0  # the local wall clock is an hour fast: must not matter
    limiter = RateLimiter([Window(60, 60.0)], clock=lambda: 0.0, wall_clock=lambda: wall)
    headers = {
        "Date": formatdate(server_now, usegmt=True),
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(server_now + 25),
    }
    limiter.apply(observation(200, headers, wall, limiter.windows), 0.0)
    assert limiter.try_acquire(24.9) > 0.0
    assert limiter.try_acquire(25.0) == 0.0
    far = dict(headers, **{"X-RateLimit-Reset": str(server_now + 100_000)})
    capped = RateLimiter([Window(60, 60.0)])
    capped.apply(observation(200, far, wall, capped.windows), 0.0)
    assert capped.try_acquire(59.9) > 0.0
    assert capped.try_acquire(60.0) == 0.0


def test_small_reset_is_relative_and_past_epoch_does_not_stall() -> None:
    limiter = RateLimiter([Window(60, 60.0)])
    relative = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "15"}
    limiter.apply(observation(200, relative, 1e9 + 5, limiter.windows), 0.0)
    assert limiter.try_acquire(14.0) == pytest.approx(1.0, abs=1e-3)
    assert limiter.try_acquire(15.0) == 0.0

    stale = RateLimiter([Window(60, 60.0)])
    past = {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Reset": "1738234000",
        "Date": formatdate(1738234567),
    }
    stale.apply(observation(429, past, 1738234567.0, stale.windows), 0.0)
    assert stale.try_acquire(0.0) == 0.0


def test_429_pauses_the_whole_limiter_and_a_pause_only_grows() -> None:
    limiter = RateLimiter([Window(60, 60.0), Window(10_000, 86_400.0)])
    limiter.apply(observation(429, {"Retry-After": "5"}, 0.0, limiter.windows), 100.0)
    assert limiter.try_acquire(104.0) == pytest.approx(1.0, abs=1e-3)
    limiter.pause_until(101.0)  # shorter: ignored
    assert limiter.try_acquire(104.9) > 0.0
    assert limiter.try_acquire(105.0) == 0.0


def test_day_window_header_leaves_the_minute_window_alone() -> None:
    limiter = RateLimiter(DEFAULT_WINDOWS)
    headers = {
        "X-RateLimit-Limit": "10000",
        "X-RateLimit-Remaining": "2",
        "X-RateLimit-Reset": "3600",
    }
    limiter.apply(observation(200, headers, 0.0, limiter.windows), 0.0)
    assert limiter.remaining(0.0) == (60, 2)
    assert [limiter.try_acquire(1.0) for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.try_acquire(1.0) == pytest.approx(3599.0, abs=1e-3)


@pytest.mark.parametrize(
    ("limit", "period"),
    [(0, 1.0), (1, 0.0), (1, -1.0), (1.5, 1.0)],
    ids=["0", "p0", "neg", "float"],
)
def test_window_validation(limit: int, period: float) -> None:
    with pytest.raises((ValueError, TypeError)):
        Window(limit, period)


def test_limiter_needs_a_window() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RateLimiter([])
    assert repr(RateLimiter()) == "RateLimiter(60/60s, 10000/86400s)"
