"""What seeded orders look like: the statuses they pass through and a plausible life.

Pure functions, no I/O; the randomness comes from the caller's seeded RNG.
"""

from __future__ import annotations

import random
from typing import Any

from .._models import OrderStatus
from ._state import order_steps

__all__ = ["SEED_STATUSES", "draw_life", "path_to", "seed_fields"]

#: The statuses ``seed_orders`` draws from by default.
SEED_STATUSES = (
    OrderStatus.PENDING,
    OrderStatus.PAID,
    OrderStatus.PROCESSING,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
)


def path_to(status: OrderStatus) -> list[OrderStatus]:
    """The statuses a new order passes through to reach ``status``."""
    if status is OrderStatus.PENDING:
        return [status]
    return [OrderStatus.PENDING, *order_steps(OrderStatus.PENDING, status)]


def draw_life(rng: random.Random, created: float) -> list[tuple[OrderStatus, float]]:
    """A plausible life for an order created at ``created``, to its end (times may be future)."""
    life = [(OrderStatus.PENDING, created)]
    fate = rng.random()
    if fate < 0.03:  # an abandoned checkout: never paid
        return life
    if fate < 0.07:  # cancelled before it ships, within two days
        return [*life, (OrderStatus.CANCELLED, created + rng.uniform(600, 2 * 86_400))]
    at = created + rng.uniform(60, 1_200)
    life.append((OrderStatus.PAID, at))
    for status, low, high in _FULFILMENT:
        at += rng.uniform(low, high)
        life.append((status, at))
    return life


#: After payment: (status reached, shortest and longest wait for it in seconds).
_FULFILMENT = (
    (OrderStatus.PROCESSING, 3_600.0, 12 * 3_600.0),
    (OrderStatus.SHIPPED, 12 * 3_600.0, 3 * 86_400.0),
    (OrderStatus.DELIVERED, 86_400.0, 5 * 86_400.0),
)


def seed_fields() -> dict[str, Any]:
    """The session fields of a seeded order."""
    return {
        "image_url": "https://example.com/design.png",
        "success_url": "https://example.com/success",
        "failed_url": "https://example.com/failed",
    }
