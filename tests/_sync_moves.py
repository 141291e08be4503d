"""What the order-sync tests do to the sandbox between runs: a hand-moved clock, status moves."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from aioprintora.sandbox import Sandbox

NEXT = {"pending": "paid", "paid": "processing", "processing": "shipped", "shipped": "delivered"}


class Clock:
    """The sandbox's wall clock, a month back, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time() - 30 * 86_400

    def __call__(self) -> float:
        return self.now


async def move(sb: Sandbox, clock: Clock, pick: int, how: str) -> None:
    """Move the ``pick``-th in-flight order: one step on (``next``), to ``end`` or ``cancel``."""
    flight = [o for o in sb.orders() if o.status.value in NEXT]
    if not flight:
        return
    order = flight[pick % len(flight)]
    status = order.status.value
    if how == "cancel" and status != "shipped":
        target = "cancelled"
    elif how == "end":
        target = "delivered"
    else:
        target = NEXT[status]
    clock.now += 1
    await sb.advance_order(order.id, target)


def sandbox_settings(max_examples: int) -> settings:
    """Hypothesis settings for a property test against a sandbox (no deadline, no shrinking)."""
    return settings(
        max_examples=max_examples,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def moves(max_size: int) -> st.SearchStrategy[list[tuple[int, str]]]:
    """Status moves before a run: which in-flight order, and how (see :func:`move`)."""
    return st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(["next", "end", "cancel"])),
        max_size=max_size,
    )
