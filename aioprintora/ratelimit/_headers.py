"""Pure readers of the rate-limit headers: ``Retry-After``, ``X-RateLimit-*`` and ``Date``.

Used by the limiters (reconcile after every response) and by the retry decisions (how long a
429 asks us to wait). No I/O and no clock of their own: the caller passes the wall-clock time at
which the response arrived.

Reading rules, all lenient because a header we cannot read must never stall the client:

- ``Retry-After`` is delta-seconds or an HTTP date; a date is measured against the response's
  ``Date`` header when there is one (both come from the server's clock), else against ``now``.
- ``X-RateLimit-Reset`` below ``10**9`` is seconds from now (some servers send that); at or above
  it is a unix time, converted with the response's ``Date`` so that a skewed local clock does not
  matter; at or above ``10**12`` (13 digits) it is a unix time in milliseconds. A reset in the
  past (``-30``, or a unix time gone by) means 0 s: never a negative, never a stall.
- Every wait read here is clamped to :data:`MAX_HEADER_WAIT` (7 days) before anyone does
  ``datetime``/``timedelta`` arithmetic with it: ``Retry-After: 1e12`` or a date in the year
  9999 is "a very long wait", never an ``OverflowError``.
- Values such as ``60;w=60`` or ``60, 10000`` (IETF draft styles) are read by their first number;
  garbage and non-finite numbers count as absent, and so do negatives except in
  ``X-RateLimit-Reset`` (a reset in the past, above).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import timezone
from email.utils import parsedate_to_datetime

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ._window import Window

__all__ = [
    "MAX_HEADER_WAIT",
    "RESET_EPOCH_THRESHOLD",
    "RESET_MILLIS_THRESHOLD",
    "Observation",
    "RateLimitInfo",
    "http_date_to_unix",
    "observation",
    "parse_rate_limit_headers",
    "reset_delay_seconds",
    "retry_after_seconds",
]

#: ``X-RateLimit-Reset`` values below this are seconds from now, not unix times (10**9 is 2001).
RESET_EPOCH_THRESHOLD = 1_000_000_000

#: ``X-RateLimit-Reset`` values at or above this are unix times in milliseconds (10**12 is 2001).
RESET_MILLIS_THRESHOLD = 1_000_000_000_000

#: The longest wait a header can ask for: longer than any window, far from ``timedelta``'s limit.
MAX_HEADER_WAIT = 7 * 86_400.0

#: How long a 429 pauses the limiter when it names no wait at all.
FALLBACK_429_PAUSE = 1.0


#: aiohttp's header mappings: their own lookup ignores case already.
_CASELESS = (CIMultiDict, CIMultiDictProxy)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that also works on a plain ``dict``."""
    value = headers.get(name)
    if value is None and not isinstance(headers, _CASELESS):
        wanted = name.lower()
        for key, candidate in headers.items():
            if key.lower() == wanted:
                return candidate
    return value


def _number(value: str | None, *, signed: bool = False) -> float | None:
    """The first number of a header value, if it is finite (and not negative unless ``signed``)."""
    if value is None:
        return None
    token = value.split(",", 1)[0].split(";", 1)[0].strip()
    try:
        number = float(token)
    except ValueError:
        return None
    return number if math.isfinite(number) and (signed or number >= 0) else None


def http_date_to_unix(value: str | None) -> float | None:
    """An RFC 9110 HTTP date as a unix time, or None when absent or unreadable.

    Args:
        value: the header value, e.g. ``"Wed, 21 Oct 2015 07:28:00 GMT"``.
    """
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000" means UTC with no claim about the local zone
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _server_now(headers: Mapping[str, str], now_wall: float) -> float:
    """The server's clock at the response: its ``Date`` header, else ours."""
    date = http_date_to_unix(_header(headers, "Date"))
    return now_wall if date is None else date


def retry_after_seconds(headers: Mapping[str, str], now_wall: float) -> float | None:
    """Seconds ``Retry-After`` asks for (delta-seconds or HTTP date), or None when absent.

    Args:
        headers: the response headers (any case).
        now_wall: unix time at which the response arrived (used only without a ``Date`` header).
    """
    raw = _header(headers, "Retry-After")
    if raw is None:
        return None
    seconds = _number(raw)
    if seconds is not None:
        return _clamp(seconds)
    when = http_date_to_unix(raw)
    if when is None:
        return None
    return _clamp(when - _server_now(headers, now_wall))


def reset_delay_seconds(headers: Mapping[str, str], now_wall: float) -> float | None:
    """Seconds until ``X-RateLimit-Reset``, converted with the ``Date`` header; None when absent.

    Args:
        headers: the response headers (any case).
        now_wall: unix time at which the response arrived (used only without a ``Date`` header).
    """
    reset = _number(_header(headers, "X-RateLimit-Reset"), signed=True)
    if reset is None:
        return None
    if reset < RESET_EPOCH_THRESHOLD:  # seconds from now; a negative one is in the past: 0
        return _clamp(reset)
    if reset >= RESET_MILLIS_THRESHOLD:
        reset /= 1000.0
    return _clamp(reset - _server_now(headers, now_wall))


def _clamp(seconds: float) -> float:
    """A wait within ``[0, MAX_HEADER_WAIT]``."""
    return min(max(0.0, seconds), MAX_HEADER_WAIT)


@attrs.frozen
class RateLimitInfo:
    """What one response says about the key's quota; None where a header is absent or unreadable.

    Attributes:
        limit: ``X-RateLimit-Limit``: the size of the window the other values describe.
        remaining: ``X-RateLimit-Remaining``.
        reset_after: seconds from the response until that window resets.
        retry_after: seconds ``Retry-After`` asks for.
    """

    limit: int | None
    remaining: int | None
    reset_after: float | None
    retry_after: float | None


def parse_rate_limit_headers(headers: Mapping[str, str], now_wall: float) -> RateLimitInfo:
    """Read every rate-limit header of a response at once.

    Args:
        headers: the response headers (any case).
        now_wall: unix time at which the response arrived.
    """
    limit = _number(_header(headers, "X-RateLimit-Limit"))
    remaining = _number(_header(headers, "X-RateLimit-Remaining"))
    return RateLimitInfo(
        limit=None if limit is None or limit < 1 else int(limit),
        remaining=None if remaining is None else int(remaining),
        reset_after=reset_delay_seconds(headers, now_wall),
        retry_after=retry_after_seconds(headers, now_wall),
    )


@attrs.frozen
class Observation:
    """What a response asks of a limiter, computed without touching it.

    Attributes:
        window: index of the window the ``X-RateLimit-*`` headers describe.
        remaining: requests that window may still admit (None: nothing to reconcile).
        reset_after: seconds until that window frees them (already capped at its period).
        pause: seconds the whole limiter must wait (429 only; None otherwise).
    """

    window: int
    remaining: int | None
    reset_after: float
    pause: float | None


#: What an answer without ``X-RateLimit-Remaining`` (and not a 429) asks of a limiter: nothing.
_NOTHING = Observation(window=0, remaining=None, reset_after=0.0, pause=None)


def _window_for(limit: int | None, windows: Sequence[Window]) -> int:
    """The window a ``X-RateLimit-Limit`` value describes: equal limit, else the nearest one.

    Without the header we assume the shortest window, the one servers usually report.
    """
    if limit is None:
        return min(range(len(windows)), key=lambda i: windows[i].period)
    return min(range(len(windows)), key=lambda i: abs(math.log(windows[i].limit / limit)))


def observation(
    status: int, headers: Mapping[str, str], now_wall: float, windows: Sequence[Window]
) -> Observation:
    """Turn a response into limiter instructions (pure; both limiters apply it).

    Args:
        status: the HTTP status.
        headers: the response headers.
        now_wall: unix time at which the response arrived.
        windows: the limiter's windows (non-empty).
    """
    if status != 429 and _header(headers, "X-RateLimit-Remaining") is None:
        return _NOTHING  # the common answer: no count to reconcile, no pause
    info = parse_rate_limit_headers(headers, now_wall)
    index = _window_for(info.limit, windows)
    period = windows[index].period
    reset_after = period if info.reset_after is None else min(info.reset_after, period)
    pause = None
    if status == 429:
        wait = info.retry_after if info.retry_after is not None else info.reset_after
        longest = max(window.period for window in windows)
        pause = min(FALLBACK_429_PAUSE if wait is None else wait, longest)
    return Observation(window=index, remaining=info.remaining, reset_after=reset_after, pause=pause)
