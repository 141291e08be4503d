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
around it. The sliding log is about 60 lines; :mod:`aioprintora.ratelimit._redis` runs the same
algorithm in one Lua script for several processes.

**Server-authoritative.** :meth:`RateLimiter.observe` reads ``X-RateLimit-*`` after each
response: when the server says fewer requests remain than we think (another process uses the
key) the missing ones are recorded as "used by someone else" until the server's reset; headers
never free anything. (A response is compared with our count when it arrives, so requests still
in flight make us under-count others' use by at most their number, never over-count it.) A 429
pauses the whole limiter until ``Retry-After`` or the reset.

**Slots held until the answer.** :meth:`RateLimiter.acquire` charges a request from the moment it
is let go; the server sees it a network delay later, and delays vary, so against a strict
sliding-window server a slot charged that way can expire here before the server's copy does.
The client therefore uses :meth:`RateLimiter.hold` and :meth:`RateLimiter.release`: the slot
stays occupied while the request is in flight and is charged for one period from the moment its
response arrived (or the attempt failed). The server saw the request no later than that, so
every window the server can count holds at most ``limit`` of our requests, with no slack in the
period; the cost is one round trip per cycle of the window.

Waiters are served first come, first served; a task cancelled while it waits takes nothing;
only the head of the line sleeps, exactly until its token is due. ``acquire(max_wait=...)``
(the client passes its ``max_server_wait``) raises :class:`~aioprintora.RateLimitError`
at once instead of sleeping through a wait it already knows is longer: a long 429 pause or an
exhausted day window; ordinary minute-window queueing is unchanged. One instance serves any
number of clients on one event loop (it is not thread-safe).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable

from .._errors import RateLimitError
from ..clock import Clock
from ._headers import Observation, observation
from ._window import DEFAULT_WINDOWS, Window

logger = logging.getLogger("aioprintora")

__all__ = ["DEFAULT_WINDOWS", "Limiter", "RateLimiter", "SlotLimiter", "Window"]


@runtime_checkable
class Limiter(Protocol):
    """The least a limiter of your own provides (the client adapts it, see :class:`SlotLimiter`)."""

    async def acquire(self) -> None:
        """Return when one request may be sent (FIFO; a cancelled wait takes nothing)."""

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Reconcile with the server after a response (status and headers)."""

    def free_after(self, count: int, now: float) -> float:
        """Seconds from ``now`` until ``count`` more requests could all have been granted.

        The limiter's schedule, which progress ETAs read (synchronously: no I/O). ``now`` is
        the limiter's monotonic clock (the client's ``clock``). A limiter that cannot know
        answers a lower bound (0.0 at worst).
        """


@runtime_checkable
class SlotLimiter(Limiter, Protocol):
    """What the client calls on every attempt: both of ours provide it, other limiters are adapted.

    The client calls ``slot = await hold(max_wait=...)`` before an attempt and ``release(slot,
    ...)`` once the attempt is over (its response arrived, or it failed or was cancelled),
    always exactly once; ``paused()`` names the reason of a wait to hooks and the log.
    """

    async def hold(self, *, max_wait: float | None = None) -> Any:
        """Like ``acquire``, but the slot counts until :meth:`release`, then one period more.

        ``max_wait`` (the client's ``max_server_wait``): raise ``RateLimitError`` at once
        rather than sleep through a wait already known to be longer.
        """

    def release(
        self, slot: Any, status: int | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        """End a slot taken by :meth:`hold`, with its response (never raises, never waits).

        ``status`` and ``headers`` are the response's (None when the attempt got none): the
        limiter reconciles with them as :meth:`Limiter.observe` would, knowing when the
        request left.
        """

    def paused(self) -> bool:
        """Whether a server pause (a 429's ``Retry-After`` or reset) holds requests back now."""


def _slots_of(limiter: Limiter) -> SlotLimiter:
    """``limiter`` as the client calls it: itself, or one with only ``acquire`` adapted."""
    return limiter if isinstance(limiter, SlotLimiter) else _AcquireOnly(limiter)


class _AcquireOnly:
    """A :class:`Limiter` seen as a :class:`SlotLimiter`: its slot counts from the grant, no
    ``max_wait`` reaches it, and it never reports a pause. ``release`` must not wait, so a
    response is observed in a task of its own, and the next ``hold`` waits for those first."""

    __slots__ = ("_observing", "limiter")

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter
        self._observing: set[asyncio.Future[None]] = set()

    async def acquire(self) -> None:
        await self.hold()

    async def hold(self, *, max_wait: float | None = None) -> None:
        if self._observing:
            await asyncio.wait(tuple(self._observing))
        await self.limiter.acquire()

    def release(
        self, slot: Any, status: int | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        if status is not None:
            task = asyncio.ensure_future(self.limiter.observe(status, headers or {}))
            self._observing.add(task)
            task.add_done_callback(self._observed)

    def _observed(self, task: asyncio.Future[None]) -> None:
        self._observing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("rate limiter %r failed to observe a response", self.limiter)

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        await self.limiter.observe(status, headers)

    def free_after(self, count: int, now: float) -> float:
        return self.limiter.free_after(count, now)

    def paused(self) -> bool:
        return False


def _slack(now: float) -> float:
    """A little past a due time, so that a clock advanced by the wait is never an ulp short."""
    return max(1e-6, 4 * math.ulp(now))


def refuse_beyond(wait: float, max_wait: float, now_wall: float) -> float:
    """``wait``, unless it exceeds ``max_wait``: then the RateLimitError a caller gets at once.

    ``inf`` (every slot of a window is held by a request in flight) is not a known wait: the
    next answer frees a slot, so it is queued for, never refused.
    """
    if wait <= max_wait or math.isinf(wait):
        return wait
    raise RateLimitError(
        f"the rate limiter holds requests for {wait:.0f} s, longer than max_server_wait "
        f"({max_wait:g} s); the request was not sent",
        status_code=429,
        retry_after=wait,
        reset_at=datetime.fromtimestamp(now_wall + wait, tz=timezone.utc),
    )


class _ExpiryLog:
    """Sorted times at which the requests one window still counts stop counting."""

    __slots__ = ("_head", "_times", "expired")

    def __init__(self) -> None:
        self._times = array("d")
        self._head = 0  # entries before it have expired; dropped in bulk to keep appends O(1)
        self.expired = 0  # how many entries have expired so far (a slot remembers it at grant)

    def active(self, now: float) -> int:
        """Forget what expired by ``now``; return how many entries still count."""
        times, head = self._times, self._head
        if head < len(times) and times[head] <= now:
            new_head = bisect_right(times, now, head)
            self.expired += new_head - head
            head = new_head
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

    __slots__ = ("_interruptible", "_line", "_sleep", "_wake")

    def __init__(
        self, sleep: Callable[[float], Awaitable[object]], *, interruptible: bool = False
    ) -> None:
        self._line: deque[asyncio.Future[None]] = deque()
        self._sleep = sleep
        self._wake: asyncio.Future[None] | None = None
        # In-process, a release never brings a finite wait forward (the slot it frees is
        # charged one period from now): only a wait for a held slot (inf) is woken. A shared
        # limiter's wait may end at a held slot's bound, which a release does bring forward.
        self._interruptible = interruptible

    def __bool__(self) -> bool:
        return bool(self._line)

    def wake(self) -> None:
        """A slot was released: the head asks again now instead of at the end of its wait."""
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def _nap(self, delay: float) -> None:
        """Sleep ``delay`` (``inf``: until woken), or less when :meth:`wake` is called."""
        if not (self._interruptible or math.isinf(delay)):
            await self._sleep(delay)
            return
        wake = self._wake = asyncio.get_running_loop().create_future()
        if math.isinf(delay):
            try:
                await wake
            finally:
                self._wake = None
            return
        sleeping = asyncio.ensure_future(self._sleep(delay))
        try:
            await asyncio.wait((sleeping, wake), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            wake.cancel()
            self._wake = None

    async def through(self, attempt: Callable[[], Awaitable[float]]) -> None:
        """Wait our turn, then call ``attempt`` (0.0 = granted), sleeping what it answers."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line = self._line
        line.append(turn)
        try:
            if line[0] is not turn:
                await turn
            while (delay := await attempt()) > 0.0:
                await self._nap(delay)
        finally:
            was_head = line[0] is turn
            line.remove(turn)
            if was_head and line and not line[0].done():
                line[0].set_result(None)


class RateLimiter:
    """In-process limiter over several windows; see the module docstring for the guarantees.

    Args:
        windows: the limits to keep at once (default: Printora's 60/min and 10,000/day).
        clock: a :class:`~aioprintora.clock.Clock` (its ``monotonic``, ``time`` and ``sleep``
            are used unless given below), or just a monotonic-seconds function.
        wall_clock: unix seconds, used only to read header times (injectable for tests).
        sleep: how to wait (``asyncio.sleep``; a virtual-time test passes its own).
    """

    def __init__(
        self,
        windows: Sequence[Window] = DEFAULT_WINDOWS,
        *,
        clock: Clock | Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
    ) -> None:
        #: The windows kept, in the order given.
        self.windows: tuple[Window, ...] = tuple(windows)
        if not self.windows:
            raise ValueError("a rate limiter needs at least one Window")
        self._logs = tuple(_ExpiryLog() for _ in self.windows)
        self._pairs = tuple(zip(self.windows, self._logs, strict=True))
        self._paused_until = -math.inf
        self._in_flight = 0  # slots held (see hold): counted in every window, no expiry yet
        if isinstance(clock, Clock):
            self._clock: Callable[[], float] = clock.monotonic
            wall_clock = wall_clock or clock.time
            sleep = sleep or clock.sleep
        else:
            self._clock = clock or time.monotonic
        self._wall_clock = wall_clock or time.time
        self._gate = _FifoGate(sleep or asyncio.sleep)

    def __repr__(self) -> str:
        windows = ", ".join(f"{w.limit}/{w.period:g}s" for w in self.windows)
        return f"RateLimiter({windows})"

    # -- the pure core: every method below takes ``now`` and never sleeps --------------------

    def try_acquire(self, now: float, *, hold: bool = False) -> float:
        """Take one token if every window has room: 0.0 when granted, else seconds to wait.

        ``inf`` means every slot of some window is held: only a :meth:`release` frees one.

        Args:
            now: the current time on the limiter's monotonic clock.
            hold: keep the slot occupied until :meth:`release_at` instead of charging it for
                one period from ``now``.
        """
        wait = self._paused_until - now
        held = self._in_flight
        for window, log in self._pairs:
            if log.active(now) + held >= window.limit:
                free_at = window.limit - held  # the oldest charged entries must expire first
                due = log.kth_newest(free_at) if free_at > 0 else math.inf
                wait = max(wait, due - now)
        if wait > 0.0:
            return wait + _slack(now)  # nothing charged: all windows or none
        if hold:
            self._in_flight = held + 1
        else:
            for window, log in self._pairs:
                log.add(now + window.period)
        return 0.0

    def release_at(self, now: float) -> None:
        """End one held slot: it counts for one period from ``now`` (the response's arrival).

        Args:
            now: the current time on the limiter's monotonic clock.
        """
        if self._in_flight <= 0:
            raise RuntimeError("release without a held slot")
        self._in_flight -= 1
        for window, log in self._pairs:
            log.add(now + window.period)

    def remaining(self, now: float) -> tuple[int, ...]:
        """Requests each window would still admit at ``now`` (ignoring a pause).

        Args:
            now: the current time on the limiter's monotonic clock.
        """
        held = self._in_flight
        return tuple(w.limit - log.active(now) - held for w, log in self._pairs)

    def pause_until(self, deadline: float) -> None:
        """Grant nothing before ``deadline`` (monotonic); a pause only ever gets longer.

        Args:
            deadline: time on the limiter's clock at which requests may flow again.
        """
        self._paused_until = max(self._paused_until, deadline)

    def tighten(
        self, index: int, remaining: int, until: float, now: float, since: int | None = None
    ) -> None:
        """The server says window ``index`` admits only ``remaining`` more before ``until``.

        When that is fewer than we think, the difference is recorded as requests someone else
        made, counted until ``until``; when it is more, nothing changes (headers never loosen).

        Args:
            index: which of :attr:`windows`.
            remaining: the server's ``X-RateLimit-Remaining``.
            until: monotonic time of the server's reset (capped at one period from ``now``).
            now: the current time on the limiter's monotonic clock.
            since: the window's expiry count when the answered request was let go (its slot's
                mark): our requests that expired since then may still have counted at the
                server when it answered, so they are not taken for someone else's.
        """
        window, log = self.windows[index], self._logs[index]
        until = min(until, now + window.period)
        ours = window.limit - log.active(now) - self._in_flight
        if since is not None:
            ours -= log.expired - since
        if until > now and remaining < ours:
            log.add(until, ours - max(remaining, 0))

    def apply(self, seen: Observation, now: float, slot: tuple[int, ...] | None = None) -> None:
        """Apply what a response said (see :func:`~aioprintora.ratelimit._headers.observation`).

        Args:
            seen: the pure reading of the response.
            now: the current time on the limiter's monotonic clock.
            slot: the answered request's slot (from :meth:`hold`), when it had one.
        """
        if seen.remaining is not None:
            since = None if slot is None else slot[seen.window]
            self.tighten(seen.window, seen.remaining, now + seen.reset_after, now, since)
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
        await self._take(self._attempt, hold=False, max_wait=max_wait)

    async def hold(self, *, max_wait: float | None = None) -> tuple[int, ...]:
        """Like :meth:`acquire`, but the slot stays occupied until :meth:`release`.

        Args:
            max_wait: as for :meth:`acquire`.

        Returns:
            The slot, to pass to :meth:`release`.
        """
        await self._take(self._attempt_hold, hold=True, max_wait=max_wait)
        return tuple(log.expired for log in self._logs)  # as of the grant: nothing ran since

    def paused(self) -> bool:
        """Whether a 429 pauses every request now (the reason a wait is reported with)."""
        return self._paused_until > self._clock()

    def release(
        self,
        slot: tuple[int, ...] | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """End a slot taken by :meth:`hold`: it counts for one period from now.

        Args:
            slot: what :meth:`hold` returned.
            status: the response's status (None: the attempt got no response).
            headers: the response's headers, reconciled with as :meth:`observe` does.
        """
        now = self._clock()
        if status is not None:
            seen = observation(status, headers or {}, self._wall_clock(), self.windows)
            self.apply(seen, now, slot)
        self.release_at(now)
        self._gate.wake()

    async def _take(
        self,
        attempt: Callable[[], Awaitable[float]],
        *,
        hold: bool,
        max_wait: float | None = None,
    ) -> None:
        now = self._clock()
        if not self._gate:
            wait = self.try_acquire(now, hold=hold)
            if wait == 0.0:
                return
        else:
            wait = self.known_wait(now)
        if max_wait is not None:
            refuse_beyond(wait, max_wait, self._wall_clock())
            attempt = functools.partial(self._bounded, attempt, max_wait)
        await self._gate.through(attempt)

    async def _attempt(self) -> float:
        return self.try_acquire(self._clock())

    async def _attempt_hold(self) -> float:
        return self.try_acquire(self._clock(), hold=True)

    async def _bounded(self, attempt: Callable[[], Awaitable[float]], max_wait: float) -> float:
        # A pause set while we queued counts too: sleeping through it is what we must not do.
        return refuse_beyond(await attempt(), max_wait, self._wall_clock())

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Reconcile with a response's ``X-RateLimit-*``/``Retry-After``; a 429 pauses everyone.

        Args:
            status: the HTTP status.
            headers: the response headers.
        """
        seen = observation(status, headers, self._wall_clock(), self.windows)
        self.apply(seen, self._clock())

    def free_after(self, count: int, now: float) -> float:
        """Seconds from ``now`` until ``count`` more requests could all have been granted.

        The schedule of a greedy caller: grants that fit now, then one as each counted request
        expires, each window's pattern repeating a period later. For progress ETAs.

        Args:
            count: how many requests are still to send.
            now: the current time on the limiter's monotonic clock.
        """
        if count <= 0:
            return 0.0
        last = max(now, self._paused_until)
        for window, log in self._pairs:
            active = log.active(now)
            cycles, index = divmod(count - 1, window.limit)
            free = window.limit - active
            due = now if index < free else log.kth_newest(active - (index - free))
            last = max(last, due + cycles * window.period)
        return last - now
