"""Incremental ``OrderSync`` on 100,000 orders: requests per run beside a full walk.

The sandbox holds 100,000 orders: 98,000 of history, all terminal (95% delivered, 5%
cancelled), spread over the weeks before; then the newest 2,000, of which 500 are in flight
(100 pending, 120 paid, 100 processing, 180 shipped), the younger the order the earlier its
status, the rest delivered (1,450) or cancelled (50). Between runs an hour passes, 50 new
pending orders arrive and 100 in-flight orders move one or more steps on (some to delivered or
cancelled). Each run is checked: it yields exactly the 150 new or changed orders.

Run alone: ``python -m benchmarks.bench_sync [--runs N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from aioprintora import PrintoraClient
from aioprintora.sandbox import Sandbox
from aioprintora.sync import OrderSync

from ._report import fmt, table

HISTORY, RECENT = 98_000, 2_000
IN_FLIGHT = {"pending": 100, "paid": 120, "processing": 100, "shipped": 180}
TERMINAL_RECENT = {"delivered": 1_450, "cancelled": 50}
NEW, MOVES = 50, 100
NEXT = {"pending": "paid", "paid": "processing", "processing": "shipped", "shipped": "delivered"}
PER_MINUTE = 60


class Clock:
    """The sandbox's wall clock, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time() - 60 * 86_400

    def __call__(self) -> float:
        return self.now


def _recent_statuses(rng: random.Random) -> list[str]:
    """Oldest first: shipped and terminal orders older, pending the newest."""
    terminal = [s for s, n in TERMINAL_RECENT.items() for _ in range(n)]
    rng.shuffle(terminal)
    out: list[str] = []
    for status in ("shipped", "processing", "paid", "pending"):  # oldest segment first
        segment = [status] * IN_FLIGHT[status] + terminal[: len(terminal) // 4 + 1]
        terminal = terminal[len(terminal) // 4 + 1 :]
        rng.shuffle(segment)
        out.extend(segment)
    return out + terminal


async def build(sb: Sandbox, clock: Clock, rng: random.Random) -> None:
    """Seed the history and the recent orders."""
    chunk = 2_000
    for _ in range(HISTORY // chunk):
        clock.now += 12 * 3600  # history spread over seven weeks
        await sb.seed_orders(chunk, ["delivered"] * 19 + ["cancelled"])
    clock.now += 3600
    for status in _recent_statuses(rng):  # the newest 2,000 over four days
        clock.now += 4 * 86_400 / RECENT
        await sb.seed_orders(1, [status])
    clock.now += 3600


async def churn(sb: Sandbox, clock: Clock, rng: random.Random) -> set[str]:
    """An hour of business: new orders and status moves; the ids that changed."""
    flight = [o for o in sb.orders() if o.status.value in NEXT]
    changed = set()
    for order in rng.sample(flight, MOVES):
        status = order.status.value
        if status != "shipped" and rng.random() < 0.05:
            target = "cancelled"
        else:
            target = NEXT[status] if rng.random() < 0.8 else "delivered"
        await sb.advance_order(order.id, target)
        changed.add(order.id)
    for _ in range(NEW):  # spread over the hour, as checkouts are
        clock.now += 3600 / NEW
        changed |= {o.id for o in await sb.seed_orders(1, ["pending"])}
    return changed


async def main(runs: int) -> None:
    """Seed, run a first full sync, then ``runs`` incremental ones; print the table."""
    rng = random.Random(14)
    clock = Clock()
    rows: list[list[object]] = []
    async with Sandbox(rate_limits=None, clock=clock) as sb:
        await build(sb, clock, rng)
        async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None) as client:
            with tempfile.TemporaryDirectory() as tmp:
                state = Path(tmp) / "sync.sqlite"
                first = OrderSync(client, state=state)
                count = sum([1 async for _ in first])
                rows.append(["first run (full)", f"{count:,}", first.requests, "all", "-"])
                for run in range(1, runs + 1):
                    expected = await churn(sb, clock, rng)
                    sync = OrderSync(client, state=state)
                    got = {o.id async for o in sync}
                    if got != expected or sync.full_run:
                        raise RuntimeError(f"run {run}: {len(got ^ expected)} orders differ")
                    walk = client.orders.iter()
                    total = sum([1 async for _ in walk])
                    if total != len(sb.orders()):
                        raise RuntimeError("the full walk missed orders")
                    rows.append(
                        [
                            f"incremental run {run}",
                            len(got),
                            sync.requests,
                            " + ".join(f"{n} {name}" for name, n in sync.listings),
                            walk.stats.pages,
                        ]
                    )
                size = state.stat().st_size
    incremental = [int(str(r[2])) for r in rows[1:]]
    worst = max(incremental)
    full = int(str(rows[-1][4]))
    print(
        table(
            f"Jobs: incremental order sync, {HISTORY + RECENT:,} orders, 500 in flight",
            ["run", "orders yielded", "requests", "per listing", "full walk, same moment"],
            rows,
        )
    )
    print(
        f"Worst incremental run: {worst} requests, {fmt(worst / PER_MINUTE * 60)} s at "
        f"{PER_MINUTE}/min; a full walk: {full} requests, {fmt(full / PER_MINUTE)} min. "
        f"State file: {size / 1024:.0f} KiB.\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args().runs))
