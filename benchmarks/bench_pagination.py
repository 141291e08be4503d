"""Streaming 10,000 orders: read-ahead on vs off, page size 100 vs 20, at 20 ms per request.

The sandbox runs in a child process and delays every answer by 20 ms (its ``delay`` fault),
standing in for a network round trip. Two consumers:

- *idle*: does nothing with each order, so the walk is bound by round trips alone;
- *batching*: awaits 20 ms of I/O per 100 orders (a database write of each batch), the case
  read-ahead exists for: the next page is in flight while the batch is written.

Run alone: ``python -m benchmarks.bench_pagination [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import attrs

from aioprintora import PrintoraClient

from ._report import fmt, median, ratio, table
from ._sandbox_proc import RemoteSandbox, remote_sandbox, set_latency

ORDERS = 10_000
LATENCY = 0.02
BATCH, BATCH_IO = 100, 0.02


@attrs.frozen
class Case:
    """One way of walking the listing."""

    page_size: int
    read_ahead: bool
    batching: bool

    def label(self) -> str:
        consumer = f"batching ({BATCH_IO * 1000:.0f} ms per {BATCH})" if self.batching else "idle"
        return f"page {self.page_size}, {consumer}, read-ahead {'on' if self.read_ahead else 'off'}"


async def walk(sandbox: RemoteSandbox, case: Case) -> tuple[float, int]:
    """Stream every order once; (seconds, requests made)."""
    async with PrintoraClient(sandbox.api_key, base_url=sandbox.base_url, rate_limit=None) as c:
        pager = c.orders.iter(page_size=case.page_size, read_ahead=case.read_ahead)
        seen = 0
        started = time.perf_counter()
        async for _order in pager:
            seen += 1
            if case.batching and seen % BATCH == 0:
                await asyncio.sleep(BATCH_IO)
        elapsed = time.perf_counter() - started
    if seen != sandbox.orders:
        raise RuntimeError(f"streamed {seen} orders, expected {sandbox.orders}")
    return elapsed, pager.stats.pages


async def measure(
    cases: list[Case], once: list[Case], repeat: int
) -> dict[Case, tuple[float, int]]:
    """Median seconds and requests per case; runs interleaved so drift hits every case alike.

    ``once`` cases run a single time: at page 20 a walk takes ~12 s, and the runner must stay
    within its time budget.
    """
    times: dict[Case, list[float]] = {case: [] for case in cases + once}
    pages: dict[Case, int] = {}
    async with remote_sandbox(ORDERS) as sandbox:
        await set_latency(sandbox, LATENCY)
        for round_ in range(repeat):
            for case in cases + (once if round_ == 0 else []):
                elapsed, pages[case] = await walk(sandbox, case)
                times[case].append(elapsed)
    return {case: (median(times[case]), pages[case]) for case in times}


def _row(case: Case, result: tuple[float, int], baseline: float) -> list[object]:
    seconds, requests = result
    return [
        case.label(),
        requests,
        fmt(seconds),
        fmt(ORDERS / seconds),
        ratio(baseline, seconds),
    ]


async def run(repeat: int = 2) -> str:
    """Every table of this benchmark, as Markdown.

    Args:
        repeat: runs per case (the median is reported).
    """
    pairs = [Case(100, False, False), Case(100, True, False)]
    pairs += [Case(100, False, True), Case(100, True, True)]
    small = [Case(20, False, False), Case(20, True, False)]
    results = await measure(pairs, small, repeat)
    headers = ["case", "requests", "seconds", "orders/s", "speed-up vs baseline"]
    readahead_rows = []
    for off, on in (pairs[0:2], pairs[2:4]):
        base = results[off][0]
        readahead_rows += [_row(off, results[off], base), _row(on, results[on], base)]
    base = results[pairs[1]][0]
    size_rows = [_row(pairs[1], results[pairs[1]], base)]
    size_rows += [_row(case, results[case], base) for case in small]
    note = f"{ORDERS:,} orders, {LATENCY * 1000:.0f} ms per request"
    return (
        table(
            f"Read-ahead on vs off (baseline: read-ahead off; {note}; median of {repeat})",
            headers,
            readahead_rows,
        )
        + "\n"
        + table(
            f"Page size 100 vs 20 (baseline: page 100, read-ahead on; {note}; page 20 runs once)",
            headers,
            size_rows,
        )
    )


def main() -> None:
    """Print this benchmark's tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    print(asyncio.run(run(parser.parse_args().repeat)))


if __name__ == "__main__":
    main()
