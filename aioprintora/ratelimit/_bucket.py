"""Steady pacing for long jobs: a token bucket that still never exceeds the limit in any window.

The client's default :class:`~aioprintora.ratelimit.RateLimiter` is an exact sliding log: a
greedy job gets the whole minute's 60 requests at once, then waits a minute, and so on. That is
the best throughput and the best latency for a single call, but a long import then shows a burst
and a minute of silence. :class:`TokenBucket` paces instead: it holds at most ``burst`` tokens
and refills at ``(limit − burst) / period``, so any interval of one period holds at most
``burst + (limit − burst) = limit`` grants. With ``burst=1`` and 60/min that is 59 a minute, one
about every second.

The bucket paces the first window (the per-minute one); every window, that one included, is
also kept by an inner exact :class:`~aioprintora.ratelimit.RateLimiter`, which reads the
server's headers and 429s exactly as the default does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from ._local import DEFAULT_WINDOWS, RateLimiter, Window, _FifoGate, _slack

__all__ = ["TokenBucket"]


class TokenBucket:
    """A paced limiter: ``burst`` at once, then evenly spread; see the module docstring.

    Args:
        windows: the limits (default Printora's 60/min and 10,000/day); the first is paced.
        burst: tokens the bucket holds, 1 to ``limit − 1`` of the first window.
        clock: monotonic seconds (injectable for tests).
        wall_clock: unix seconds, used only to read header times.
        sleep: how to wait.
    """

    def __init__(
        self,
        windows: Sequence[Window] = DEFAULT_WINDOWS,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.inner = RateLimiter(windows, clock=clock, wall_clock=wall_clock, sleep=sleep)
        paced = self.inner.windows[0]
        if not 1 <= burst < paced.limit:
            raise ValueError(f"burst must be from 1 to {paced.limit - 1}")
        self.windows = self.inner.windows
        self.burst = burst
        self.rate = (paced.limit - burst) / paced.period  # tokens per second
        self._tokens = float(burst)
        self._stamp: float | None = None
        self._clock = clock
        self._gate = _FifoGate(sleep)

    def __repr__(self) -> str:
        return f"TokenBucket(burst={self.burst}, rate={self.rate:g}/s, {self.inner!r})"

    def _refill(self, now: float) -> float:
        if self._stamp is not None and now > self._stamp:
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        if self._stamp is None or now > self._stamp:
            self._stamp = now
        return self._tokens

    def try_acquire(self, now: float) -> float:
        """Take one token: 0.0 when granted, else seconds to wait (nothing is charged then).

        Args:
            now: the current time on the limiter's monotonic clock.
        """
        tokens = self._refill(now)
        if tokens < 1.0:
            return (1.0 - tokens) / self.rate + _slack(now)
        wait = self.inner.try_acquire(now)
        if wait > 0.0:
            return wait
        self._tokens -= 1.0
        return 0.0

    def free_after(self, count: int, now: float) -> float:
        """Seconds from ``now`` until ``count`` more requests could all have been granted.

        Args:
            count: how many requests are still to send.
            now: the current time on the limiter's monotonic clock.
        """
        if count <= 0:
            return 0.0
        paced = max(0.0, (count - self._refill(now)) / self.rate)
        return max(paced, self.inner.free_after(count, now))

    async def acquire(self) -> None:
        """Return when one request may be sent; waiters are served in arrival order."""
        if not self._gate and self.try_acquire(self._clock()) == 0.0:
            return
        await self._gate.through(self._attempt)

    async def _attempt(self) -> float:
        return self.try_acquire(self._clock())

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Reconcile with the server's headers and 429s (through the inner exact limiter).

        Args:
            status: the HTTP status.
            headers: the response headers.
        """
        await self.inner.observe(status, headers)
