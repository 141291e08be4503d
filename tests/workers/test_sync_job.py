"""The order sync as the workers run it: each changed order to the handler, state in Redis."""

from __future__ import annotations

from typing import Any

import pytest

from aioprintora.models import Order
from aioprintora.ratelimit import Window
from aioprintora.sandbox import Sandbox
from aioprintora.workers import sync_orders, worker_settings

pytestmark = pytest.mark.redis


class _Job:
    """What the job function touches of saq's job: its heartbeat."""

    def __init__(self) -> None:
        self.beats = 0

    async def update(self, **_: Any) -> None:
        self.beats += 1


async def test_sync_job_yields_each_change_once_with_its_state_in_redis(redis_url: str) -> None:
    seen: list[str] = []

    async def handler(order: Order) -> None:
        seen.append(order.id)

    async with Sandbox(rate_limits=None) as sb:
        await sb.seed_orders(30)
        settings = worker_settings(
            redis_url=redis_url,
            api_key=sb.api_key,
            base_url=sb.base_url,
            rate_limit=[Window(1000, 1.0)],
            order_handler=handler,
        )
        [cron] = settings["cron_jobs"]
        assert cron.unique  # saq queues a cron job once at a time: one run across all workers
        ctx: dict[str, Any] = {}
        await settings["startup"](ctx)
        try:
            job = _Job()
            first = await sync_orders({**ctx, "job": job})
            again = await sync_orders({**ctx, "job": _Job()})  # a second worker, same state
        finally:
            await settings["shutdown"](ctx)
            await settings["queue"].disconnect()

    assert first == {"orders": 30} and len(set(seen)) == 30
    assert job.beats == 30
    assert again == {"orders": 0}
