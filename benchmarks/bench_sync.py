"""Incremental ``OrderSync`` on 100,000 orders: requests per run beside a full walk.

The sandbox holds 100,000 orders: 98,000 of history, all terminal (95% delivered, 5%
cancelled), spread over the weeks before; then the newest 2,000, of which 500 are in flight
(100 pending, 120 paid, 100 processing, 180 shipped), the younger the order the earlier its
status, the rest delivered (1,450) or cancelled (50). Between runs an hour passes, 50 new
pending orders arrive and 100 in-flight orders move one or more steps on (some to delivered or
cancelled). Each run is checked: it yields exactly the 150 new or changed orders.

Side by side at each moment: the incremental run, the webhook-fed run (``webhooks=True``, its
state fed by a receiver on loopback calling ``sync.record``), and a full walk. The first
``--runs`` rounds deliver every webhook; the next ``--runs`` fail 10% of deliveries at the
partner's endpoint (every retry too, so Printora gives up and the logs say ``failed``).

Run alone: ``python -m benchmarks.bench_sync [--runs N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import math
import random
import tempfile
import time
from pathlib import Path

from aiohttp import web

from aioprintora import PrintoraClient
from aioprintora.jobs._sync import NO_EVENT_STATUSES, OrderSync
from aioprintora.sandbox import Sandbox
from aioprintora.webhooks import WebhookEvent, webhook_app

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
        changed |= {o.id for o in await sb.seed_orders(1, ["pending"], webhooks=True)}
    await sb.wait_for_deliveries(timeout=60)
    return changed


class Endpoint:
    """The partner's webhook endpoint: records into the webhook-fed sync's state, failing a
    fixed share of deliveries (each of their attempts) as a broken handler would."""

    def __init__(self, listener: OrderSync) -> None:
        self.listener = listener
        self.fail_share = 0.0

    async def __call__(self, event: WebhookEvent) -> None:
        digest = hashlib.sha256(repr(event.dedup_key).encode()).digest()
        if digest[0] < 256 * self.fail_share:
            raise RuntimeError("the partner's handler fails on this delivery")
        await self.listener.record(event)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/hook/"


def per_listing(sync: OrderSync) -> str:
    return " + ".join(f"{n} {name}" for name, n in sync.listings)


async def one_round(
    sb: Sandbox,
    clock: Clock,
    rng: random.Random,
    client: PrintoraClient,
    *,
    states: tuple[Path, Path],
) -> tuple[list[object], list[object]]:
    """An hour of churn, then the three, side by side: the rows of both tables."""
    state, hooked = states
    head = len(sb.webhook_logs())
    expected = await churn(sb, clock, rng)
    logs = sb.webhook_logs()[: len(sb.webhook_logs()) - head]
    lost = sum(1 for log in logs if log.status.value != "sent")
    sync = OrderSync(client, state=state)
    got = {o.id async for o in sync}
    if got != expected or sync.full_run:
        raise RuntimeError(f"{len(got ^ expected)} orders differ")
    fed = OrderSync(client, state=hooked, webhooks=True)
    truth = {o.id: o.status.value for o in sb.orders()}
    fed_got = {o.id: str(o.status) async for o in fed}
    if fed_got != {k: truth[k] for k in expected} or fed.full_run:
        raise RuntimeError("the webhook-fed run's orders differ")
    walk = client.orders.iter()
    total = sum([1 async for _ in walk])
    if total != len(sb.orders()):
        raise RuntimeError("the full walk missed orders")
    no_event = sum(n for listing, n in fed.listings if listing in NO_EVENT_STATUSES)
    formula = math.ceil((len(logs) + 1) / 99) + no_event
    lost_created = sum(
        1 for log in logs if log.status.value != "sent" and log.event_type.value == "order.created"
    )
    return (
        [len(got), sync.requests, per_listing(sync), walk.stats.pages],
        [
            len(logs),
            lost,
            len(fed_got),
            fed.requests,
            per_listing(fed),
            f"{formula} + {min(lost_created, 1)} (≤ 3 + {lost})",
            sync.requests,
            walk.stats.pages,
        ],
    )


async def main(runs: int) -> None:
    """Seed, run a first full sync of each kind, then ``2 * runs`` rounds; print the tables."""
    logging.getLogger("aioprintora.webhooks").setLevel(logging.CRITICAL)  # the failing share
    rng = random.Random(14)
    clock = Clock()
    rows: list[list[object]] = []
    hooked_rows: list[list[object]] = []
    async with Sandbox(rate_limits=None, clock=clock, webhook_time_scale=1e-6) as sb:
        await build(sb, clock, rng)
        async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None) as client:
            with tempfile.TemporaryDirectory() as tmp:
                state, hooked = Path(tmp) / "sync.sqlite", Path(tmp) / "hooked.sqlite"
                listener = OrderSync(client, state=hooked, webhooks=True)
                endpoint = Endpoint(listener)
                app = web.Application()
                app.add_subapp("/hook", webhook_app(sb.webhook_secret, endpoint))
                runner, url = await serve(app)
                sb.set_webhook_url(url)
                first = OrderSync(client, state=state)
                count = sum([1 async for _ in first])
                rows.append(["first run (full)", f"{count:,}", first.requests, "all", "-"])
                first_hooked = OrderSync(client, state=hooked, webhooks=True)
                assert sum([1 async for _ in first_hooked]) == count
                hooked_rows.append(
                    [
                        *("first run (full)", "-", "-", f"{count:,}", first_hooked.requests),
                        *("all + 1 webhook-logs", "-", first.requests, "-"),
                    ]
                )
                for run in range(1, 2 * runs + 1):
                    endpoint.fail_share = 0.0 if run <= runs else 0.1
                    name = f"run {run}" + ("" if run <= runs else ", 10% failing")
                    row, hooked_row = await one_round(
                        sb, clock, rng, client, states=(state, hooked)
                    )
                    rows.append([name, *row])
                    hooked_rows.append([name, *hooked_row])
                await runner.cleanup()
                await listener.aclose()
                size = state.stat().st_size
                hooked_size = hooked.stat().st_size
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
    print(
        table(
            "Jobs: webhook-fed order sync beside the incremental one and a full walk",
            [
                "run",
                "deliveries",
                "lost",
                "orders yielded",
                "requests",
                "per listing",
                "⌈(deliveries+1)/99⌉ + event-less + head",
                "incremental",
                "full walk",
            ],
            hooked_rows,
        )
    )
    print(f"Webhook-fed state file: {hooked_size / 1024:.0f} KiB.\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args().runs))
