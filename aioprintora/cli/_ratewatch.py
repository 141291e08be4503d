"""The one place that reads the client's rate limiter, so long commands never go silent.

A small ticker samples ``limiter.remaining(now)`` and the windows; while a window is full the
next request waits, and the command says so: ``waiting 42 s for the rate limit, 60/min``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable

from ..ratelimit._local import Limiter, RateLimiter

__all__ = ["RateWatch", "describe_window", "wait_message"]

_UNITS = ((86_400.0, "day"), (3_600.0, "h"), (60.0, "min"), (1.0, "s"))


def describe_window(limit: int, period: float) -> str:
    """``60/min``, ``10000/day``, ``5/30s``."""
    for seconds, unit in _UNITS:
        if period == seconds:
            return f"{limit}/{unit}"
    return f"{limit}/{period:g}s"


def _free_in(limiter: Limiter, now: float) -> float | None:
    """Seconds until the limiter grants one more request, when it can tell."""
    try:
        return max(0.0, float(limiter.free_after(1, now)))
    except Exception:  # a shared limiter's store may be unreachable: no countdown then
        return None


def wait_message(limiter: Limiter | None, now: float) -> str | None:
    """What to tell the operator at ``now``: None while no window of ``limiter`` is full.

    Only the in-process :class:`~aioprintora.ratelimit.RateLimiter` can count its windows without
    a round trip; a shared or custom limiter's waits go unannounced here (the retries and waits
    the client logs still show).
    """
    if not isinstance(limiter, RateLimiter):
        return None
    windows = limiter.windows
    left = limiter.remaining(now)
    full = [windows[i] for i, count in enumerate(left) if count <= 0]
    wait = _free_in(limiter, now)
    if wait is not None and wait < 1.0:
        return None  # a blink, not worth a line
    if not full:
        if wait:  # every window has room, yet no grant: the server paused us (a 429)
            return f"waiting {math.ceil(wait)} s: the server asked us to slow down (429)"
        return None
    window = max(full, key=lambda w: w.period)
    limit = describe_window(window.limit, window.period)
    if wait is not None:
        return f"waiting {math.ceil(wait)} s for the rate limit, {limit}"
    return f"waiting for the rate limit, {limit}"


class RateWatch:
    """Calls ``on_change(message)`` whenever the rate-limit message changes (None: flowing again).

    Args:
        limiter: ``client.limiter`` (None: nothing to watch).
        on_change: gets the message when a wait starts and None when it ends; with ``live``
            also every tick in between (a countdown for a progress bar; a log gets one line).
        interval: seconds between samples.
        clock: the limiter's clock (monotonic).
    """

    def __init__(
        self,
        limiter: Limiter | None,
        on_change: Callable[[str | None], None],
        *,
        interval: float = 0.5,
        live: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.live = live
        self.limiter = limiter
        self.on_change = on_change
        self.interval = interval
        self.clock = clock
        self.current: str | None = None
        self._waiting = False

    def tick(self) -> None:
        """Sample once."""
        message = wait_message(self.limiter, self.clock())
        if message is None:
            if self._waiting:
                self._waiting = False
                self.current = None
                self.on_change(None)
            return
        if not self._waiting or (self.live and message != self.current):
            self._waiting = True
            self.current = message
            self.on_change(message)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RateWatch]:
        """Tick in the background for the duration of the block."""
        if self.limiter is None:
            yield self
            return

        async def loop() -> None:
            while True:
                self.tick()
                await asyncio.sleep(self.interval)

        task = asyncio.create_task(loop())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
