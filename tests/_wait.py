"""Wait for a condition, not for a guessed length of time: a loaded machine cannot flake it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: Far above any wait a healthy test needs, far below the suite's 60 s timeout.
BOUND = 5.0


async def until(condition: Callable[[], bool], *, timeout: float = BOUND, what: str = "") -> None:
    """Return as soon as ``condition()`` holds; fail the test if it does not within ``timeout``."""
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"not within {timeout} s: {what or condition}")
        await asyncio.sleep(0.002)
