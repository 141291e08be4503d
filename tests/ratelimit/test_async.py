"""The async shell of RateLimiter: FIFO service, cancellation, no busy polling, shared use."""

from __future__ import annotations

import asyncio
import time

from aioprintora.ratelimit._local import Limiter, RateLimiter, Window

from .helpers import ManualTime, VirtualTime, max_in_any_interval


def test_rate_limiter_satisfies_the_limiter_protocol() -> None:
    assert isinstance(RateLimiter(), Limiter)


async def test_waiters_are_served_in_arrival_order_with_staggered_arrivals() -> None:
    limiter = RateLimiter([Window(2, 0.04)])
    served: list[int] = []

    async def call(i: int) -> None:
        await limiter.acquire()
        served.append(i)

    tasks = []
    for i in range(16):
        tasks.append(asyncio.create_task(call(i)))
        await asyncio.sleep(0.004)
    await asyncio.gather(*tasks)
    assert served == list(range(16))


async def test_a_newcomer_does_not_overtake_a_sleeping_head() -> None:
    time_ = ManualTime()
    limiter = RateLimiter([Window(1, 1.0)], clock=time_.clock, sleep=time_.sleep)
    served: list[str] = []

    async def call(name: str) -> None:
        await limiter.acquire()
        served.append(name)

    await call("a")
    b = asyncio.create_task(call("b"))
    await asyncio.sleep(0)
    time_.now += 1.001  # b's token is due, but b has not woken up yet
    c = asyncio.create_task(call("c"))
    await asyncio.sleep(0)
    assert served == ["a"]  # c queued behind b instead of taking the free token
    await time_.advance(0.0)
    assert served == ["a", "b"]
    await time_.advance(1.01)
    await asyncio.gather(b, c)
    assert served == ["a", "b", "c"]


async def test_cancelling_100_waiters_leaks_no_tokens() -> None:
    time_ = ManualTime()
    limiter = RateLimiter([Window(5, 10.0)], clock=time_.clock, sleep=time_.sleep)
    for _ in range(5):
        await limiter.acquire()
    waiters = [asyncio.create_task(limiter.acquire()) for _ in range(100)]
    await asyncio.sleep(0)
    assert len(time_.sleepers) == 1  # only the head of the line sleeps
    for task in waiters:
        task.cancel()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert limiter.remaining(time_.now) == (0,)
    time_.now += 10.0
    assert limiter.remaining(time_.now) == (5,)  # all five came back: none went to a cancelled task
    for _ in range(5):
        assert limiter.try_acquire(time_.now) == 0.0
    assert limiter.try_acquire(time_.now) > 0.0


async def test_cancelling_the_head_hands_the_turn_to_the_next_waiter() -> None:
    time_ = ManualTime()
    limiter = RateLimiter([Window(1, 1.0)], clock=time_.clock, sleep=time_.sleep)
    await limiter.acquire()
    head = asyncio.create_task(limiter.acquire())
    second = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    assert len(time_.sleepers) == 1
    head.cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert head.cancelled()
    assert len(time_.sleepers) == 1  # the second waiter took over the sleep
    await time_.advance(1.001)
    await asyncio.wait_for(second, 1.0)
    assert limiter.remaining(time_.now) == (0,)  # exactly one token went: the second waiter's


async def test_no_busy_polling_each_wait_is_one_exact_sleep() -> None:
    time_ = VirtualTime(start=0.0)
    limiter = RateLimiter([Window(3, 1.0)], clock=time_.clock, sleep=time_.sleep)
    grants = []
    for _ in range(12):
        await limiter.acquire()
        grants.append(time_.now)
    assert len(time_.sleeps) == 3  # one sleep per refill, never a poll
    assert all(abs(s - 1.0) < 1e-5 for s in time_.sleeps)
    assert max_in_any_interval(grants, 1.0) == 3


async def test_no_busy_polling_on_the_real_loop() -> None:
    sleeps: list[float] = []

    async def counting_sleep(delay: float) -> None:
        sleeps.append(delay)
        await asyncio.sleep(delay)

    limiter = RateLimiter([Window(2, 0.05)], sleep=counting_sleep)
    started = time.monotonic()
    await asyncio.gather(*(limiter.acquire() for _ in range(10)))
    assert time.monotonic() - started >= 0.2 - 0.01  # 10 grants need 4 refills
    assert 4 <= len(sleeps) <= 8  # a sleep per refill (a timer may fire a hair early, once)


async def test_many_tasks_and_clients_share_one_limiter() -> None:
    time_ = VirtualTime(start=0.0)
    limiter = RateLimiter([Window(4, 1.0), Window(10, 5.0)], clock=time_.clock, sleep=time_.sleep)
    grants: list[tuple[int, float]] = []

    async def client(ident: int) -> None:
        for _ in range(6):
            await limiter.acquire()
            grants.append((ident, time_.now))

    await asyncio.gather(*(client(i) for i in range(5)))
    times = sorted(t for _, t in grants)
    assert len(times) == 30
    assert max_in_any_interval(times, 1.0) == 4
    assert max_in_any_interval(times, 5.0) == 10


async def test_observe_pauses_waiters_already_in_line() -> None:
    time_ = ManualTime(start=0.0)
    limiter = RateLimiter([Window(1, 1.0), Window(100, 10.0)], clock=time_.clock, sleep=time_.sleep)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    await limiter.observe(429, {"Retry-After": "3"})
    await time_.advance(1.001)  # its window token is due, but the pause holds it back
    assert not waiter.done()
    assert len(time_.sleepers) == 1  # it went back to sleep once, until the pause ends
    await time_.advance(2.0)
    await asyncio.wait_for(waiter, 1.0)
