"""Test helpers: the sliding-window checker and controllable clocks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence


def max_in_any_interval(times: Sequence[float], period: float) -> int:
    """Most grants in any half-open interval ``[a, a + period)`` (``times`` sorted)."""
    best = 0
    first = 0
    for last, t in enumerate(times):
        while times[first] + period <= t:
            first += 1
        best = max(best, last - first + 1)
    return best


class VirtualTime:
    """A clock that only moves when a task sleeps on it: each sleep jumps straight to its end."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay
        await asyncio.sleep(0)


class ManualTime:
    """A clock the test moves by hand; sleepers stay asleep until the test wakes them."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.now + delay, wake)
        self.sleepers.append(entry)
        try:
            await wake
        finally:
            self.sleepers.remove(entry)

    async def advance(self, seconds: float) -> None:
        """Move the clock and wake every sleeper whose time has come."""
        self.now += seconds
        for due, wake in list(self.sleepers):
            if due <= self.now and not wake.done():
                wake.set_result(None)
        for _ in range(5):  # let the woken tasks run (and wake their successors)
            await asyncio.sleep(0)
