"""Order status from out-of-order deliveries: the furthest status seen wins.

Printora may deliver ``order.paid`` before ``order.created``, or a retried ``order.shipped`` after
``order.delivered``. Applying events with "keep the furthest status" makes the final state the
same for every arrival order, and a status never moves backwards.

The ranking is ``pending < paid < processing < shipped < delivered < cancelled``: cancellation is
terminal, so a late ``order.paid`` cannot revive a cancelled order. Unknown statuses are ignored.
Pure logic, no I/O; keep one tracker per process or persist :meth:`OrderStatusTracker.snapshot`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aioprintora._models import EventType, OrderStatus
from aioprintora.webhooks._events import WebhookEvent

__all__ = ["STATUS_RANK", "OrderStatusTracker", "event_status", "furthest_status"]

STATUS_RANK: Mapping[OrderStatus, int] = {
    OrderStatus.PENDING: 0,
    OrderStatus.PAID: 1,
    OrderStatus.PROCESSING: 2,
    OrderStatus.SHIPPED: 3,
    OrderStatus.DELIVERED: 4,
    OrderStatus.CANCELLED: 5,
}

_EVENT_STATUS: Mapping[str, OrderStatus] = {
    EventType.ORDER_CREATED.value: OrderStatus.PENDING,
    EventType.ORDER_PAID.value: OrderStatus.PAID,
    EventType.ORDER_SHIPPED.value: OrderStatus.SHIPPED,
    EventType.ORDER_DELIVERED.value: OrderStatus.DELIVERED,
    EventType.ORDER_CANCELLED.value: OrderStatus.CANCELLED,
}
_BY_VALUE: Mapping[str, OrderStatus] = {status.value: status for status in OrderStatus}


def _known(status: object) -> OrderStatus | None:
    return _BY_VALUE.get(status) if isinstance(status, str) else None


def furthest_status(*statuses: OrderStatus | str | None) -> OrderStatus | None:
    """The most advanced known status among ``statuses`` (unknown values and None are skipped).

    Args:
        statuses: order statuses, as enums or their string values.
    """
    known = [s for s in map(_known, statuses) if s is not None]
    return max(known, key=STATUS_RANK.__getitem__) if known else None


def event_status(event: WebhookEvent) -> OrderStatus | None:
    """The status an event implies: the further of its type's status and ``data.status``.

    Args:
        event: a parsed webhook event.
    """
    return furthest_status(_EVENT_STATUS.get(str(event.event_type)), event.data.status)


class OrderStatusTracker:
    """The furthest status of each order, keyed by session id (one session = one order)."""

    def __init__(self, initial: Mapping[str, OrderStatus | str] | None = None) -> None:
        self._status: dict[str, OrderStatus] = {}
        for session_id, status in (initial or {}).items():
            known = _known(status)
            if known is not None:
                self._status[session_id] = known

    def apply(self, event: WebhookEvent) -> bool:
        """Record ``event``; True when the order's status advanced.

        Args:
            event: a parsed webhook event; events with no known status change nothing.
        """
        implied = event_status(event)
        if implied is None:
            return False
        current = self._status.get(event.session_id)
        if current is not None and STATUS_RANK[implied] <= STATUS_RANK[current]:
            return False
        self._status[event.session_id] = implied
        return True

    def apply_all(self, events: Iterable[WebhookEvent]) -> None:
        """Apply several events, in any order.

        Args:
            events: parsed webhook events.
        """
        for event in events:
            self.apply(event)

    def status(self, session_id: str) -> OrderStatus | None:
        """The furthest status seen for the session's order, or None if none yet.

        Args:
            session_id: the partner session id (``event.session_id``).
        """
        return self._status.get(session_id)

    def snapshot(self) -> dict[str, OrderStatus]:
        """Every tracked order's status (a copy, to persist or inspect)."""
        return dict(self._status)

    def __len__(self) -> int:
        return len(self._status)
