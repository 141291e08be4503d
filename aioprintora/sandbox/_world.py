"""Every partner of one sandbox, and the operations that change their data.

Pure logic, no I/O: webhook events are returned to the caller, which delivers them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .._models import EventType, OrderStatus, SessionStatus
from ._records import OrderRecord, SessionRecord, WebhookLogRecord
from ._seeding import SEED_STATUSES, draw_life, path_to, seed_fields
from ._state import EVENT_FOR, Ids, KeyBodyMismatchError, Partner, order_steps

__all__ = ["Event", "KeyBodyMismatchError", "World"]

#: A webhook to send: which partner, about which order, which event.
Event = tuple[Partner, OrderRecord, EventType]


class World:
    """Partners, their sessions and orders, with global indexes by id."""

    def __init__(self, clock: Callable[[], float], seed: int, idempotency_ttl: float) -> None:
        self.clock = clock
        self.ids = Ids(seed)
        self.idempotency_ttl = idempotency_ttl
        self.base_url = ""
        self.partners: dict[str, Partner] = {}
        self._by_key: dict[str, Partner] = {}
        self._session_owner: dict[str, Partner] = {}
        self._order_owner: dict[str, Partner] = {}
        self._seq = 0

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- partners ------------------------------------------------------------------------------

    def add_partner(self, webhook_url: str | None = None) -> Partner:
        """A new partner with a fresh ``sk_test_`` key and ``whsec_`` secret."""
        partner = Partner(
            partner_id=self.ids.uuid(),
            api_key=f"sk_test_{self.ids.hex(32)}",
            webhook_secret=f"whsec_{self.ids.hex(32)}",
            webhook_url=webhook_url,
        )
        self.partners[partner.partner_id] = partner
        self._by_key[partner.api_key] = partner
        return partner

    def partner_for_key(self, api_key: str) -> Partner | None:
        """The partner owning ``api_key``, if the sandbox issued it."""
        return self._by_key.get(api_key)

    def reset_partner(self, partner: Partner) -> None:
        """Forget everything ``partner`` created (its credentials stay valid)."""
        for session_id in partner.state.sessions:
            self._session_owner.pop(session_id, None)
        for order_id in partner.state.orders:
            self._order_owner.pop(order_id, None)
        partner.state.__init__()  # type: ignore[misc]

    # -- sessions ------------------------------------------------------------------------------

    def create_session(
        self, partner: Partner, fields: dict[str, Any], key: str, fingerprint: str
    ) -> tuple[SessionRecord, bool]:
        """The session for ``key``: ``(session, True)`` when new, ``(existing, False)`` on replay.

        Raises:
            KeyBodyMismatchError: ``key`` was used with a different body.
        """
        now = self.clock()
        existing = partner.state.replay(key, fingerprint, now)
        if existing is not None:
            return existing, False
        session = self._new_session(partner, fields, now)
        partner.state.remember_key(key, fingerprint, session.session_id, now + self.idempotency_ttl)
        return session, True

    def _new_session(self, partner: Partner, fields: dict[str, Any], now: float) -> SessionRecord:
        token = self.ids.hex(64)
        session = SessionRecord(
            session_id=self.ids.uuid(),
            token=token,
            partner_id=partner.partner_id,
            redirect_url=f"{self.base_url}/editor/{token}",
            created_at=now,
            **fields,
        )
        partner.state.add_session(session)
        self._session_owner[session.session_id] = partner
        return session

    def find_session(self, session_id: str) -> tuple[Partner, SessionRecord]:
        """The session with this id, whoever owns it (``KeyError`` if unknown)."""
        partner = self._session_owner[session_id]
        return partner, partner.state.sessions[session_id]

    def session_for_token(self, token: str) -> tuple[Partner, SessionRecord] | None:
        """The session whose redirect link ends in ``token``, and its partner (nothing changes)."""
        for partner in self.partners.values():
            session = partner.state.tokens.get(token)
            if session is not None:
                return partner, session
        return None

    def open_session(self, token: str) -> SessionRecord | None:
        """The customer opens the redirect link: a pending session becomes active."""
        found = self.session_for_token(token)
        if found is None:
            return None
        session = found[1]
        if session.status(self.clock()) is SessionStatus.PENDING:
            session.opened_at = self.clock()
        return session

    def cancel_session(self, session_id: str) -> SessionRecord:
        """Cancel a pending or active session: it can no longer order.

        Raises:
            KeyError: unknown session.
            ValueError: the session is already completed, expired or cancelled.
        """
        _, session = self.find_session(session_id)
        status = session.status(self.clock())
        if status is not SessionStatus.PENDING and status is not SessionStatus.ACTIVE:
            raise ValueError(f"session {session_id} is {status.value}: it cannot be cancelled")
        session.cancelled_at = self.clock()
        return session

    # -- orders --------------------------------------------------------------------------------

    def find_order(self, order_id: str) -> tuple[Partner, OrderRecord]:
        """The order with this id, whoever owns it (``KeyError`` if unknown)."""
        partner = self._order_owner[order_id]
        return partner, partner.state.orders[order_id]

    def _new_order(
        self,
        partner: Partner,
        session: SessionRecord,
        history: list[tuple[OrderStatus, float]],
    ) -> OrderRecord:
        """An order that went through ``history`` (``(status, when)`` pairs, oldest first)."""
        price = self.ids.price()
        created_at = history[0][1]
        paid_at = next((at for status, at in history if status is OrderStatus.PAID), None)
        order = OrderRecord(
            id=self.ids.uuid(),
            partner_id=partner.partner_id,
            session_id=session.session_id,
            order_number=f"PRT-{round(created_at * 1000)}-{self.ids.code(6)}",
            status=history[-1][0],
            total_amount=price * (session.quantity or 1),
            created_at=created_at,
            updated_at=history[-1][1],
            seq=self._next_seq(),
            paid_at=paid_at,
            image_url=session.image_url,
            customer=session.user_data,
            history=history,
        )
        session.order_id = order.id
        partner.state.add_order(order)
        self._order_owner[order.id] = partner
        return order

    def checkout(self, session_id: str) -> tuple[OrderRecord, list[Event]]:
        """The customer pays for session ``session_id``: a pending order and ``order.created``.

        Raises:
            KeyError: unknown session.
            ValueError: the session already has its order, has expired or was cancelled.
        """
        partner, session = self.find_session(session_id)
        status = session.status(self.clock())
        if status is not SessionStatus.PENDING and status is not SessionStatus.ACTIVE:
            raise ValueError(f"session {session_id} is {status.value}: it cannot order")
        order = self._new_order(partner, session, [(OrderStatus.PENDING, self.clock())])
        return order, [(partner, order, EventType.ORDER_CREATED)]

    def advance(self, order_id: str, status: OrderStatus | str) -> tuple[OrderRecord, list[Event]]:
        """Move an order forward to ``status`` (through any statuses in between), or cancel it.

        Raises:
            KeyError: unknown order.
            ValueError: unknown status or a move the lifecycle forbids.
        """
        target = OrderStatus(status)
        partner, order = self.find_order(order_id)
        events: list[Event] = []
        for step in order_steps(order.status, target):
            partner.state.set_order_status(order, step, self.clock())
            if step in EVENT_FOR:
                events.append((partner, order, EVENT_FOR[step]))
        return order, events

    def new_log(
        self,
        partner: Partner,
        order: OrderRecord,
        event: EventType,
        payload: bytes,
        at: float | None = None,
    ) -> WebhookLogRecord:
        """A pending webhook log entry for ``event`` about ``order``, created ``at`` (now)."""
        log = WebhookLogRecord(
            id=self.ids.uuid(),
            partner_id=partner.partner_id,
            event_type=event,
            order_id=order.id,
            session_id=order.session_id,
            created_at=self.clock() if at is None else at,
            seq=self._next_seq(),
            payload=payload,
        )
        partner.state.add_log(log)
        return log

    def seed_orders(
        self, partner: Partner, count: int, statuses: Sequence[OrderStatus | str] | None = None
    ) -> list[OrderRecord]:
        """``count`` orders (each with its completed session), newer than every existing order.

        ``createdAt`` values are distinct and increasing, 1 ms apart, the last one at most "now"
        unless older orders already reach beyond it; so repeated calls add orders at the head.
        Each order went through every status on its way to the one drawn, all at its creation.
        """
        if count < 0:
            raise ValueError("count must not be negative")
        choices = [OrderStatus(s) for s in statuses] if statuses else list(SEED_STATUSES)
        now = self.clock()
        newest = partner.state.newest_order_time()
        start = now - count * 0.001
        if newest is not None and start <= newest:
            start = newest + 0.001
        rng = self.ids.rng
        made: list[OrderRecord] = []
        for i in range(count):
            created = round(start + i * 0.001, 3)
            session = self._new_session(partner, seed_fields(), created)
            session.opened_at = created
            path = path_to(rng.choice(choices))
            made.append(self._new_order(partner, session, [(s, created) for s in path]))
        return made

    def seed_history(self, partner: Partner, count: int, days: float) -> list[OrderRecord]:
        """``count`` orders spread over the ``days`` before now, each as far along as its age
        allows: most delivered, the last few days' still in flight, a few cancelled or left
        pending. They land among existing orders by ``createdAt``, not at the head.
        """
        if count < 0:
            raise ValueError("count must not be negative")
        if not (math.isfinite(days) and days > 0):
            raise ValueError(f"days must be a finite number > 0, got {days!r}")
        now, span = self.clock(), days * 86_400.0
        rng = self.ids.rng
        made: list[OrderRecord] = []
        for i in range(count):
            created = round(now - span + (i + rng.random()) * span / count, 3)
            if created >= now:  # rounding may reach now: an order is never from the future
                created = round(now - 0.001, 3)
            session = self._new_session(partner, seed_fields(), created - rng.uniform(120, 900))
            session.opened_at = session.created_at + 30.0
            history = [(s, at) for s, at in draw_life(rng, created) if at <= now]
            made.append(self._new_order(partner, session, history))
        return made
