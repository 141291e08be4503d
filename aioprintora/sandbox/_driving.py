"""What a test does *to* the sandbox: customers checking out, orders moving, faults.

A mixin of :class:`~aioprintora.sandbox.Sandbox`, kept apart so each module holds one
concern: the server module owns the lifecycle, this one the scripted world.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from .._models import OrderStatus
from ._delivery import Deliverer
from ._faults import FaultPlan
from ._records import OrderRecord, SessionRecord
from ._state import Partner, history_events
from ._world import World

__all__ = ["DrivingMixin"]


class DrivingMixin:
    """Checkout, order lifecycle, seeding, delivery waits and faults."""

    world: World
    deliverer: Deliverer
    faults: FaultPlan

    def partner(self, api_key: str | None = None) -> Partner:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- the customer's side -------------------------------------------------------------------

    async def simulate_checkout(self, session_id: str) -> OrderRecord:
        """The customer completes checkout: a pending order, and an ``order.created`` webhook.

        Raises:
            KeyError: unknown session.
            ValueError: the session already has its order, has expired or was cancelled.
        """
        order, events = self.world.checkout(session_id)
        self._emit(events)
        return order

    async def open_session(self, session_id: str) -> SessionRecord:
        """The customer opens the redirect link: a pending session becomes active.

        Raises:
            KeyError: unknown session.
        """
        _, session = self.world.find_session(session_id)
        self.world.open_session(session.token)
        return session

    async def cancel_session(self, session_id: str) -> SessionRecord:
        """Cancel a pending or active session: checkout then fails, its token is not valid.

        Raises:
            KeyError: unknown session.
            ValueError: the session is already completed, expired or cancelled.
        """
        return self.world.cancel_session(session_id)

    async def advance_order(self, order_id: str, status: OrderStatus | str) -> OrderRecord:
        """Move an order forward (pending → paid → processing → shipped → delivered) or cancel it.

        Each status passed emits its webhook (``processing`` emits none).

        Raises:
            KeyError: unknown order.
            ValueError: an unknown status or a move backwards / out of a final status.
        """
        order, events = self.world.advance(order_id, status)
        self._emit(events)
        return order

    async def seed_orders(
        self,
        count: int,
        statuses: Sequence[OrderStatus | str] | None = None,
        *,
        api_key: str | None = None,
        webhooks: bool = False,
    ) -> list[OrderRecord]:
        """Create ``count`` orders at once, each newer than every existing order.

        Args:
            count: how many.
            statuses: statuses to draw from (all six when None).
            api_key: whose orders (the default partner when None).
            webhooks: also emit each order's events: ``order.created``, then one per status it
                passed through (``order.paid``, ``order.shipped``...), in that order (off by
                default).
        """
        partner = self.partner(api_key)
        made = self.world.seed_orders(partner, count, statuses)
        if webhooks:
            self._emit_histories(partner, made)
        return made

    #: Seeded orders always land at the head of the listing: the same call, by another name.
    insert_orders = seed_orders

    async def seed_history(
        self,
        count: int,
        *,
        days: float = 42.0,
        api_key: str | None = None,
        webhooks: bool = False,
    ) -> list[OrderRecord]:
        """Create ``count`` orders spread over the past ``days``, as a real account has them.

        Each order went as far as its age allows: about nine in ten of the older ones are
        delivered, the last few days' are still in flight, a few are cancelled or were never
        paid. ``createdAt``, ``updatedAt`` and the history's times lie in the past; the orders
        land among existing ones by ``createdAt`` (:meth:`seed_orders` adds at the head).

        Args:
            count: how many.
            days: how far back the oldest order goes (six weeks by default).
            api_key: whose orders (the default partner when None).
            webhooks: also emit each order's events, each stamped with the time of its status.
        """
        partner = self.partner(api_key)
        made = self.world.seed_history(partner, count, days)
        if webhooks:
            self._emit_histories(partner, made)
        return made

    def _emit(self, events: Iterable[tuple[Partner, OrderRecord, Any]]) -> None:
        for partner, order, event in events:
            self.deliverer.emit(partner, order, event)

    def _emit_histories(self, partner: Partner, orders: Iterable[OrderRecord]) -> None:
        """Every order's events, oldest first across all of them, at the times they happened."""
        events = [
            (at, order.seq, step, order, event)
            for order in orders
            for step, (event, at) in enumerate(history_events(order))
        ]
        events.sort(key=lambda e: e[:3])
        for at, _, _, order, event in events:
            self.deliverer.emit(partner, order, event, at)

    async def wait_for_deliveries(self, timeout: float = 5.0) -> None:
        """Wait until no webhook delivery is under way or scheduled.

        Raises:
            TimeoutError: deliveries were still pending after ``timeout`` seconds.
        """
        try:
            await self.deliverer.wait_idle(timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"{self.deliverer.pending} webhook deliveries still pending"
            ) from None

    # -- faults --------------------------------------------------------------------------------

    def fail_next(
        self, count: int, kind: str, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Serve the fault ``kind`` to the next ``count`` matching Partner API requests.

        Args:
            count: how many requests.
            kind: ``"500"``, ``"502"``, ``"503"``, ``"429"``, ``"drop"``, ``"commit_drop"``,
                ``"commit_500"``, ``"delay:<seconds>"``, ``"malformed"`` or ``"truncated"``.
            method: only this HTTP method.
            path: only this path (exact, or a glob such as ``/api/v1/partner-session*``).
        """
        self.faults.fail_next(count, kind, method=method, path=path)

    def set_faults(
        self,
        rate: float,
        kinds: Iterable[str] = ("500", "503", "commit_drop"),
        seed: int | None = None,
    ) -> None:
        """Fault a random fraction ``rate`` of Partner API requests (``rate=0`` turns it off)."""
        self.faults.set_random(rate, kinds, seed)

    def clear_faults(self) -> None:
        """Drop every scripted and random fault."""
        self.faults.clear()
