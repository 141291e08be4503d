"""The sandbox's in-memory world: partners and their sessions, orders, webhook logs, idempotency.

Pure logic, no I/O: every time comes from the injected clock, every id from a seeded RNG, so the
same seed and clock give the same answers.
"""

from __future__ import annotations

import random
import uuid
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from .._models import EventType, OrderStatus
from ._listing import Indexed
from ._records import OrderRecord, SessionRecord, WebhookLogRecord

__all__ = ["Ids", "KeyBodyMismatchError", "Partner", "PartnerState", "history_events"]

_CODE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PRICES = tuple(Decimal(p) for p in ("19.99", "24.99", "29.99", "34.50", "39.00", "45.90"))


class KeyBodyMismatchError(Exception):
    """The idempotency key was already used with another request body."""


class Ids:
    """Deterministic ids, tokens and keys from one seeded RNG."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def uuid(self) -> str:
        """A random-looking (version 4) UUID string."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self, chars: int) -> str:
        """``chars`` lowercase hex digits."""
        return f"{self.rng.getrandbits(chars * 4):0{chars}x}"

    def code(self, chars: int) -> str:
        """``chars`` upper-case letters and digits (the tail of an order number)."""
        return "".join(self.rng.choices(_CODE_CHARS, k=chars))

    def price(self) -> Decimal:
        """A plausible product price."""
        return self.rng.choice(_PRICES)


@attrs.define(eq=False)
class _IdemEntry:
    fingerprint: str
    session_id: str
    expires_at: float


@attrs.define(eq=False)
class Partner:
    """One partner account: its credentials and everything it created.

    ``api_key`` and ``webhook_secret`` are left out of the repr on purpose.
    """

    partner_id: str
    api_key: str = attrs.field(repr=False)
    webhook_secret: str = attrs.field(repr=False)
    webhook_url: str | None = None
    # The lambda defers the lookup: PartnerState is defined below.
    state: PartnerState = attrs.field(factory=lambda: PartnerState(), repr=False)  # noqa: PLW0108


class PartnerState:
    """One partner's data and the operations on it."""

    def __init__(self) -> None:
        self.sessions: dict[str, SessionRecord] = {}
        self.tokens: dict[str, SessionRecord] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.order_index: Indexed[OrderRecord] = Indexed()
        self.logs: dict[str, WebhookLogRecord] = {}
        self.log_index: Indexed[WebhookLogRecord] = Indexed()
        self.idempotency: OrderedDict[str, _IdemEntry] = OrderedDict()

    # -- sessions ------------------------------------------------------------------------------

    def prune_idempotency(self, now: float) -> None:
        """Forget keys older than their TTL (entries are kept in creation order)."""
        keys = self.idempotency
        while keys:
            first = next(iter(keys.values()))
            if first.expires_at > now:
                break
            keys.popitem(last=False)

    def replay(self, key: str, fingerprint: str, now: float) -> SessionRecord | None:
        """The session an idempotency key already created, if any.

        Raises:
            KeyBodyMismatchError: the key was used with a different body.
        """
        self.prune_idempotency(now)
        entry = self.idempotency.get(key)
        if entry is None:
            return None
        if entry.fingerprint != fingerprint:
            raise KeyBodyMismatchError(key)
        return self.sessions[entry.session_id]

    def add_session(self, session: SessionRecord) -> None:
        """Store a new session."""
        self.sessions[session.session_id] = session
        self.tokens[session.token] = session

    def remember_key(self, key: str, fingerprint: str, session_id: str, expires_at: float) -> None:
        """Remember which session an idempotency key created, until ``expires_at``."""
        self.idempotency[key] = _IdemEntry(fingerprint, session_id, expires_at)

    # -- orders --------------------------------------------------------------------------------

    def add_order(self, order: OrderRecord) -> None:
        """Store a new order."""
        self.orders[order.id] = order
        self.order_index.add(order.key, order, (order.status,))

    def set_order_status(self, order: OrderRecord, status: OrderStatus, now: float) -> None:
        """Change an order's status and keep the per-status listings right."""
        old = order.status
        order.status = status
        order.updated_at = now
        order.history.append((status, now))
        order.touch()
        if status is OrderStatus.PAID:
            order.paid_at = now
        self.order_index.retag(order.key, order, (old,), (status,))

    def newest_order_time(self) -> float | None:
        """``createdAt`` of the newest order, if any."""
        key = self.order_index.all.newest_key()
        return None if key is None else key[0]

    # -- webhook logs --------------------------------------------------------------------------

    def add_log(self, log: WebhookLogRecord) -> None:
        """Store a new webhook log entry."""
        self.logs[log.id] = log
        self.log_index.add(log.key, log, log.tags)

    def update_log(self, log: WebhookLogRecord, **changes: Any) -> None:
        """Apply ``changes`` to a log entry and keep the filtered listings right."""
        old = log.tags
        for name, value in changes.items():
            setattr(log, name, value)
        if log.tags != old:
            self.log_index.retag(log.key, log, old, log.tags)


#: Forward path of an order; ``cancelled`` is reachable from any state before ``shipped``.
ORDER_PATH = (
    OrderStatus.PENDING,
    OrderStatus.PAID,
    OrderStatus.PROCESSING,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
)
CANCELLABLE = frozenset(ORDER_PATH[:3])
#: The event each status change emits (``processing`` emits none).
EVENT_FOR: dict[OrderStatus, EventType] = {
    OrderStatus.PAID: EventType.ORDER_PAID,
    OrderStatus.SHIPPED: EventType.ORDER_SHIPPED,
    OrderStatus.DELIVERED: EventType.ORDER_DELIVERED,
    OrderStatus.CANCELLED: EventType.ORDER_CANCELLED,
}


def order_steps(current: OrderStatus, target: OrderStatus) -> list[OrderStatus]:
    """The statuses an order passes through from ``current`` to ``target``.

    Forward moves walk every intermediate status (pending → shipped passes paid and processing).

    Raises:
        ValueError: the move goes backwards, stays put, or leaves a final status.
    """
    if target is OrderStatus.CANCELLED:
        if current not in CANCELLABLE:
            raise ValueError(f"cannot cancel an order that is {current.value}")
        return [target]
    if current is OrderStatus.CANCELLED or target not in ORDER_PATH:
        raise ValueError(f"cannot move an order from {current.value} to {target.value}")
    here, there = ORDER_PATH.index(current), ORDER_PATH.index(target)
    if there <= here:
        raise ValueError(f"cannot move an order from {current.value} to {target.value}")
    return list(ORDER_PATH[here + 1 : there + 1])


Clock = Callable[[], float]


def history_events(order: OrderRecord) -> list[tuple[EventType, float]]:
    """The webhooks an order's history emits, oldest first: ``order.created`` for its first
    status, then one per later status that has an event, each at the time the order got there."""
    if not order.history:
        return []
    events = [(EventType.ORDER_CREATED, order.history[0][1])]
    events += [(EVENT_FOR[status], at) for status, at in order.history[1:] if status in EVENT_FOR]
    return events
