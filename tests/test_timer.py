"""aioprintora._http._timer: attempt budgets on coalesced loop timers, on a real event loop.

Waits stay short: the coarse path runs with ``coarse_above=0.05`` and ticks of 0.05-0.2 s, so
a budget of 0.1-0.3 s rounds up to a shared tick just as a 30 s budget does to a whole second.
Budgets that must share a tick are entered while :func:`one_instant` holds the loop's clock
still, so a busy machine pausing the test between two entries cannot split them across ticks.
A coarse bucket left empty keeps its timer until its tick (``armed`` counts it, ``in_flight``
does not), so tests of the coarse path sleep :func:`past` its deadline to see it go.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from aioprintora._http._timer import AttemptTimers, Budget, _Bucket

from ._wait import until

pytestmark = pytest.mark.timeout(15)

TICK = 0.05
COARSE = 0.05
#: asyncio runs a timer once ``loop.time() + clock resolution`` reaches it, never sooner.
EARLY = time.get_clock_info("monotonic").resolution

needs_uncancel = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="Task.cancelling()/uncancel() arrived in 3.11"
)


def coarse(tick: float = TICK) -> AttemptTimers:
    return AttemptTimers(coarse_above=COARSE, tick=tick)


def live_timers(loop: asyncio.AbstractEventLoop) -> int:
    """Loop timers armed by any AttemptTimers and not cancelled (asyncio's own heap)."""
    scheduled: list[Any] = loop._scheduled  # type: ignore[attr-defined]
    return len(
        [
            handle
            for handle in scheduled
            if not handle.cancelled()
            and isinstance(getattr(handle._callback, "__self__", None), _Bucket)
        ]
    )


async def past(when: float | None) -> None:
    """Sleep until the loop's clock is past ``when``: every timer due by then has run."""
    assert when is not None
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, when - loop.time()) + 0.01)


def mid_tick(seconds: float, tick: float) -> float:
    """About ``seconds``, such that a budget entered now ends mid-tick, far from any rounding
    edge (used inside :func:`one_instant`, where "now" is every entry's reading)."""
    due = asyncio.get_running_loop().time() + seconds
    return seconds + (math.floor(due / tick) + 0.5) * tick - due


@contextlib.contextmanager
def one_instant() -> Iterator[None]:
    """Hold the loop's clock still for the block: every budget entered in it reads one time.

    Only zero-length waits belong inside (``sleep(0)``, a task's first step): a timer due
    meanwhile would wait for the clock to move again.
    """
    loop = asyncio.get_running_loop()
    now = loop.time()
    loop.time = lambda: now  # type: ignore[method-assign]
    try:
        yield
    finally:
        del loop.time


if sys.version_info >= (3, 11):

    def cancelling() -> int:
        """Cancellation requests pending on the current task."""
        task = asyncio.current_task()
        assert task is not None
        return task.cancelling()

else:

    def cancelling() -> int:
        return 0


async def sleep_in(budget: Budget, seconds: float = 5.0) -> None:
    """Sleep inside ``budget`` (by default far longer than any budget here)."""
    with budget:
        await asyncio.sleep(seconds)


async def run_in(budget: Budget, work: Callable[[], Awaitable[object]]) -> None:
    """``await work()`` inside ``budget``."""
    with budget:
        await work()


async def suspended_inside(
    timers: AttemptTimers, seconds: float
) -> tuple[asyncio.Task[None], Budget]:
    """A task parked inside ``timers.budget(seconds)``, and its budget."""
    budget = timers.budget(seconds)
    task = asyncio.create_task(sleep_in(budget))
    await asyncio.sleep(0)  # its first step: in, and parked
    assert budget.when is not None
    return task, budget


# -- expiry --------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0.1, 0.03], ids=["coarse", "exact"])
async def test_expiry_raises_timeout_error_and_the_task_goes_on(seconds: float) -> None:
    timers = coarse()
    loop = asyncio.get_running_loop()
    with pytest.raises(asyncio.TimeoutError) as caught:
        await sleep_in(timers.budget(seconds))
    assert caught.type is asyncio.TimeoutError  # the builtin TimeoutError on 3.11+
    assert isinstance(caught.value.__cause__, asyncio.CancelledError)
    assert cancelling() == 0  # the timer's cancellation was taken back: nothing lingers
    await asyncio.sleep(0.01)  # the task is not cancelled again
    assert timers.armed == 0
    assert live_timers(loop) == 0
    await sleep_in(timers.budget(1.0), 0)  # and the timers serve the next attempt


async def test_expiry_interrupts_a_chain_of_awaits() -> None:
    timers = coarse()

    async def read() -> None:
        for _ in range(5000):
            await asyncio.sleep(0.001)

    with pytest.raises(asyncio.TimeoutError):
        await run_in(timers.budget(0.1), read)
    assert cancelling() == 0


async def test_finishing_in_time_raises_nothing_and_the_timer_goes_at_its_tick() -> None:
    timers = coarse()
    loop = asyncio.get_running_loop()
    with timers.budget(0.2) as budget:
        assert (timers.in_flight, timers.armed, live_timers(loop)) == (1, 1, 1)
        await asyncio.sleep(0.01)
    bucket = budget._bucket
    # Left empty, the coarse bucket keeps its timer for whoever enters before its tick.
    assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 1, 1)
    assert (bucket.fired, bucket.handle.cancelled()) == (False, False)
    await past(budget.when)  # its tick: the timer ran, found nobody, and dropped the bucket
    assert bucket.fired
    assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 0, 0)
    assert cancelling() == 0  # and nothing happened to this task


async def test_finishing_in_time_on_an_exact_deadline_leaves_nothing() -> None:
    timers = coarse()
    loop = asyncio.get_running_loop()
    with timers.budget(0.04) as budget:  # not above coarse_above: exact
        assert (timers.in_flight, timers.armed, live_timers(loop)) == (1, 1, 1)
        await asyncio.sleep(0.01)
    assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 0, 0)
    assert budget._bucket.handle.cancelled()
    await past(budget.when)  # past the deadline: nothing happens to this task
    assert not budget._bucket.fired
    assert cancelling() == 0


@pytest.mark.parametrize("seconds", [0.2, 0.04], ids=["coarse", "exact"])
async def test_an_exception_inside_is_not_converted_and_the_timer_goes(seconds: float) -> None:
    timers = coarse()
    loop = asyncio.get_running_loop()

    async def fail() -> None:
        await asyncio.sleep(0)
        raise ValueError("boom")

    budget = timers.budget(seconds)
    with pytest.raises(ValueError, match="boom"):
        await run_in(budget, fail)
    assert timers.in_flight == 0
    if seconds > COARSE:  # kept until its tick
        assert (timers.armed, live_timers(loop)) == (1, 1)
        await past(budget.when)
        assert budget._bucket.fired
    assert (timers.armed, live_timers(loop)) == (0, 0)  # exact: gone at once
    assert cancelling() == 0


@pytest.mark.parametrize("seconds", [0, 0.0, -1.0, -math.inf])
async def test_no_time_left_raises_on_enter(seconds: float) -> None:
    timers = coarse()
    ran = []

    async def work() -> None:
        ran.append(True)

    with pytest.raises(asyncio.TimeoutError):
        await run_in(timers.budget(seconds), work)
    assert ran == []
    assert timers.armed == 0
    assert cancelling() == 0


async def test_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        await sleep_in(coarse().budget(math.nan))


async def test_an_infinite_budget_never_fires_and_leaves_nothing() -> None:
    timers = coarse()
    with timers.budget(math.inf) as budget:
        assert budget.when == math.inf
        assert timers.armed == 1
        await asyncio.sleep(0.01)
    assert timers.armed == 0
    assert live_timers(asyncio.get_running_loop()) == 0


# -- precision: never earlier, at most a tick later ------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "tick"),
    [(0.1, TICK), (0.17, TICK), (0.13, 0.2), (0.04, TICK), (0.02, TICK)],
    ids=["coarse", "coarse-odd", "coarse-big-tick", "exact", "exact-short"],
)
async def test_never_earlier_than_the_budget(seconds: float, tick: float) -> None:
    timers = coarse(tick)
    loop = asyncio.get_running_loop()
    budget = timers.budget(seconds)
    started = loop.time()
    with pytest.raises(asyncio.TimeoutError):
        await sleep_in(budget)
    ended = loop.time()
    assert budget.when is not None
    assert budget.when >= started + seconds
    assert ended - started >= seconds - EARLY
    assert ended >= budget.when - EARLY
    if seconds > COARSE:  # rounded up to a whole tick, by less than one tick
        assert budget.when < started + seconds + tick + 0.01  # (entered within 10 ms)
        assert math.isclose(budget.when / tick, round(budget.when / tick), abs_tol=1e-6)
    else:  # exact
        assert budget.when <= started + seconds + 0.01


@pytest.mark.parametrize("seconds", [5.000001, 5.5, 30.0, 59.999])
async def test_default_rounding_is_aiohttp_s_whole_second(seconds: float) -> None:
    timers = AttemptTimers()  # coarse above 5 s, 1 s tick
    loop = asyncio.get_running_loop()
    before = loop.time()
    with timers.budget(seconds) as budget:
        after = loop.time()
    assert budget.when is not None
    assert budget.when == int(budget.when)
    assert math.ceil(before + seconds) <= budget.when <= math.ceil(after + seconds)


async def test_up_to_the_threshold_deadlines_are_exact() -> None:
    timers = AttemptTimers()
    loop = asyncio.get_running_loop()
    before = loop.time()
    with timers.budget(5.0) as budget:  # not above coarse_above
        after = loop.time()
    assert budget.when is not None
    assert before + 5.0 <= budget.when <= after + 5.0


# -- coalescing ----------------------------------------------------------------------------


async def test_concurrent_attempts_share_one_loop_timer() -> None:
    timers = coarse(tick=0.2)
    loop = asyncio.get_running_loop()
    release = asyncio.Event()
    with one_instant():
        seconds = mid_tick(0.3, 0.2)
        budgets = [timers.budget(seconds) for _ in range(200)]
        tasks = [asyncio.create_task(run_in(budget, release.wait)) for budget in budgets]
        await asyncio.sleep(0)  # every task has entered, at one reading of the clock
    assert all(budget.when is not None for budget in budgets)
    assert len({id(budget._bucket) for budget in budgets}) == 1
    assert (timers.in_flight, timers.armed, live_timers(loop)) == (200, 1, 1)
    release.set()
    await asyncio.gather(*tasks)
    assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 1, 1)  # until its tick
    await past(budgets[0].when)
    assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 0, 0)


async def test_sequential_attempts_within_a_tick_reuse_one_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers = coarse(tick=0.2)
    loop = asyncio.get_running_loop()
    call_at = loop.call_at
    armed_at: list[float] = []  # the loop.call_at of every bucket made

    def counting_call_at(
        when: float, callback: Callable[..., object], *args: Any, **kwargs: Any
    ) -> asyncio.TimerHandle:
        if isinstance(getattr(callback, "__self__", None), _Bucket):
            armed_at.append(when)
        return call_at(when, callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", counting_call_at)
    buckets: list[_Bucket] = []
    with one_instant():  # all 50 attempts within one tick
        seconds = mid_tick(0.3, 0.2)
        for _ in range(50):  # one request at a time, as a client awaiting each response
            with timers.budget(seconds) as budget:
                assert (timers.in_flight, timers.armed, live_timers(loop)) == (1, 1, 1)
                await asyncio.sleep(0)
            buckets.append(budget._bucket)
            assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 1, 1)
    first = buckets[0]
    assert all(bucket is first for bucket in buckets)  # the same bucket, so the same handle
    assert not first.handle.cancelled()
    assert armed_at == [first.when]  # one loop timer for the 50 attempts
    await past(first.when)  # at its tick the bucket is dropped with its timer
    assert first.fired
    assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 0, 0)
    assert cancelling() == 0
    with timers.budget(seconds) as budget:  # the next attempt: a later tick, a new timer
        assert budget._bucket is not first
    assert budget.when is not None
    assert budget.when > first.when
    assert len(armed_at) == 2


async def test_concurrent_attempts_time_out_together() -> None:
    timers = coarse(tick=0.2)
    loop = asyncio.get_running_loop()
    outcomes: list[str] = []

    async def attempt(seconds: float) -> None:
        try:
            await sleep_in(timers.budget(seconds))
        except asyncio.TimeoutError:
            outcomes.append("timeout" if cancelling() == 0 else "lingering cancel")

    with one_instant():
        seconds = mid_tick(0.3, 0.2)
        tasks = [asyncio.create_task(attempt(seconds)) for _ in range(100)]
        await asyncio.sleep(0)  # every task has entered, at one reading of the clock
    assert timers.armed == 1
    assert live_timers(loop) == 1
    await asyncio.gather(*tasks)
    assert outcomes == ["timeout"] * 100
    assert timers.armed == 0
    assert live_timers(loop) == 0


async def test_distinct_ticks_get_distinct_timers_and_each_goes_at_its_tick() -> None:
    timers = coarse(tick=0.1)
    loop = asyncio.get_running_loop()
    with one_instant():
        first = mid_tick(0.2, 0.1)
        with timers.budget(first) as a, timers.budget(first + 0.1) as b, timers.budget(first):
            assert a.when is not None
            assert b.when is not None
            assert math.isclose(b.when, a.when + 0.1)
            assert (timers.in_flight, timers.armed, live_timers(loop)) == (3, 2, 2)
    assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 2, 2)
    await past(a.when)
    assert a._bucket.fired
    assert not b._bucket.fired
    assert (timers.armed, live_timers(loop)) == (1, 1)  # the later tick's, still armed
    await past(b.when)
    assert (timers.armed, live_timers(loop)) == (0, 0)
    assert cancelling() == 0


#: Coarse budgets of 0.10-0.22 s on ticks of 0.05 s: a bucket is armed from its first entry
#: until its tick, less than budget + tick later, so at most ceil(0.22 / 0.05) + 1 ticks ahead
#: have one, plus one for a tick due but not yet run by the loop.
FLAT_TICK = 0.05
FLAT_MOST = math.ceil(0.22 / FLAT_TICK) + 2


def flat_seconds(i: int) -> float:
    return 0.1 + (i % 7) * 0.02


async def test_memory_stays_flat_over_many_sequential_attempts() -> None:
    timers = coarse(tick=FLAT_TICK)
    loop = asyncio.get_running_loop()
    started = loop.time()
    most = attempts = 0
    deadlines: set[float] = set()
    while loop.time() < started + 6 * FLAT_TICK:  # over several ticks
        for _ in range(20):
            budget = timers.budget(flat_seconds(attempts))
            await sleep_in(budget, 0)
            assert budget.when is not None
            deadlines.add(budget.when)
            attempts += 1
            assert timers.in_flight == 0
            most = max(most, timers.armed, live_timers(loop))
        await asyncio.sleep(0.002)  # the clock moves on
    assert attempts > 200
    assert len(deadlines) > FLAT_MOST  # many ticks were used, and their buckets went
    assert 1 <= most <= FLAT_MOST
    await past(max(deadlines))
    assert (timers.armed, live_timers(loop)) == (0, 0)


async def test_memory_stays_flat_over_many_concurrent_attempts() -> None:
    timers = coarse(tick=FLAT_TICK)
    loop = asyncio.get_running_loop()
    deadlines: set[float] = set()

    async def attempt(i: int) -> None:
        budget = timers.budget(flat_seconds(i))
        await sleep_in(budget, 0)  # in, one loop step among the others, out
        assert budget.when is not None
        deadlines.add(budget.when)

    started = loop.time()
    rounds = 0
    while loop.time() < started + 6 * FLAT_TICK:  # over several ticks
        await asyncio.gather(*(attempt(i) for i in range(100)))
        rounds += 1
        assert timers.in_flight == 0
        assert 1 <= timers.armed <= FLAT_MOST
        assert live_timers(loop) <= FLAT_MOST
        await asyncio.sleep(0.002)  # the clock moves on
    assert rounds > 10
    assert len(deadlines) > FLAT_MOST
    await past(max(deadlines))
    assert (timers.armed, live_timers(loop)) == (0, 0)


async def test_sequential_exact_attempts_leave_nothing() -> None:
    timers = coarse()
    loop = asyncio.get_running_loop()
    for i in range(200):
        await sleep_in(timers.budget(0.01 + (i % 4) * 0.01), 0)  # all <= coarse_above
        assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 0, 0)


# -- a timer that fires after the block has left ---------------------------------------------


async def test_a_timer_firing_after_exit_leaves_the_task_alone() -> None:
    timers = coarse(tick=0.2)
    with one_instant():
        seconds = mid_tick(0.3, 0.2)
        stays, leaves = timers.budget(seconds), timers.budget(seconds)

        async def stay() -> None:  # keeps the shared bucket and its timer alive
            with pytest.raises(asyncio.TimeoutError):
                await sleep_in(stays)

        async def leave() -> None:
            await sleep_in(leaves, 0.01)
            await asyncio.sleep(seconds + 0.2)  # well past the shared deadline
            assert cancelling() == 0

        both = asyncio.gather(stay(), leave())
        await asyncio.sleep(0)  # both entered, at one reading of the clock
    await both
    assert stays._bucket is leaves._bucket
    assert stays._bucket.fired
    assert timers.armed == 0


async def test_an_idle_kept_bucket_fires_and_cancels_nothing() -> None:
    timers = coarse(tick=0.2)
    loop = asyncio.get_running_loop()

    async def leave(budget: Budget) -> int:
        await sleep_in(budget, 0.01)  # in and out, well before the deadline
        await past(budget.when)  # the kept bucket fires while this task waits outside it
        return cancelling()

    with one_instant():
        seconds = mid_tick(0.3, 0.2)
        budgets = [timers.budget(seconds) for _ in range(3)]
        tasks = [asyncio.create_task(leave(budget)) for budget in budgets]
        await asyncio.sleep(0)  # every task has entered, at one reading of the clock
    await until(lambda: timers.in_flight == 0, what="every task in and out")
    bucket = budgets[0]._bucket
    assert all(budget._bucket is bucket for budget in budgets)
    assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 1, 1)  # idle, kept
    assert await asyncio.gather(*tasks) == [0, 0, 0]  # no lingering cancel request either
    assert not any(task.cancelled() for task in tasks)
    assert bucket.fired
    assert (timers.armed, live_timers(loop)) == (0, 0)
    assert cancelling() == 0


async def test_a_stale_fire_does_nothing() -> None:
    timers = coarse()
    loop = asyncio.get_running_loop()
    with one_instant():  # both entries below round up to the same tick
        seconds = mid_tick(0.2, TICK)
        budget = timers.budget(seconds)
        await sleep_in(budget, 0)
        old = budget._bucket
        old.fire()  # early, as if its handle had run: the bucket goes, its handle stays armed
        assert timers.armed == 0
        # A new bucket for the same tick, with a task inside it, is undisturbed by the old one.
        task, again = await suspended_inside(timers, seconds)
        new = again._bucket
        assert new is not old
        assert new.when == old.when
        old.fire()  # stale: the old bucket fired already
        assert timers._buckets == {new.when: new}
        assert (timers.in_flight, timers.armed) == (1, 1)
    for _ in range(3):  # a cancel from the stale fire would have reached the task by now
        await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await past(old.when)  # both handles run at the tick: nothing left, nothing cancelled
    assert (timers.armed, live_timers(loop)) == (0, 0)
    assert cancelling() == 0


# -- outside cancellation ------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0.2, 0.03], ids=["coarse", "exact"])
async def test_an_outside_cancel_propagates(seconds: float) -> None:
    timers = coarse()
    loop = asyncio.get_running_loop()
    task, budget = await suspended_inside(timers, seconds)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert timers.in_flight == 0
    if seconds > COARSE:  # the coarse bucket stays until its tick, then goes
        assert (timers.armed, live_timers(loop)) == (1, 1)
        await past(budget.when)
        assert budget._bucket.fired
    assert (timers.armed, live_timers(loop)) == (0, 0)  # exact: at once


@needs_uncancel
@pytest.mark.parametrize("order", ["cancel, then timer", "timer, then cancel"])
async def test_an_outside_cancel_as_the_timer_fires_is_not_swallowed(order: str) -> None:
    timers = coarse()
    task, budget = await suspended_inside(timers, 0.2)
    bucket = budget._bucket
    # Both before the task runs again, in either order: the task must end cancelled.
    if order.startswith("cancel"):
        task.cancel()
        bucket.fire()
    else:
        bucket.fire()
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert timers.armed == 0


@needs_uncancel
async def test_an_outside_cancel_due_on_the_timer_s_own_tick_is_not_swallowed() -> None:
    timers = coarse()
    task, budget = await suspended_inside(timers, 0.2)
    assert budget.when is not None
    asyncio.get_running_loop().call_at(budget.when, task.cancel)  # the same loop iteration
    with pytest.raises(asyncio.CancelledError):
        await task
    assert budget._bucket.fired


@pytest.mark.skipif(sys.version_info >= (3, 11), reason="3.10 only: no Task.uncancel()")
async def test_on_3_10_a_coinciding_cancel_becomes_the_timeout() -> None:
    timers = coarse()
    task, budget = await suspended_inside(timers, 0.2)
    task.cancel()
    budget._bucket.fire()
    with pytest.raises(asyncio.TimeoutError):  # as aiohttp's TimerContext on 3.10
        await task


@needs_uncancel
async def test_a_budget_entered_while_being_cancelled_still_times_out() -> None:
    timers = coarse()

    async def attempt() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            # Cleaning up after a cancel, within a budget (cancelling() == 1 at enter) that
            # then expires: the cleanup timed out, and says so.
            await sleep_in(timers.budget(0.1))
            raise

    task = asyncio.create_task(attempt())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.TimeoutError):
        await task


async def test_wait_for_outside_a_longer_budget_gives_wait_for_s_timeout() -> None:
    timers = coarse()
    budget = timers.budget(0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(sleep_in(budget), 0.02)
    assert loop.time() - started < 0.3  # wait_for's, not ours
    bucket = budget._bucket
    assert (bucket.fired, bucket.handle.cancelled()) == (False, False)  # kept, idle, till its tick
    assert (timers.in_flight, timers.armed, live_timers(loop)) == (0, 1, 1)
    assert cancelling() == 0
    await past(budget.when)
    assert bucket.fired
    assert (timers.armed, live_timers(loop)) == (0, 0)
    assert cancelling() == 0  # its firing did not reach this task


async def test_wait_for_inside_a_budget_keeps_its_own_timeout() -> None:
    timers = coarse()
    with timers.budget(0.3) as budget:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.sleep(5), 0.02)
        await asyncio.sleep(0)  # still inside, nothing cancelled
    assert (budget._bucket.fired, timers.in_flight, timers.armed) == (False, 0, 1)  # kept
    await past(budget.when)
    assert budget._bucket.fired
    assert timers.armed == 0
    assert cancelling() == 0


@needs_uncancel
async def test_a_swallowed_expiry_is_still_taken_back() -> None:
    timers = coarse()

    async def swallow() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return  # a misbehaving library ate the cancellation

    budget = timers.budget(0.1)
    await run_in(budget, swallow)  # no TimeoutError: nothing came out of the block
    assert budget._bucket.fired
    assert cancelling() == 0  # as asyncio.timeout: our cancel request is withdrawn anyway


async def test_another_exception_after_expiry_is_not_converted() -> None:
    timers = coarse()

    async def convert() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError as exc:
            raise ValueError("instead") from exc  # a library that turns cancellation into its own

    budget = timers.budget(0.1)
    with pytest.raises(ValueError, match="instead") as caught:
        await run_in(budget, convert)
    assert budget._bucket.fired
    assert isinstance(caught.value.__cause__, asyncio.CancelledError)
    assert cancelling() == 0


# -- nesting -------------------------------------------------------------------------------


async def test_nested_budgets_the_inner_expires_first() -> None:
    timers = coarse()
    with timers.budget(0.3) as outer:
        with pytest.raises(asyncio.TimeoutError):
            await sleep_in(timers.budget(0.03))
        await asyncio.sleep(0.01)  # the outer block goes on
    assert not outer._bucket.fired
    assert cancelling() == 0


async def test_nested_budgets_on_the_same_tick_raise_one_timeout() -> None:
    timers = coarse(tick=0.2)
    with one_instant():
        seconds = mid_tick(0.3, 0.2)
        outer, inner = timers.budget(seconds), timers.budget(seconds)
        nested = asyncio.ensure_future(run_in(outer, lambda: sleep_in(inner)))
        await asyncio.sleep(0)  # both entered, at one reading of the clock
    with pytest.raises(asyncio.TimeoutError):
        await nested
    assert inner._bucket is outer._bucket
    assert cancelling() == 0


@needs_uncancel
async def test_inside_and_around_asyncio_timeout() -> None:
    timers = coarse()
    timeout: Callable[[float], Any] = asyncio.timeout  # type: ignore[attr-defined,unused-ignore]

    async def ours_inside() -> None:
        async with timeout(0.02):
            await sleep_in(budget)

    budget = timers.budget(0.3)
    with pytest.raises(asyncio.TimeoutError):  # asyncio's expires first: ours lets it through
        await ours_inside()
    assert not budget._bucket.fired

    async def asyncio_s_inside() -> None:
        async with timeout(5):
            await asyncio.sleep(5)

    budget = timers.budget(0.03)
    with pytest.raises(asyncio.TimeoutError):  # ours first
        await run_in(budget, asyncio_s_inside)
    assert budget._bucket.fired
    assert cancelling() == 0


# -- where it may be used ------------------------------------------------------------------


async def test_outside_a_task_is_a_runtime_error() -> None:
    timers = coarse()
    loop = asyncio.get_running_loop()
    raised: asyncio.Future[BaseException] = loop.create_future()

    def callback() -> None:
        try:
            timers.budget(1.0).__enter__()
        except RuntimeError as exc:
            raised.set_result(exc)

    loop.call_soon(callback)
    assert "inside a task" in str(await raised)


def test_without_a_running_loop_is_a_runtime_error() -> None:
    budget = coarse().budget(1.0)
    with pytest.raises(RuntimeError):
        budget.__enter__()


def _leave_inside(loop: asyncio.AbstractEventLoop, timers: AttemptTimers) -> None:
    """Enter a budget on ``loop`` and never leave it (a bucket stays, its timer armed)."""

    async def enter() -> None:
        timers.budget(30.0).__enter__()

    loop.run_until_complete(enter())


async def _use_and_count(timers: AttemptTimers, seconds: float = 1.0) -> tuple[int, int]:
    """One coarse attempt, in and out: then ``(in_flight, armed)``, (0, 1) until its tick."""
    await sleep_in(timers.budget(seconds), 0)
    return timers.in_flight, timers.armed


def test_another_loop_is_refused_while_budgets_are_in_flight() -> None:
    timers = coarse()
    first = asyncio.new_event_loop()
    try:
        _leave_inside(first, timers)
        with pytest.raises(RuntimeError, match="another event loop"):
            asyncio.run(_use_and_count(timers))
    finally:
        first.close()
    assert (timers.in_flight, timers.armed) == (1, 1)  # the one left inside
    # The first loop is closed: its buckets can never fire and are forgotten; a new loop may.
    assert asyncio.run(_use_and_count(timers)) == (0, 1)  # only the new loop's, idle


def test_a_new_loop_is_adopted_once_the_old_has_nothing_in_flight() -> None:
    timers = coarse()
    for _ in range(3):
        # A fresh loop each time: the old one is closed, its idle bucket forgotten.
        assert asyncio.run(_use_and_count(timers)) == (0, 1)


def test_an_idle_bucket_on_an_open_loop_does_not_hold_the_timers() -> None:
    timers = coarse()
    first = asyncio.new_event_loop()
    second = asyncio.new_event_loop()
    try:
        assert first.run_until_complete(_use_and_count(timers, 0.1)) == (0, 1)
        old = next(iter(timers._buckets.values()))
        assert not first.is_closed()
        # Nothing in flight on the first loop, only its kept bucket: the second loop may.
        assert second.run_until_complete(_use_and_count(timers, 0.1)) == (0, 1)
        new = next(iter(timers._buckets.values()))
        assert new is not old
        # The first loop's bucket fires at its tick, into its own (forgotten) table only.
        first.run_until_complete(asyncio.sleep(old.when - first.time() + 0.01))
        assert old.fired
        assert timers._buckets == {new.when: new}
        assert not new.fired
    finally:
        first.close()
        second.close()


def test_two_loops_in_two_threads_one_after_the_other() -> None:
    timers = coarse()
    outcomes: list[str] = []

    async def attempt() -> None:
        try:
            await sleep_in(timers.budget(0.03))
        except asyncio.TimeoutError:
            outcomes.append("timeout")

    for _ in range(2):
        thread = threading.Thread(target=asyncio.run, args=(attempt(),))
        thread.start()
        thread.join(5)
    assert outcomes == ["timeout", "timeout"]


# -- the object itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs", [{"coarse_above": -1.0}, {"coarse_above": math.nan}, {"tick": 0.0}, {"tick": -1.0}]
)
def test_bad_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        AttemptTimers(**kwargs)


def test_an_infinite_tick_is_refused() -> None:
    with pytest.raises(ValueError, match="tick"):
        AttemptTimers(tick=math.inf)


async def test_repr_and_slots() -> None:
    timers = AttemptTimers()
    budget = timers.budget(30.0)
    assert repr(timers) == "AttemptTimers(coarse_above=5.0, tick=1.0, armed=0)"
    assert budget.when is None
    assert "when=None" in repr(budget)
    with budget:
        assert "armed=1" in repr(timers)
        assert f"when={budget.when!r}" in repr(budget)
    for obj in (timers, budget, budget._bucket):
        assert not hasattr(obj, "__dict__")
