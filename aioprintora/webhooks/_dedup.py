"""Duplicate suppression for at-least-once deliveries: claim → run → commit, or release.

A receiver *claims* an event's key before running the user's callback. Exactly one concurrent
claimant gets :attr:`ClaimState.ACQUIRED`; the others see ``IN_PROGRESS`` (answer non-2xx so
Printora tries again later) or ``DONE`` (answer 2xx without running anything). After the callback
succeeds the claimant *commits* (the key is remembered for ``ttl``); when it fails it *releases*,
so the sender's retry is processed instead of being swallowed as a duplicate. While the callback
runs, :func:`keep_claimed` renews the claim every third of its ``lease``, so a callback slower
than the lease is not run a second time by a redelivery arriving meanwhile; only a claim whose
worker died (nobody renews it) lapses after ``lease``.

:class:`MemoryDedupStore` serves one process; ``RedisDedupStore`` (in ``redis_dedup``) shares
the marks between workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Protocol, runtime_checkable

import attrs

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_TTL",
    "Claim",
    "ClaimState",
    "DedupStore",
    "MemoryDedupStore",
    "dedup_key_string",
    "keep_claimed",
]

log = logging.getLogger("aioprintora.webhooks")

#: How long a processed event is remembered: longer than Printora's ~4.5 h retry schedule, with
#: room for manual resends.
DEFAULT_TTL = timedelta(days=3)
#: How long an unfinished claim blocks other deliveries of the event (the sender waits 5 s).
DEFAULT_LEASE = timedelta(seconds=30)


class ClaimState(enum.Enum):
    """What a claim found."""

    ACQUIRED = "acquired"  # ours: run the callback, then commit or release
    IN_PROGRESS = "in_progress"  # another delivery is running it right now
    DONE = "done"  # already processed: a duplicate


@attrs.frozen
class Claim:
    """The answer to :meth:`DedupStore.claim`; pass it back to ``commit`` or ``release``."""

    key: str
    state: ClaimState
    token: str = attrs.field(default="", repr=False)


@runtime_checkable
class DedupStore(Protocol):
    """Where receivers remember which events they have processed."""

    async def claim(self, key: str) -> Claim:
        """Try to take ``key`` for processing."""
        ...

    async def commit(self, claim: Claim) -> None:
        """Mark an acquired key as processed, for the store's ttl."""
        ...

    async def release(self, claim: Claim) -> None:
        """Give an acquired key back (the callback failed) if we still hold it."""
        ...


@contextlib.asynccontextmanager
async def keep_claimed(store: DedupStore, claim: Claim) -> AsyncIterator[None]:
    """Renew ``claim`` while the body runs, when the store can (it has ``renew``/``lease``).

    Args:
        store: the store the claim came from.
        claim: an acquired claim.
    """
    renew = getattr(store, "renew", None)
    lease = getattr(store, "lease", None)
    if renew is None or not lease or claim.state is not ClaimState.ACQUIRED:
        yield
        return
    task = asyncio.ensure_future(_renew_forever(renew, claim, lease / 3))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _renew_forever(renew: Callable[[Claim], object], claim: Claim, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await renew(claim)  # type: ignore[misc]  # an async method, checked by getattr
        except Exception:  # the store is unreachable: the claim may lapse, the callback goes on
            log.warning("could not renew the dedup claim on %s", claim.key, exc_info=True)


def dedup_key_string(key: tuple[str, str]) -> str:
    """``(session_id, event)`` as one store key, e.g. ``10:order.paid:sess_x1y2z3``.

    The event's length comes first, so no pair of strings can produce another pair's key.
    """
    session_id, event = key
    return f"{len(event)}:{event}:{session_id}"


def _seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class MemoryDedupStore:
    """A bounded in-process store: least recently claimed keys are evicted beyond ``max_entries``.

    Right for one worker process. Several processes behind a load balancer each have their own
    memory, so use ``RedisDedupStore`` there.

    Args:
        ttl: how long a processed key is remembered (timedelta or seconds).
        lease: how long an unfinished claim holds the key.
        max_entries: the bound on remembered keys.
        clock: monotonic seconds; injectable for tests.
    """

    def __init__(
        self,
        *,
        ttl: timedelta | float = DEFAULT_TTL,
        lease: timedelta | float = DEFAULT_LEASE,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._ttl = _seconds(ttl)
        self.lease = _seconds(lease)
        self._max = max_entries
        self._clock = clock
        # key -> (token, expires_at); token "" means committed.
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(self, key: str) -> Claim:
        """Try to take ``key``; see :class:`ClaimState`."""
        return self.claim_now(key)

    async def commit(self, claim: Claim) -> None:
        """Remember ``claim.key`` as processed for ``ttl``."""
        self.commit_now(claim)

    async def release(self, claim: Claim) -> None:
        """Forget ``claim.key`` if this claim still holds it."""
        self.release_now(claim)

    async def renew(self, claim: Claim) -> None:
        """Extend ``claim``'s lease from now, if it still holds the key."""
        self.renew_now(claim)

    # The synchronous core: no await inside, so a claim is atomic on the event loop.

    def claim_now(self, key: str) -> Claim:
        """:meth:`claim` without the coroutine."""
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and entry[1] > now:
            return Claim(key, ClaimState.DONE if entry[0] == "" else ClaimState.IN_PROGRESS)
        token = secrets.token_hex(8)
        self._entries[key] = (token, now + self.lease)
        self._entries.move_to_end(key)
        self._evict(now)
        return Claim(key, ClaimState.ACQUIRED, token)

    def commit_now(self, claim: Claim) -> None:
        """:meth:`commit` without the coroutine."""
        # Committed even if our lease lapsed meanwhile: the callback did run, so it is processed.
        self._entries[claim.key] = ("", self._clock() + self._ttl)
        self._entries.move_to_end(claim.key)
        self._evict(self._clock())

    def renew_now(self, claim: Claim) -> None:
        """:meth:`renew` without the coroutine."""
        entry = self._entries.get(claim.key)
        if entry is not None and entry[0] == claim.token and claim.token:
            self._entries[claim.key] = (claim.token, self._clock() + self.lease)

    def release_now(self, claim: Claim) -> None:
        """:meth:`release` without the coroutine."""
        entry = self._entries.get(claim.key)
        if entry is not None and entry[0] == claim.token and claim.token:
            del self._entries[claim.key]

    def _evict(self, now: float) -> None:
        while self._entries:
            oldest_key, (_, expires_at) = next(iter(self._entries.items()))
            if len(self._entries) <= self._max and expires_at > now:
                break
            del self._entries[oldest_key]
