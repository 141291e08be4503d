"""Attempt timers: CPU per enter+exit of one budget, ours beside aiohttp's and asyncio's.

``python -m benchmarks.bench_timer [--n N] [--rounds R]``. Everything runs inside one task of a
running loop. Each row is timed over ``N`` enter+exit pairs (in batches of 1,000, the loop
turned between batches so cancelled timer handles are purged as in real use), the best of
``R`` interleaved rounds, minus an empty loop of the same shape:

- ``AttemptTimers`` coarse path (30 s budget, 1 s tick) while another block holds the tick's
  bucket: the steady state under load (a dict lookup and a set add/discard);
- the same alone: every attempt arms and cancels the tick's timer (bucket churn);
- ``AttemptTimers`` exact path (2 s budget): a bucket and a timer per attempt;
- ``asyncio.timeout(30)`` (3.11+), ``async with`` around nothing;
- aiohttp's per-request timeout as ``ClientSession._request`` runs it:
  ``TimeoutHandle(loop, 30, ceil_threshold=5)``, ``.start()``, ``.timer()`` entered and left,
  the handle cancelled;
- the same with ``total=None`` (``start()`` returns None, ``timer()`` a ``TimerNoop``): what
  aiohttp still spends when the budget is ours;
- aiohttp's ``TimerContext`` entered again, as aiohttp does around the wait for the response
  head and around every wait for body data, and the ``TimerNoop`` it uses instead with
  ``total=None``.

Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

from aiohttp.helpers import TimeoutHandle

from aioprintora._http._timer import AttemptTimers

from ._report import fmt, table

BATCH = 1000

Row = Callable[[int], Awaitable[int]]


async def _empty(n: int) -> int:
    t0 = time.perf_counter_ns()
    for _ in range(n):
        pass
    return time.perf_counter_ns() - t0


def _ours(seconds: float, *, shared: bool) -> Row:
    timers = AttemptTimers()

    async def run(n: int) -> int:
        holder = timers.budget(seconds)
        if shared:
            holder.__enter__()
        budget = timers.budget
        t0 = time.perf_counter_ns()
        for _ in range(n):
            with budget(seconds):
                pass
        elapsed = time.perf_counter_ns() - t0
        if shared:
            holder.__exit__(None, None, None)
        return elapsed

    return run


async def _asyncio_timeout(n: int) -> int:
    timeout = asyncio.timeout  # type: ignore[attr-defined,unused-ignore]
    t0 = time.perf_counter_ns()
    for _ in range(n):
        async with timeout(30):
            pass
    return time.perf_counter_ns() - t0


def _aiohttp(total: float | None) -> Row:
    async def run(n: int) -> int:
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            tm = TimeoutHandle(loop, total, ceil_threshold=5)
            handle = tm.start()
            with tm.timer():
                pass
            if handle is not None:
                handle.cancel()
        return time.perf_counter_ns() - t0

    return run


def _aiohttp_reentry(total: float | None) -> Row:
    async def run(n: int) -> int:
        tm = TimeoutHandle(asyncio.get_running_loop(), total, ceil_threshold=5)
        timer = tm.timer()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            with timer:
                pass
        elapsed = time.perf_counter_ns() - t0
        tm.close()
        return elapsed

    return run


async def _time(row: Row, n: int) -> float:
    """ns per iteration over ``n`` iterations, in batches with a loop turn between them."""
    total = 0
    for _ in range(n // BATCH):
        total += await row(BATCH)
        await asyncio.sleep(0)
    return total / (n // BATCH * BATCH)


async def _measure(n: int, rounds: int) -> list[tuple[str, float]]:
    rows: dict[str, Row] = {
        "AttemptTimers coarse (30 s), bucket shared": _ours(30.0, shared=True),
        "AttemptTimers coarse (30 s), alone (timer armed+cancelled)": _ours(30.0, shared=False),
        "AttemptTimers exact (2 s)": _ours(2.0, shared=False),
    }
    if sys.version_info >= (3, 11):
        rows["asyncio.timeout(30)"] = _asyncio_timeout
    rows["aiohttp TimeoutHandle(30) + start + timer + cancel"] = _aiohttp(30.0)
    rows["aiohttp TimeoutHandle(None) + start + timer (total=None)"] = _aiohttp(None)
    rows["aiohttp TimerContext entered again (each head/body wait)"] = _aiohttp_reentry(30.0)
    rows["aiohttp TimerNoop entered again (total=None)"] = _aiohttp_reentry(None)
    best = dict.fromkeys(rows, float("inf"))
    empty = float("inf")
    for _ in range(rounds):
        empty = min(empty, await _time(_empty, n))
        for name, row in rows.items():
            best[name] = min(best[name], await _time(row, n))
    return [(name, value - empty) for name, value in best.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="enter+exit pairs per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    results = asyncio.run(_measure(args.n, args.rounds))
    reference = dict(results)["aiohttp TimeoutHandle(30) + start + timer + cancel"]
    print(
        table(
            f"Attempt timers: ns per enter+exit (best of {args.rounds} x {args.n:,})",
            ["what", "ns", "vs aiohttp total=30"],
            [(name, fmt(ns), f"{ns / reference:.2f}x") for name, ns in results],
        )
    )


if __name__ == "__main__":
    main()
