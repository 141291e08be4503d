"""A rate limiter shared by several processes or machines on one API key, kept in Redis.

``pip install 'aioprintora[redis]'``. The same exact sliding log as
:class:`~aioprintora.ratelimit.RateLimiter`, one sorted set per window (score = the moment a
request stops counting), checked and charged by one Lua script: one round trip per acquire,
atomic across every process, all windows or none. Times come from the Redis server's clock
(``TIME``), so the processes' clocks never need to agree. Every key expires one period after its
last use. Needs Redis ≥ 5 (or Valkey) for ``TIME`` in a writing script.

Within a process waiters are served first come, first served and only the head of the line
talks to Redis, sleeping exactly until Redis says its token is due; across processes, whoever
asks first once a token is due gets it. A 429 seen by any process sets a shared pause key that
stops all of them until the server's reset. A task cancelled while its acquire is on the wire
gives the token back.

Redis outages (connection refused or lost, timeouts, a read-only replica): ``on_error`` decides.

- ``"closed"`` (default): :meth:`RedisRateLimiter.acquire` raises
  :class:`RateLimiterUnavailableError`; no request goes out unaccounted for.
- ``"open"``: requests go on, throttled by a process-local
  :class:`~aioprintora.ratelimit.RateLimiter` with the same windows. Each process alone keeps
  the limits; several together may exceed them until Redis is back (the server's 429s still
  pause each of them). One warning is logged per outage.

:meth:`RedisRateLimiter.observe` never raises for an outage: the response is already in hand.
Every round trip is bounded by ``redis_timeout`` (default 1 s) whatever the Redis client was
configured with, so a frozen Redis (SIGSTOP, a stuck proxy) is an outage like a refused
connection, not a hang. Give the client ``socket_connect_timeout`` too, and, for fast failure,
``retry=Retry(NoBackoff(), 0)`` with the asyncio ``Retry`` (``redis.asyncio.retry.Retry``; the
synchronous ``redis.retry.Retry`` is wrong for an asyncio client, and redis 8.2 warns of it). Its
own retries count inside ``redis_timeout``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from redis import exceptions as redis_errors

from .._errors import RateLimiterUnavailableError
from ._headers import Observation, observation
from ._local import DEFAULT_WINDOWS, RateLimiter, Window, _FifoGate, refuse_beyond

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "DEFAULT_MAX_HOLD",
    "DEFAULT_REDIS_TIMEOUT",
    "RateLimiterUnavailableError",
    "RedisRateLimiter",
    "redis_key_for",
]

#: Seconds one Redis round trip may take before it counts as an outage.
DEFAULT_REDIS_TIMEOUT = 1.0
#: Seconds a held slot outlives its period when its process dies mid-request: the client's
#: default attempt ``timeout``, the longest an attempt may wait for its answer.
DEFAULT_MAX_HOLD = 30.0

logger = logging.getLogger("aioprintora.ratelimit")

_OUTAGE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,
    OSError,
    asyncio.TimeoutError,
)

# Lua turns numbers into strings with "%.14g", too few digits for microsecond times: every
# number sent back to Redis goes through us() instead.
_PRELUDE = """
local function us(x) return string.format('%.0f', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# KEYS[1] pause key, KEYS[2..] window keys.
# ARGV[1] member; then for window key i: ARGV[2i-2] limit, ARGV[2i-1] period (µs); last, the
# hold (µs): how much longer than a period the slot may stay held before RELEASE moves it.
# Returns 0 when granted (and charged to every window), else µs until a token may be due,
# negative when that is a held slot's bound (its release will likely come sooner).
_ACQUIRE = (
    _PRELUDE
    + """
local wait = (tonumber(redis.call('GET', KEYS[1])) or 0) - now
local held = false
for i = 2, #KEYS do
  local limit = tonumber(ARGV[2 * i - 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', us(now))
  local n = redis.call('ZCARD', KEYS[i])
  if n >= limit then
    local due = tonumber(redis.call('ZRANGE', KEYS[i], n - limit, n - limit, 'WITHSCORES')[2])
    if due > now + tonumber(ARGV[2 * i - 1]) then held = true end
    wait = math.max(wait, due - now)
  end
end
if wait > 0 then
  if held then return -wait end
  return wait
end
local hold = tonumber(ARGV[2 * #KEYS])
for i = 2, #KEYS do
  local period = tonumber(ARGV[2 * i - 1])
  redis.call('ZADD', KEYS[i], us(now + period + hold), ARGV[1])
  redis.call('PEXPIRE', KEYS[i], us(math.ceil((period + hold) / 1000) + 1000))
end
return 0
"""
)

# KEYS: window keys. ARGV[1] member; ARGV[i + 1] period (µs) of window key i. A held slot
# counts for one period from now (its response's arrival); a slot already gone stays gone.
_RELEASE = (
    _PRELUDE
    + """
for i = 1, #KEYS do
  local period = tonumber(ARGV[i + 1])
  if redis.call('ZADD', KEYS[i], 'XX', 'CH', us(now + period), ARGV[1]) == 1 then
    redis.call('PEXPIRE', KEYS[i], us(math.ceil(period / 1000) + 1000))
  end
end
return 0
"""
)

# KEYS[1] pause key, KEYS[2] window key. ARGV: limit, period (µs), remaining (-1: unknown),
# reset (µs from now), pause (µs, -1: none), prefix for the members standing for others' use.
_OBSERVE = (
    _PRELUDE
    + """
local limit, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local remaining, reset, pause = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if remaining >= 0 and reset > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', us(now))
  local missing = limit - redis.call('ZCARD', KEYS[2]) - remaining
  local expiry = us(now + math.min(reset, period))
  local batch = {}
  for j = 1, missing do
    batch[#batch + 1] = expiry
    batch[#batch + 1] = ARGV[6] .. j
    if #batch >= 500 or j == missing then
      redis.call('ZADD', KEYS[2], unpack(batch))
      batch = {}
    end
  end
  if missing > 0 then redis.call('PEXPIRE', KEYS[2], us(math.ceil(period / 1000) + 1000)) end
end
if pause > 0 and now + pause > (tonumber(redis.call('GET', KEYS[1])) or 0) then
  redis.call('SET', KEYS[1], us(now + pause), 'PX', us(math.ceil(pause / 1000) + 1000))
end
return 0
"""
)


def redis_key_for(api_key: str) -> str:
    """A key prefix that identifies an API key without revealing it (a SHA-256 digest).

    Args:
        api_key: the Printora API key the limiter guards.
    """
    digest = hashlib.sha256(b"aioprintora-ratelimit\0" + api_key.encode()).hexdigest()
    return f"aioprintora:ratelimit:{digest[:32]}"


def _micros(seconds: float) -> int:
    return max(1, round(seconds * 1_000_000))


class RedisRateLimiter:
    """A :class:`~aioprintora.ratelimit.Limiter` shared through Redis (see the module docstring).

    Args:
        redis: a ``redis.asyncio.Redis`` client (yours: this limiter never closes it).
        key: prefix of the limiter's keys, the same in every process sharing the limits; derive
            it with :func:`redis_key_for`, never use the API key itself.
        windows: the limits to keep (default: Printora's 60/min and 10,000/day).
        on_error: ``"closed"`` (raise) or ``"open"`` (fall back to a local limiter) while
            Redis is unreachable.
        wall_clock: unix seconds, used only to read header times.
        sleep: how to wait (``asyncio.sleep``).
        max_hold: seconds a slot taken by :meth:`hold` may stay held beyond one period before
            it frees itself, so a process killed mid-request costs the others its slots for
            one period plus this, not for good. The default is the client's default attempt
            ``timeout``: no answer can come later, and the server counts a request for one
            period from its arrival at the latest. Give the ``timeout`` of your client if
            it is longer.
        redis_timeout: seconds one Redis round trip may take before it counts as an outage,
            whatever the ``Redis`` client was configured with.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        key: str,
        windows: Sequence[Window] = DEFAULT_WINDOWS,
        on_error: Literal["closed", "open"] = "closed",
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_hold: float = DEFAULT_MAX_HOLD,
        redis_timeout: float = DEFAULT_REDIS_TIMEOUT,
    ) -> None:
        if redis_timeout <= 0:
            raise ValueError("redis_timeout must be positive")
        self.redis_timeout = redis_timeout
        if on_error not in ("closed", "open"):
            raise ValueError("on_error must be 'closed' or 'open'")
        if not key or "{" in key or "}" in key:
            raise ValueError("key must be non-empty and free of braces")
        self.windows = tuple(windows)
        if not self.windows or any(w.period < 0.001 for w in self.windows):
            raise ValueError("RedisRateLimiter needs windows of at least 1 ms")
        self.redis = redis
        self.key = key
        self.on_error = on_error
        tag = "{" + key + "}"  # one hash slot for every key, so the script runs on a cluster
        self._pause_key = f"{tag}:pause"
        self._window_keys = [f"{tag}:{w.limit}/{_micros(w.period)}us" for w in self.windows]
        self._window_args = [v for w in self.windows for v in (w.limit, _micros(w.period))]
        if max_hold < 0:
            raise ValueError("max_hold must be >= 0")
        self._hold_us = _micros(max_hold) if max_hold else 0
        self._release_args = [_micros(w.period) for w in self.windows]
        # Another process's held slot is due only at its bound (period + max_hold); ask again
        # this often instead (our own releases wake the line at once).
        self._poll = max(0.01, min(w.period for w in self.windows) / 100)
        self._acquire = redis.register_script(_ACQUIRE)
        self._observe = redis.register_script(_OBSERVE)
        self._release_script = redis.register_script(_RELEASE)
        self._wall_clock = wall_clock
        self._gate = _FifoGate(sleep, interruptible=True)
        self._fallback = RateLimiter(self.windows, sleep=sleep)
        self._orphans: set[asyncio.Future[Any]] = set()  # script calls whose caller left
        self._refunds: set[asyncio.Future[None]] = set()
        self._degraded = False
        self._paused_until = 0.0  # a pause this process observed (time.monotonic)

    def __repr__(self) -> str:
        windows = ", ".join(f"{w.limit}/{w.period:g}s" for w in self.windows)
        return f"RedisRateLimiter({windows}, key={self.key!r}, on_error={self.on_error!r})"

    def free_after(self, count: int, now: float) -> float:
        """A lower bound of the seconds until ``count`` more requests could all be granted.

        The windows' fill lives in Redis, which a synchronous call cannot ask: this is the
        whole periods ``count`` requests span, as if the windows were empty now.

        Args:
            count: how many requests are still to send.
            now: unused (the windows' clock is Redis's).
        """
        if count <= 0:
            return 0.0
        return max((count - 1) // w.limit * w.period for w in self.windows)

    async def acquire(self, *, max_wait: float | None = None) -> None:
        """Return when one request may be sent.

        Args:
            max_wait: raise instead of sleeping when Redis says the wait is longer.

        Raises:
            RateLimiterUnavailableError: Redis is unreachable and ``on_error="closed"``.
            RateLimitError: with ``max_wait``, the wait Redis reports exceeds it.
        """
        await self._take(0, [], max_wait)

    async def _take(self, hold_us: int, granted: list[str], max_wait: float | None) -> None:
        attempt = functools.partial(self._attempt, hold_us, granted)
        if max_wait is None:
            await self._gate.through(attempt)
        else:
            await self._gate.through(functools.partial(self._bounded, attempt, max_wait))

    async def _bounded(self, attempt: Callable[[], Awaitable[float]], max_wait: float) -> float:
        return refuse_beyond(await attempt(), max_wait, self._wall_clock())

    async def hold(self, *, max_wait: float | None = None) -> str:
        """Like :meth:`acquire`, but the slot stays held until :meth:`release` (or ``max_hold``).

        Args:
            max_wait: as for :meth:`acquire`.

        Returns:
            The slot, to pass to :meth:`release`.

        Raises:
            RateLimiterUnavailableError: Redis is unreachable and ``on_error="closed"``.
            RateLimitError: with ``max_wait``, the wait Redis reports exceeds it.
        """
        granted: list[str] = []
        await self._take(self._hold_us, granted, max_wait)
        return granted[-1]

    def release(
        self, slot: Any, status: int | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        """End a held slot: it counts for one period from now (Redis's clock); never waits.

        Args:
            slot: what :meth:`hold` returned.
            status: the response's status (None: the attempt got no response).
            headers: the response's headers, reconciled with as :meth:`observe` does.
        """
        if status == 429:  # known at once, for paused(); Redis learns it in the task below
            self._note_pause(observation(status, headers or {}, self._wall_clock(), self.windows))
        task = asyncio.ensure_future(self._release(str(slot or ""), status, headers))
        self._refunds.add(task)
        task.add_done_callback(self._released)

    def _released(self, task: asyncio.Future[None]) -> None:
        self._refunds.discard(task)
        self._gate.wake()

    async def _release(
        self, member: str, status: int | None, headers: Mapping[str, str] | None
    ) -> None:
        # Only a 429 is reconciled here. A held slot's X-RateLimit-Remaining is the server's
        # count when the request arrived, and our requests that expired since then would be
        # taken for someone else's; every process on this key is counted in Redis anyway.
        if status == 429:
            await self.observe(status, headers or {})
        if not member:  # granted by the local fallback during an outage: nothing in Redis
            return
        try:
            await asyncio.wait_for(
                self._release_script(keys=self._window_keys, args=[member, *self._release_args]),
                self.redis_timeout,
            )
        except _OUTAGE as exc:
            logger.warning("could not release a held rate-limit slot in Redis: %r", exc)

    async def _attempt(self, hold_us: int, granted: list[str]) -> float:
        member = secrets.token_hex(8)
        keys = [self._pause_key, *self._window_keys]
        call: asyncio.Future[Any] = asyncio.ensure_future(
            self._acquire(keys=keys, args=[member, *self._window_args, hold_us])
        )
        try:
            # A frozen Redis must not hold us: past the timeout the script is abandoned (a
            # token it may still grant is counted against us: over-counting is the safe side).
            wait = await asyncio.wait_for(asyncio.shield(call), self.redis_timeout)
        except asyncio.TimeoutError as exc:
            call.cancel()
            return self._fallback_grant(exc, granted)
        except asyncio.CancelledError:
            # The script may have granted us a token we will never use: give it back.
            self._orphans.add(call)
            call.add_done_callback(lambda done: self._refund_if_granted(done, member))
            raise
        except _OUTAGE as exc:
            return self._fallback_grant(exc, granted)
        self._recovered()
        micros = int(wait)
        if micros == 0:
            granted.append(member)
            return 0.0
        if micros < 0:  # blocked by a slot held by another process: ask again soon
            return min(-micros / 1_000_000, self._poll)
        return micros / 1_000_000

    def _refund_if_granted(self, done: asyncio.Future[Any], member: str) -> None:
        self._orphans.discard(done)
        if done.cancelled() or done.exception() is not None or int(done.result()) != 0:
            return
        task = asyncio.ensure_future(self._refund(member))
        self._refunds.add(task)
        task.add_done_callback(self._refunds.discard)

    async def _refund(self, member: str) -> None:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                for key in self._window_keys:
                    pipe.zrem(key, member)
                await asyncio.wait_for(pipe.execute(), self.redis_timeout)
        except _OUTAGE as exc:
            logger.warning("could not return an unused rate-limit token to Redis: %r", exc)

    def _fallback_grant(self, exc: BaseException, granted: list[str]) -> float:
        """An outage while asking: the local decision, a grant recorded as held nowhere."""
        delay = self._outage(exc)
        if delay == 0.0:
            granted.append("")  # nothing to release in Redis for this slot
        return delay

    def _outage(self, exc: BaseException) -> float:
        """Redis is unreachable: raise (closed) or ask the local limiter (open)."""
        if self.on_error == "closed":
            raise RateLimiterUnavailableError(
                f"the shared rate limiter's Redis is unreachable ({type(exc).__name__}); "
                "the request was not sent"
            ) from exc
        if not self._degraded:
            self._degraded = True
            logger.warning(
                "rate limiter Redis unreachable (%s): limiting per process until it is back",
                type(exc).__name__,
            )
        return self._fallback.try_acquire(time.monotonic())

    def _recovered(self) -> None:
        if self._degraded:
            self._degraded = False
            logger.warning("rate limiter Redis reachable again: limits are shared again")

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Reconcile with a response; a 429 pauses every process sharing the key.

        Args:
            status: the HTTP status.
            headers: the response headers.
        """
        seen = observation(status, headers, self._wall_clock(), self.windows)
        self._note_pause(seen)
        if self.on_error == "open":
            self._fallback.apply(seen, time.monotonic())
        if _nothing_to_do(seen, self.windows):
            return
        window = self.windows[seen.window]
        args: list[int | str] = [
            window.limit,
            _micros(window.period),
            -1 if seen.remaining is None else seen.remaining,
            _micros(seen.reset_after) if seen.reset_after > 0 else 0,
            -1 if not seen.pause else _micros(seen.pause),
            "others:" + secrets.token_hex(6) + ":",
        ]
        try:
            await asyncio.wait_for(
                self._observe(keys=[self._pause_key, self._window_keys[seen.window]], args=args),
                self.redis_timeout,
            )
        except _OUTAGE as exc:
            logger.warning("could not record the server's rate-limit state in Redis: %r", exc)

    def _note_pause(self, seen: Observation) -> None:
        if seen.pause:
            self._paused_until = max(self._paused_until, time.monotonic() + seen.pause)

    def paused(self) -> bool:
        """Whether a 429 this process observed pauses requests now (others' pauses are kept
        in Redis and waited for all the same, but reported as a full window)."""
        return self._paused_until > time.monotonic()

    async def aclose(self) -> None:
        """Wait until tokens taken for cancelled waiters are returned (call before closing Redis).

        The Redis client stays open: it is yours.
        """
        while self._orphans or self._refunds:
            await asyncio.gather(*self._orphans, *self._refunds, return_exceptions=True)
            await asyncio.sleep(0)  # let finished calls schedule their refunds


def _nothing_to_do(seen: Observation, windows: Sequence[Window]) -> bool:
    """True when a response cannot tighten anything (saves a round trip)."""
    tightens = seen.remaining is not None and seen.remaining < windows[seen.window].limit
    return not tightens and not seen.pause
