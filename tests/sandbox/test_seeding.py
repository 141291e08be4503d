"""Seeded orders: a realistic past (``seed_history``), the head (``seed_orders``), and the
webhooks of every status a seeded order passed through."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from aioprintora import PrintoraClient
from aioprintora._models import OrderStatus
from aioprintora.jobs._sync import OrderSync
from aioprintora.sandbox import Sandbox
from aioprintora.sandbox._state import ORDER_PATH, history_events
from aioprintora.sandbox._wire import iso

from .test_webhooks import Receiver

NOW = 1_800_000_000.0
DAY = 86_400.0
IN_FLIGHT = {OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.SHIPPED}


def _fixed_clock() -> float:
    return NOW


async def test_seed_history_looks_like_a_real_account() -> None:
    async with Sandbox(rate_limits=None, seed=5, clock=_fixed_clock) as sb:
        made = await sb.seed_history(3000)
        statuses = Counter(order.status for order in made)
        assert statuses[OrderStatus.DELIVERED] >= 0.75 * 3000
        assert sum(statuses[s] for s in IN_FLIGHT) <= 0.2 * 3000
        assert statuses[OrderStatus.CANCELLED] > 0
        assert min(o.created_at for o in made) >= NOW - 42 * DAY
        assert max(o.created_at for o in made) < NOW
        # Weeks of history: the newest orders are in flight, the old ones are done.
        for order in made:
            if order.created_at < NOW - 10 * DAY:
                assert order.status not in IN_FLIGHT - {OrderStatus.PENDING}, order
        for order in made:
            steps = [status for status, _ in order.history]
            times = [at for _, at in order.history]
            assert steps[0] is OrderStatus.PENDING and steps[-1] is order.status
            assert steps in (
                list(ORDER_PATH[: len(steps)]),
                [OrderStatus.PENDING, OrderStatus.CANCELLED],
            )
            assert times == sorted(times) and times[-1] <= NOW
            assert (order.created_at, order.updated_at) == (times[0], times[-1])
            paid = dict(order.history).get(OrderStatus.PAID)
            assert order.paid_at == paid
        listed = sb.orders()
        assert [o.created_at for o in listed] == sorted((o.created_at for o in made), reverse=True)


async def test_seed_orders_still_adds_at_the_head_after_a_history() -> None:
    async with Sandbox(rate_limits=None, seed=5) as sb:
        await sb.seed_history(200, days=7)
        fresh = await sb.seed_orders(5)
        again = await sb.insert_orders(3)
        assert [o.id for o in sb.orders()[:8]] == [o.id for o in reversed(fresh + again)]


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), float("nan")])
async def test_seed_history_refuses_a_bad_span(bad: float) -> None:
    async with Sandbox(rate_limits=None) as sb:
        with pytest.raises(ValueError, match="days"):
            await sb.seed_history(10, days=bad)
        assert sb.orders() == []


def _events(receiver: Receiver) -> list[tuple[str, str, str]]:
    bodies = [json.loads(body) for _, _, body in receiver.hits]
    return [(b["data"]["orderId"], b["event"], b["timestamp"]) for b in bodies]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", ["order.created"]),
        ("paid", ["order.created", "order.paid"]),
        ("processing", ["order.created", "order.paid"]),
        ("delivered", ["order.created", "order.paid", "order.shipped", "order.delivered"]),
        ("cancelled", ["order.created", "order.cancelled"]),
    ],
)
async def test_a_seeded_order_sends_the_events_of_every_status_it_passed(
    status: str, expected: list[str]
) -> None:
    async with (
        Receiver() as receiver,
        Sandbox(rate_limits=None, webhook_url=receiver.url, webhook_time_scale=0.001) as sb,
    ):
        (order,) = await sb.seed_orders(1, [status], webhooks=True)
        await sb.wait_for_deliveries(timeout=5)
        logs = sorted(sb.webhook_logs(), key=lambda log: (log.created_at, log.seq))
        assert [log.event_type.value for log in logs] == expected
        assert all(log.status.value == "sent" for log in logs)
        assert sorted(event for _, event, _ in _events(receiver)) == sorted(expected)
        assert {order_id for order_id, _, _ in _events(receiver)} == {order.id}


async def test_a_seeded_history_sends_each_event_at_the_time_of_its_status() -> None:
    async with (
        Receiver() as receiver,
        Sandbox(rate_limits=None, seed=3, webhook_url=receiver.url, webhook_time_scale=0.001) as sb,
    ):
        made = await sb.seed_history(40, days=10, webhooks=True)
        await sb.wait_for_deliveries(timeout=10)
        sent = _events(receiver)
        logs = sb.webhook_logs()
        assert len(sent) == len(logs) == sum(len(history_events(o)) for o in made)
        for order in made:
            expected = [(e.value, iso(at)) for e, at in history_events(order)]
            mine = sorted(
                (log for log in logs if log.order_id == order.id),
                key=lambda log: (log.created_at, log.seq),
            )
            assert [(log.event_type.value, iso(log.created_at)) for log in mine] == expected
            got = sorted((stamp, event) for oid, event, stamp in sent if oid == order.id)
            assert got == sorted((stamp, event) for event, stamp in expected)
        # The history is in the past, and so are the events' times.
        assert max(log.created_at for log in logs) <= sb.clock()
        assert min(log.created_at for log in logs) < sb.clock() - 5 * DAY


async def test_a_second_sync_after_seeding_a_history_costs_few_requests(tmp_path: Path) -> None:
    async with (
        Sandbox(rate_limits=None, seed=11) as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None) as client,
    ):
        await sb.seed_history(3000)
        first = OrderSync(client, state=tmp_path / "sync.sqlite")
        assert len([order async for order in first]) == 3000
        assert first.requests == 31
        second = OrderSync(client, state=tmp_path / "sync.sqlite")
        assert [order async for order in second] == []
        # One page of new orders (nothing in the 2-minute overlap), the in-flight listings,
        # and no terminal listing: the cost docs/jobs.md gives, not a walk of everything.
        assert second.listings[0] == ("all", 1)
        assert second.requests <= 10, second.listings
