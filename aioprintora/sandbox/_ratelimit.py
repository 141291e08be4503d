"""Server-side rate limiting per API key: fixed or sliding windows, pure arithmetic.

A request is checked against every window first and counted only when all of them admit it, so
a refused request never consumes quota.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Literal

import attrs

__all__ = ["Decision", "QuotaCounter"]

Algorithm = Literal["fixed", "sliding"]


@attrs.frozen
class Decision:
    """The outcome of one check, and the values of the ``X-RateLimit-*`` headers."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # unix seconds, rounded up
    retry_after: int  # seconds, rounded up; 0 when allowed

    def headers(self) -> dict[str, str]:
        """The rate-limit headers (plus ``Retry-After`` on a refusal)."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class _Window:
    """The requests of one key within one window."""

    __slots__ = ("count", "hits", "start")

    def __init__(self) -> None:
        self.start = 0.0
        self.count = 0
        self.hits: deque[float] = deque()


class QuotaCounter:
    """Counts requests per key in each ``(limit, seconds)`` window.

    Args:
        windows: ``(limit, window seconds)`` pairs, e.g. ``((60, 60.0), (10_000, 86_400.0))``.
        algorithm: ``"fixed"`` (windows aligned on multiples of their length since the epoch) or
            ``"sliding"`` (the last ``seconds`` before each request).
    """

    def __init__(
        self, windows: Sequence[tuple[int, float]], algorithm: Algorithm = "fixed"
    ) -> None:
        if not windows:
            raise ValueError("at least one window is needed")
        if algorithm not in ("fixed", "sliding"):
            raise ValueError(f"unknown rate limit algorithm {algorithm!r}")
        self.windows = [(int(limit), float(seconds)) for limit, seconds in windows]
        self.algorithm = algorithm
        self._state: dict[str, list[_Window]] = {}

    def _usage(self, window: _Window, seconds: float, now: float) -> tuple[int, float]:
        """``(requests counted, when the next slot frees up)`` of a window at ``now``."""
        if self.algorithm == "fixed":
            start = math.floor(now / seconds) * seconds
            if window.start != start:
                window.start, window.count = start, 0
            return window.count, start + seconds
        hits = window.hits
        while hits and hits[0] <= now - seconds:
            hits.popleft()
        return len(hits), (hits[0] + seconds if hits else now + seconds)

    def hit(self, key: str, now: float) -> Decision:
        """Check a request by ``key`` at ``now`` and count it when allowed."""
        state = self._state.get(key)
        if state is None:
            state = self._state[key] = [_Window() for _ in self.windows]
        usages = [
            self._usage(w, seconds, now)
            for w, (_, seconds) in zip(state, self.windows, strict=True)
        ]
        blocked = [
            i
            for i, ((limit, _), (used, _)) in enumerate(zip(self.windows, usages, strict=True))
            if used >= limit
        ]
        if blocked:
            free_at = max(usages[i][1] for i in blocked)
            tightest = max(blocked, key=lambda i: usages[i][1])
            limit = self.windows[tightest][0]
            return Decision(False, limit, 0, math.ceil(free_at), max(1, math.ceil(free_at - now)))
        for w, _ in zip(state, self.windows, strict=True):
            w.count += 1
            if self.algorithm == "sliding":
                w.hits.append(now)
        return self._report(True, [(u + 1, r) for u, r in usages])

    def peek(self, key: str | None, now: float) -> Decision:
        """The headers for ``key`` without counting a request (e.g. for a 401 answer)."""
        state = self._state.get(key) if key is not None else None
        if state is None:
            state = [_Window() for _ in self.windows]
        usages = [
            self._usage(w, seconds, now)
            for w, (_, seconds) in zip(state, self.windows, strict=True)
        ]
        return self._report(True, usages)

    def _report(self, allowed: bool, usages: list[tuple[int, float]]) -> Decision:
        """The decision that reports the tightest window (fewest requests left)."""
        best = min(
            range(len(self.windows)),
            key=lambda i: (self.windows[i][0] - usages[i][0], self.windows[i][1]),
        )
        limit = self.windows[best][0]
        remaining = max(limit - usages[best][0], 0)
        return Decision(allowed, limit, remaining, math.ceil(usages[best][1]), 0)

    def forget(self, key: str) -> None:
        """Drop the counters of ``key`` (on a partner reset)."""
        self._state.pop(key, None)
