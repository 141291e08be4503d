"""Client-side rate limiting: never more than ``limit`` requests in any ``period``, per window.

Printora allows 60 requests a minute and 10,000 a day per API key. :class:`RateLimiter` keeps
both (or any) windows at once and guarantees, whatever algorithm the server uses, that no
interval of a window's length ever holds more than its limit of granted requests.

**Algorithm: an exact sliding log per window.** Each window remembers when each request it
still counts stops counting (grant time + period). A request is granted only if every window has
room, and is then charged to every window (all or nothing). This admits a request exactly when
admitting it keeps every window within its limit, so it keeps the guarantee at full throughput
(a greedy client gets 60 per minute, 10,000 per day). Costs: O(log n) per acquire, 8 bytes per
counted request (80 KB for a full day window).

**Why not a library.** aiolimiter is single-window, not FIFO, and a bucket with burst = limit
admits up to 2x the limit in some interval. pyrate-limiter's GCRA bucket (with an atomic Redis
store) keeps the guarantee only with rate = limit − burst, i.e. it gives up burst/limit of the
quota for good, and it would be a runtime dependency the core may not take. Either way the
server reconciliation (headers only tighten, a 429 pauses everyone) would have to be written
around it. The sliding log is about 60 lines; :mod:`aioprintora.ratelimit_redis` runs the same
algorithm in one Lua script for several processes.

**Server-authoritative.** :meth:`RateLimiter.observe` reads ``X-RateLimit-*`` after each
response: when the server says fewer requests remain than we think (another process uses the
key) the missing ones are recorded as "used by someone else" until the server's reset; headers
never free anything. (A response is compared with our count when it arrives, so requests still
in flight make us under-count others' use by at most their number, never over-count it.) A 429
pauses the whole limiter until ``Retry-After`` or the reset.

The guarantee is about the moments requests are let go; the server sees them a network delay
later, and delays vary. Against a strict sliding-window server, a little slack in the period
(e.g. ``Window(60, 61.0)``) keeps latency jitter from turning the last request of a burst into a
429 (which the limiter then absorbs anyway).

Waiters are served first come, first served; a task cancelled while it waits takes nothing;
only the head of the line sleeps, exactly until its token is due. ``acquire(max_wait=...)``
(the client passes its ``max_server_wait``) raises :class:`~aioprintora.errors.RateLimitError`
at once instead of sleeping through a wait it already knows is longer: a long 429 pause or an
exhausted day window; ordinary minute-window queueing is unchanged. One instance serves any
number of clients on one event loop (it is not thread-safe).
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

import attrs

from ._ratelimit_headers import Observation, observation
from .errors import RateLimitError

__all__ = ["DEFAULT_WINDOWS", "Limiter", "RateLimiter", "Window"]


@attrs.frozen
class Window:
    """At most ``limit`` requests in any interval of ``period`` seconds.

    Args:
        limit: requests allowed per period (≥ 1).
        period: the interval length in seconds (> 0).
    """

    limit: int = attrs.field(validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)])
    period: float = attrs.field(converter=float, validator=attrs.validators.gt(0.0))


#: Printora's documented limits: 60 per minute and 10,000 per day, per API key.
DEFAULT_WINDOWS: tuple[Window, ...] = (Window(60, 60.0), Window(10_000, 86_400.0))


@runtime_checkable
class Limiter(Protocol):
    """What the client's attempt middleware relies on."""

    async def acquire(self) -> None:
        """Return when one request may be sent (FIFO; a cancelled wait takes nothing).

        A limiter whose ``acquire`` also takes ``max_wait`` (both of ours do) gets the
        client's ``max_server_wait`` there and may raise ``RateLimitError`` beyond it.
        """

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Reconcile with the server after a response (status and headers)."""


def _slack(now: float) -> float:
    """A little past a due time, so that a clock advanced by the wait is never an ulp short."""
    return max(1e-6, 4 * math.ulp(now))


def refuse_beyond(wait: float, max_wait: float, now_wall: float) -> float:
    """``wait``, unless it exceeds ``max_wait``: then the RateLimitError a caller gets at once."""
    if wait <= max_wait:
        return wait
    raise RateLimitError(
        f"the rate limiter holds requests for {wait:.0f} s, longer than max_server_wait "
        f"({max_wait:g} s); the request was not sent",
        status=429,
        retry_after=wait,
        reset_at=datetime.fromtimestamp(now_wall + wait, tz=timezone.utc),
    )


class _ExpiryLog:
    """Sorted times at which the requests one window still counts stop counting."""

    __slots__ = ("_head", "_times")

    def __init__(self) -> None:
        self._times = array("d")
        self._head = 0  # entries before it have expired; dropped in bulk to keep appends O(1)

    def active(self, now: float) -> int:
        """Forget what expired by ``now``; return how many entries still count."""
        times, head = self._times, self._head
        if head < len(times) and times[head] <= now:
            head = bisect_right(times, now, head)
            if head >= 32 and head * 2 >= len(times):
                del times[:head]
                head = 0
            self._head = head
        return len(times) - head

    def kth_newest(self, k: int) -> float:
        """Expiry of the k-th most recent entry (1 = newest)."""
        return self._times[len(self._times) - k]

    def add(self, expiry: float, count: int = 1) -> None:
        """Record ``count`` entries expiring at ``expiry``, keeping the log sorted."""
        times = self._times
        if count == 1 and (not times or times[-1] <= expiry):
            times.append(expiry)  # the hot path: a grant is the newest entry
        elif not times or times[-1] <= expiry:
            times.extend([expiry] * count)
        else:  # only a server-reported reset lands before later grants
            at = bisect_right(times, expiry, self._head)
            times[at:at] = array("d", [expiry] * count)


class _FifoGate:
    """A line of waiting tasks: only its head asks for a token, so arrival order is served."""

    __slots__ = ("_line", "_sleep")

    def __init__(self, sleep: Callable[[float], Awaitable[object]]) -> None:
        self._line: deque[asyncio.Future[None]] = deque()
        self._sleep = sleep

    def __bool__(self) -> bool:
        return bool(self._line)

    async def through(self, attempt: Callable[[], Awaitable[float]]) -> None:
        """Wait our turn, then call ``attempt`` (0.0 = granted), sleeping what it answers."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line = self._line
        line.append(turn)
        try:
            if line[0] is not turn:
                await turn
            while (delay := await attempt()) > 0.0:
                await self._sleep(delay)
        finally:
            was_head = line[0] is turn
            line.remove(turn)
            if was_head and line and not line[0].done():
                line[0].set_result(None)


class RateLimiter:
    """In-process limiter over several windows; see the module docstring for the guarantees.

    Args:
        windows: the limits to keep at once (default: Printora's 60/min and 10,000/day).
        clock: monotonic seconds (injectable for tests).
        wall_clock: unix seconds, used only to read header times (injectable for tests).
        sleep: how to wait (``asyncio.sleep``; a virtual-time test passes its own).
    """

    def __init__(
        self,
        windows: Sequence[Window] = DEFAULT_WINDOWS,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.windows: tuple[Window, ...] = tuple(windows)
        if not self.windows:
            raise ValueError("a rate limiter needs at least one Window")
        self._logs = tuple(_ExpiryLog() for _ in self.windows)
        self._pairs = tuple(zip(self.windows, self._logs, strict=True))
        self._paused_until = -math.inf
        self._clock = clock
        self._wall_clock = wall_clock
        self._gate = _FifoGate(sleep)

    def __repr__(self) -> str:
        windows = ", ".join(f"{w.limit}/{w.period:g}s" for w in self.windows)
        return f"RateLimiter({windows})"

    # -- the pure core: every method below takes ``now`` and never sleeps --------------------

    def try_acquire(self, now: float) -> float:
        """Take one token if every window has room: 0.0 when granted, else seconds to wait.

        Args:
            now: the current time on the limiter's monotonic clock.
        """
        wait = self._paused_until - now
        for window, log in self._pairs:
            if log.active(now) >= window.limit:
                wait = max(wait, log.kth_newest(window.limit) - now)
        if wait > 0.0:
            return wait + _slack(now)  # nothing charged: all windows or none
        for window, log in self._pairs:
            log.add(now + window.period)
        return 0.0

    def remaining(self, now: float) -> tuple[int, ...]:
        """Requests each window would still admit at ``now`` (ignoring a pause).

        Args:
            now: the current time on the limiter's monotonic clock.
        """
        return tuple(w.limit - log.active(now) for w, log in self._pairs)

    def pause_until(self, deadline: float) -> None:
        """Grant nothing before ``deadline`` (monotonic); a pause only ever gets longer.

        Args:
            deadline: time on the limiter's clock at which requests may flow again.
        """
        self._paused_until = max(self._paused_until, deadline)

    def tighten(self, index: int, remaining: int, until: float, now: float) -> None:
        """The server says window ``index`` admits only ``remaining`` more before ``until``.

        When that is fewer than we think, the difference is recorded as requests someone else
        made, counted until ``until``; when it is more, nothing changes (headers never loosen).

        Args:
            index: which of :attr:`windows`.
            remaining: the server's ``X-RateLimit-Remaining``.
            until: monotonic time of the server's reset (capped at one period from ``now``).
            now: the current time on the limiter's monotonic clock.
        """
        window, log = self.windows[index], self._logs[index]
        until = min(until, now + window.period)
        ours = window.limit - log.active(now)
        if until > now and remaining < ours:
            log.add(until, ours - max(remaining, 0))

    def apply(self, seen: Observation, now: float) -> None:
        """Apply what a response said (see :func:`~aioprintora._ratelimit_headers.observation`).

        Args:
            seen: the pure reading of the response.
            now: the current time on the limiter's monotonic clock.
        """
        if seen.remaining is not None:
            self.tighten(seen.window, seen.remaining, now + seen.reset_after, now)
        if seen.pause is not None:
            self.pause_until(now + seen.pause)

    # -- the async shell ----------------------------------------------------------------------

    def known_wait(self, now: float) -> float:
        """Seconds the head of the line must wait at least (a pause, a full window); 0.0: none.

        Args:
            now: the current time on the limiter's monotonic clock.
        """
        wait = self._paused_until - now
        for window, log in self._pairs:
            if log.active(now) >= window.limit:
                wait = max(wait, log.kth_newest(window.limit) - now)
        return max(0.0, wait)

    async def acquire(self, *, max_wait: float | None = None) -> None:
        """Return when one request may be sent; waiters are served in arrival order.

        Args:
            max_wait: fail fast instead of sleeping when the limiter already knows the wait
                is longer (a long 429 pause, an exhausted day window).

        Raises:
            RateLimitError: with ``max_wait``, the known wait exceeds it; nothing is taken.
        """
        now = self._clock()
        if not self._gate:
            wait = self.try_acquire(now)
            if wait == 0.0:
                return
        else:
            wait = self.known_wait(now)
        if max_wait is None:
            await self._gate.through(self._attempt)
            return
        refuse_beyond(wait, max_wait, self._wall_clock())
        await self._gate.through(functools.partial(self._bounded_attempt, max_wait))

    async def _attempt(self) -> float:
        return self.try_acquire(self._clock())

    async def _bounded_attempt(self, max_wait: float) -> float:
        # A pause set while we queued counts too: sleeping through it is what we must not do.
        return refuse_beyond(self.try_acquire(self._clock()), max_wait, self._wall_clock())

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Reconcile with a response's ``X-RateLimit-*``/``Retry-After``; a 429 pauses everyone.

        Args:
            status: the HTTP status.
            headers: the response headers.
        """
        seen = observation(status, headers, self._wall_clock(), self.windows)
        self.apply(seen, self._clock())
