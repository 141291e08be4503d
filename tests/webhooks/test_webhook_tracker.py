"""OrderStatusTracker: every arrival order gives the same final state; never backwards."""

from __future__ import annotations

import itertools

import pytest

from aioprintora._models import OrderStatus
from aioprintora.webhooks import OrderStatusTracker, WebhookEvent, parse_event
from aioprintora.webhooks._tracker import STATUS_RANK, event_status, furthest_status

LIFECYCLE = ["order.created", "order.paid", "order.shipped", "order.delivered"]


def make_event(kind: str, session_id: str = "s1", status: str | None = None) -> WebhookEvent:
    data = {"orderId": "o1"} | ({"status": status} if status else {})
    return parse_event(
        {"sessionId": session_id, "event": kind, "data": data, "timestamp": "2026-01-30T10:00:00Z"}
    )


@pytest.mark.parametrize(
    "events",
    [LIFECYCLE, [*LIFECYCLE[:2], "order.cancelled"], [*LIFECYCLE, "order.shipped", "order.paid"]],
)
def test_every_permutation_gives_the_same_final_state(events: list[str]) -> None:
    finals = set()
    for order in itertools.permutations(events):
        tracker = OrderStatusTracker()
        ranks = []
        for kind in order:
            tracker.apply(make_event(kind))
            status = tracker.status("s1")
            assert status is not None
            ranks.append(STATUS_RANK[status])
        assert ranks == sorted(ranks)  # never backwards
        finals.add(tracker.status("s1"))
    assert len(finals) == 1


def test_final_states() -> None:
    tracker = OrderStatusTracker()
    tracker.apply_all(make_event(kind) for kind in reversed(LIFECYCLE))
    assert tracker.status("s1") is OrderStatus.DELIVERED
    assert tracker.apply(make_event("order.cancelled")) is True
    assert tracker.apply(make_event("order.paid")) is False  # cancellation is terminal
    assert tracker.status("s1") is OrderStatus.CANCELLED


def test_data_status_can_carry_further_than_the_event_type() -> None:
    event = make_event("order.paid", status="processing")
    assert event_status(event) is OrderStatus.PROCESSING
    tracker = OrderStatusTracker()
    tracker.apply(event)
    assert tracker.apply(make_event("order.paid")) is False
    assert tracker.status("s1") is OrderStatus.PROCESSING


def test_unknown_event_types_and_statuses_change_nothing() -> None:
    tracker = OrderStatusTracker({"s1": "paid", "s2": "mystery"})
    assert tracker.apply(make_event("order.teleported", status="beamed")) is False
    assert tracker.snapshot() == {"s1": OrderStatus.PAID}
    assert tracker.status("s2") is None
    assert len(tracker) == 1


def test_orders_are_tracked_separately() -> None:
    tracker = OrderStatusTracker()
    tracker.apply(make_event("order.delivered", session_id="a"))
    tracker.apply(make_event("order.created", session_id="b"))
    assert tracker.snapshot() == {"a": OrderStatus.DELIVERED, "b": OrderStatus.PENDING}


def test_furthest_status_accepts_strings_and_skips_unknowns() -> None:
    assert furthest_status("paid", None, "weird", OrderStatus.SHIPPED) is OrderStatus.SHIPPED
    assert furthest_status(None, "weird") is None
