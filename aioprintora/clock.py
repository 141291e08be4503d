"""Time as the client sees it: one small protocol, the real clock, and a virtual one for tests.

Everything on the request path that reads the time or waits (the call loop's backoff
sleeps and deadline, the attempt's budget, the default rate limiter) goes through one
:class:`Clock`, passed as ``PrintoraClient(..., clock=...)``. A test hands in a
:class:`VirtualClock` and runs retries, ``Retry-After`` waits and limiter pauses without waiting.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "VirtualClock"]


@runtime_checkable
class Clock(Protocol):
    """What the client needs of time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (durations, deadlines, the limiter)."""

    def time(self) -> float:
        """Unix seconds (reading ``Retry-After`` dates and rate-limit reset times)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""


class SystemClock:
    """The real clock: ``time.monotonic``, ``time.time`` and ``asyncio.sleep``."""

    __slots__ = ()

    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on the event loop."""
        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


#: The default clock of every client and limiter.
SYSTEM_CLOCK = SystemClock()


class VirtualClock:
    """A clock that moves only when someone sleeps on it: tests run long waits instantly.

    Every :meth:`sleep` advances both clocks by its argument at once (after yielding to the
    event loop once) and is recorded in :attr:`sleeps`. Suited to one flow of waits at a time
    (a call's retries); concurrent sleepers each advance the clock by their own wait.

    Args:
        start: the initial monotonic reading.
        wall_start: the initial unix time (default: the real time at creation).
    """

    def __init__(self, start: float = 0.0, wall_start: float | None = None) -> None:
        self._now = start
        self._wall_offset = (time.time() if wall_start is None else wall_start) - start
        #: Every sleep taken, in order.
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """The virtual monotonic time."""
        return self._now

    def time(self) -> float:
        """The virtual unix time (moves with :meth:`monotonic`)."""
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        """Move time forward without sleeping (e.g. to let a limiter window pass)."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the wait and advance time by it."""
        self.sleeps.append(seconds)
        await asyncio.sleep(0)
        self._now += max(0.0, seconds)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now:g})"
