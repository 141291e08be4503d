"""The pure header readers: Retry-After, X-RateLimit-*, Date, and their effect on a limiter."""

from __future__ import annotations

from email.utils import formatdate

import pytest
from multidict import CIMultiDict

from aioprintora.ratelimit._headers import (
    FALLBACK_429_PAUSE,
    MAX_HEADER_WAIT,
    http_date_to_unix,
    observation,
    parse_rate_limit_headers,
    reset_delay_seconds,
    retry_after_seconds,
)
from aioprintora.ratelimit._local import DEFAULT_WINDOWS, Window

SERVER_NOW = 1_738_234_500.0  # the server's clock, as its Date header says
SKEWED_LOCAL = SERVER_NOW + 3_600.0  # our clock is an hour fast


def date(unix: float) -> str:
    return formatdate(unix, usegmt=True)


def test_http_date_round_trip_and_garbage() -> None:
    assert http_date_to_unix(date(SERVER_NOW)) == SERVER_NOW
    assert http_date_to_unix("Wed, 30 Jan 2025 10:00:00 -0000") == 1_738_231_200.0
    assert http_date_to_unix("not a date") is None
    assert http_date_to_unix("") is None
    assert http_date_to_unix(None) is None


def test_reset_is_converted_with_the_date_header_not_the_local_clock() -> None:
    headers = {"Date": date(SERVER_NOW), "X-RateLimit-Reset": str(int(SERVER_NOW) + 30)}
    assert reset_delay_seconds(headers, SKEWED_LOCAL) == 30.0


def test_reset_without_date_header_uses_the_local_clock() -> None:
    headers = {"X-RateLimit-Reset": str(int(SERVER_NOW) + 30)}
    assert reset_delay_seconds(headers, SERVER_NOW + 10) == 20.0


@pytest.mark.parametrize(
    ("value", "expected"), [("15", 15.0), ("0", 0.0), ("999999999", MAX_HEADER_WAIT)]
)
def test_reset_below_1e9_is_seconds_from_now(value: str, expected: float) -> None:
    assert (
        reset_delay_seconds({"X-RateLimit-Reset": value, "Date": date(0)}, SKEWED_LOCAL) == expected
    )


def test_past_epoch_reset_is_zero_not_negative() -> None:
    headers = {"Date": date(SERVER_NOW), "X-RateLimit-Reset": str(int(SERVER_NOW) - 500)}
    assert reset_delay_seconds(headers, SERVER_NOW) == 0.0


# A negative reset is readable: one in the past, i.e. now (see tests/hostile/).
@pytest.mark.parametrize("value", ["soon", "nan", "inf", ""])
def test_unreadable_reset_counts_as_absent(value: str) -> None:
    assert reset_delay_seconds({"X-RateLimit-Reset": value}, SERVER_NOW) is None
    assert reset_delay_seconds({}, SERVER_NOW) is None


def test_retry_after_seconds_and_dates() -> None:
    assert retry_after_seconds({"Retry-After": "7"}, SERVER_NOW) == 7.0
    assert retry_after_seconds({"Retry-After": "1.5"}, SERVER_NOW) == 1.5
    as_date = {"Retry-After": date(SERVER_NOW + 12), "Date": date(SERVER_NOW)}
    assert retry_after_seconds(as_date, SKEWED_LOCAL) == 12.0  # measured on the server's clock
    no_date = {"Retry-After": date(SERVER_NOW + 12)}
    assert retry_after_seconds(no_date, SERVER_NOW + 2) == 10.0
    assert retry_after_seconds({"Retry-After": date(SERVER_NOW - 60)}, SERVER_NOW) == 0.0
    assert retry_after_seconds({"Retry-After": "whenever"}, SERVER_NOW) is None
    assert retry_after_seconds({}, SERVER_NOW) is None


def test_lookup_is_case_insensitive_for_dicts_and_multidicts() -> None:
    lower = {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "45", "retry-after": "3"}
    cim = CIMultiDict(
        {"X-RATELIMIT-LIMIT": "60", "X-RateLimit-Remaining": "45", "Retry-After": "3"}
    )
    for headers in (lower, cim):
        info = parse_rate_limit_headers(headers, SERVER_NOW)
        assert (info.limit, info.remaining, info.retry_after) == (60, 45, 3.0)


def test_draft_style_values_are_read_by_their_first_number() -> None:
    info = parse_rate_limit_headers(
        {"X-RateLimit-Limit": "60;w=60", "X-RateLimit-Remaining": "5, 900"}, SERVER_NOW
    )
    assert (info.limit, info.remaining, info.reset_after) == (60, 5, None)


def test_observation_picks_the_window_by_its_limit() -> None:
    day = observation(
        200, {"X-RateLimit-Limit": "10000", "X-RateLimit-Remaining": "9"}, 0, DEFAULT_WINDOWS
    )
    minute = observation(
        200, {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "9"}, 0, DEFAULT_WINDOWS
    )
    nearest = observation(200, {"X-RateLimit-Limit": "50"}, 0, DEFAULT_WINDOWS)
    unnamed = observation(200, {"X-RateLimit-Remaining": "3"}, 0, DEFAULT_WINDOWS)
    assert (day.window, minute.window, nearest.window, unnamed.window) == (1, 0, 0, 0)
    assert day.remaining == 9
    assert nearest.remaining is None


def test_observation_caps_the_reset_at_the_window_period() -> None:
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "5000"}
    assert observation(200, headers, 0, DEFAULT_WINDOWS).reset_after == 60.0
    without_reset = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0"}
    assert observation(200, without_reset, 0, DEFAULT_WINDOWS).reset_after == 60.0


def test_observation_of_a_429() -> None:
    windows = (Window(60, 60.0), Window(10_000, 86_400.0))
    bare = observation(429, {}, SERVER_NOW, windows)
    assert (bare.remaining, bare.pause) == (None, FALLBACK_429_PAUSE)  # the pause says it all
    by_reset = observation(
        429, {"Date": date(SERVER_NOW), "X-RateLimit-Reset": str(int(SERVER_NOW) + 20)}, 0, windows
    )
    assert by_reset.pause == 20.0
    both = observation(429, {"Retry-After": "3", "X-RateLimit-Reset": "20"}, 0, windows)
    assert both.pause == 3.0  # the explicit instruction wins
    huge = observation(429, {"Retry-After": "999999"}, 0, windows)
    assert huge.pause == 86_400.0  # never longer than the longest window
    past = observation(
        429, {"Date": date(SERVER_NOW), "X-RateLimit-Reset": str(int(SERVER_NOW) - 9)}, 0, windows
    )
    assert past.pause == 0.0
    assert observation(200, {"Retry-After": "3"}, 0, windows).pause is None
