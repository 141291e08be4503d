"""Attempt time budgets on coalesced loop timers: one timer per deadline tick, not per request.

Why: aiohttp's per-request total timeout costs a ``TimeoutHandle``, a ``TimerContext`` and a
``loop.call_at`` (a heap push, later a cancel) for every request, about 8 µs of CPU. A client
sending thousands of requests a second, each with the same budget, arms thousands of timers that
all mean "this second + 30".

How: a budget longer than ``coarse_above`` seconds (5 s, aiohttp's own ``ceil_threshold``) has
its deadline rounded UP to a whole ``tick`` (1 s) of ``loop.time()``, as aiohttp already does
above its threshold. Every budget with the same rounded deadline joins one bucket, which owns
the one ``loop.call_at`` handle of that deadline: entering a budget is a dict lookup and a set
add, leaving it a set discard. When the bucket's timer fires, every task still inside one of its
budgets is cancelled and its block raises ``asyncio.TimeoutError``. A coarse bucket left empty
keeps its timer until its tick, which then drops it: a client sending one request at a time arms
one timer per tick, not one per request, and memory stays flat (at most one bucket per tick of
the longest budget). Budgets of ``coarse_above`` seconds or less keep exact deadlines (a bucket
each, shared only by an identical deadline), dropped with their timer when left.

Precision: an attempt never times out before its budget, and at most one ``tick`` (plus the
loop's own lag) after it: what aiohttp gives today.

As seen from inside the block, a budget behaves as ``asyncio.timeout`` and aiohttp's
``TimerContext``: the block raises :class:`asyncio.TimeoutError` (the builtin :class:`TimeoutError`
on 3.11+) when its time is up; a cancellation from outside propagates as
:class:`asyncio.CancelledError`, even one that arrives as the timer fires (``task.cancelling()``
at enter, ``task.uncancel()`` at exit, as aiohttp does). Python 3.10 has neither, so there, as
in aiohttp, an outside cancellation that coincides with the timer becomes the TimeoutError.

One event loop at a time and not thread-safe, like the loop itself.
"""

from __future__ import annotations

import math
import sys
from asyncio import AbstractEventLoop, CancelledError, current_task, get_running_loop
from asyncio import TimeoutError as _TimeoutError  # the builtin on 3.11+, its own class on 3.10
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, cast

if TYPE_CHECKING:
    from asyncio import Task, TimerHandle

__all__ = ["AttemptTimers", "Budget"]

_ceil = math.ceil
#: ``Task.cancelling()``/``uncancel()`` exist (3.11+); a constant, so the hot path pays no more.
_UNCANCEL: Final = sys.version_info >= (3, 11)
#: The loop of timers never used: no task is current in it, so the first enter takes the slow
#: path. (``asyncio.current_task(None)`` would look the running loop up, at a syscall's cost.)
_NO_LOOP: Final = cast("AbstractEventLoop", object())


class AttemptTimers:
    """Attempt budgets, coalesced: every attempt due in the same tick shares one loop timer.

    Args:
        coarse_above: budgets longer than this many seconds get their deadline rounded up to a
            whole ``tick`` and share that tick's timer; shorter ones keep exact deadlines.
        tick: the rounding step of coarse deadlines, in seconds of ``loop.time()``.
    """

    __slots__ = ("_buckets", "_coarse_above", "_loop", "_tick")

    def __init__(self, coarse_above: float = 5.0, tick: float = 1.0) -> None:
        if not coarse_above >= 0:
            raise ValueError(f"coarse_above must be >= 0, not {coarse_above!r}")
        if not 0 < tick < math.inf:
            raise ValueError(f"tick must be a positive number of seconds, not {tick!r}")
        self._coarse_above = coarse_above
        self._tick = tick
        self._loop = _NO_LOOP
        #: Deadline (``loop.time()`` seconds) -> its bucket; only buckets with members.
        self._buckets: dict[float, _Bucket] = {}

    def budget(self, seconds: float) -> Budget:
        """A budget of ``seconds`` for one attempt: ``with timers.budget(s): await ...``.

        The clock starts when the block is entered. Each budget is entered once.
        """
        return Budget(self, seconds)

    @property
    def armed(self) -> int:
        """Loop timers armed now: one per distinct deadline with a block still inside it, and
        coarse ones left empty until their tick."""
        return len(self._buckets)

    @property
    def in_flight(self) -> int:
        """Blocks inside a budget now."""
        return sum(len(bucket.members) for bucket in self._buckets.values())

    def _task(self) -> Task[Any]:
        """The slow path of enter: the running loop's task, the loop adopted if it is new.

        Raises:
            RuntimeError: no running loop, not inside a task, or budgets still in flight on
                another loop that is not closed.
        """
        loop = get_running_loop()
        task = current_task(loop)
        if task is None:
            raise RuntimeError("an attempt budget must be used inside a task")
        old = self._loop
        if loop is not old:
            if self.in_flight and old is not _NO_LOOP and not old.is_closed():
                raise RuntimeError(
                    "these AttemptTimers have budgets in flight on another event loop; "
                    "use one AttemptTimers per loop"
                )
            self._loop = loop
            self._buckets = {}  # a closed loop's buckets can never fire: forget them
        return task

    def __repr__(self) -> str:
        return (
            f"AttemptTimers(coarse_above={self._coarse_above!r}, tick={self._tick!r}, "
            f"armed={len(self._buckets)})"
        )


class _Bucket:
    """The blocks that share one deadline, and the one loop timer that ends them."""

    __slots__ = ("buckets", "fired", "handle", "keep", "members", "when")

    def __init__(
        self, buckets: dict[float, _Bucket], when: float, loop: AbstractEventLoop, keep: bool
    ) -> None:
        self.buckets = buckets
        self.when = when
        #: Kept, empty, until its tick (a coarse deadline, shared by whoever enters next).
        self.keep = keep
        self.members: set[Budget] = set()
        self.fired = False
        self.handle: TimerHandle = loop.call_at(when, self.fire)

    def fire(self) -> None:
        """The deadline: cancel every task still inside; their blocks raise TimeoutError."""
        self.fired = True
        if self.buckets.get(self.when) is self:
            del self.buckets[self.when]
        members = self.members
        for member in members:  # cancel() only schedules: nothing leaves the set meanwhile
            member._task.cancel()
        members.clear()


class Budget:
    """One attempt's budget: a sync context manager made by :meth:`AttemptTimers.budget`."""

    __slots__ = ("_bucket", "_cancelling", "_seconds", "_task", "_timers")

    _bucket: _Bucket
    _task: Task[Any]
    _cancelling: int

    def __init__(self, timers: AttemptTimers, seconds: float) -> None:
        self._timers = timers
        self._seconds = seconds

    def __enter__(self) -> Budget:
        timers = self._timers
        loop = timers._loop
        # As aiohttp's TimerContext: the task current in our loop (no running-loop lookup).
        task = current_task(loop)
        if task is None:
            task = timers._task()
            loop = timers._loop
        seconds = self._seconds
        if seconds > timers._coarse_above:
            tick = timers._tick
            try:
                # Up to a whole tick: never earlier than the budget (to the float's last bit,
                # below the loop's clock resolution).
                when = _ceil((loop.time() + seconds) / tick) * tick
            except OverflowError:  # an infinite budget: a timer that never fires
                when = math.inf
        elif seconds > 0:
            when = loop.time() + seconds
        elif math.isnan(seconds):
            raise ValueError("an attempt budget of NaN seconds")
        else:
            raise _TimeoutError
        buckets = timers._buckets
        bucket = buckets.get(when)
        if bucket is None:
            keep = seconds > timers._coarse_above and when != math.inf
            bucket = buckets[when] = _Bucket(buckets, when, loop, keep)
        bucket.members.add(self)
        self._bucket = bucket
        self._task = task
        if _UNCANCEL:
            self._cancelling = task.cancelling()  # type: ignore[attr-defined,unused-ignore]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        bucket = self._bucket
        if not bucket.fired:
            members = bucket.members
            members.discard(self)
            if not members and not bucket.keep:
                bucket.handle.cancel()
                del bucket.buckets[bucket.when]
            return
        # The timer cancelled this task: take that cancellation back, and turn the
        # CancelledError into TimeoutError unless someone else cancelled the task too.
        if sys.version_info >= (3, 11):
            if self._task.uncancel() <= self._cancelling and exc_type is CancelledError:
                raise _TimeoutError from exc
        elif exc_type is CancelledError:
            raise _TimeoutError from exc

    @property
    def when(self) -> float | None:
        """The deadline in ``loop.time()`` seconds, once entered."""
        bucket: _Bucket | None = getattr(self, "_bucket", None)
        return None if bucket is None else bucket.when

    def __repr__(self) -> str:
        return f"<Budget seconds={self._seconds!r} when={self.when!r}>"
