"""10,000 requests against one sandbox: no errors, and memory that stops growing.

Tracing every allocation makes requests about 4x slower, so the run is split: 8,000 requests
watched through ``sys.getallocatedblocks()`` (free), then 2,000 under ``tracemalloc``.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import sys
import tracemalloc
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from aioprintora.sandbox import Sandbox

from .conftest import SESSION_BODY

WORKERS = 8
LOG_SIZE = 200
#: Limits for the whole measured stretch (not per request). A leak of even 100 bytes per
#: request would cross them several times over.
BLOCK_GROWTH_LIMIT = 2_000
TRACED_GROWTH_LIMIT = 100 * 1024


def _runner(
    sb: Sandbox, http: aiohttp.ClientSession, session_id: str, statuses: dict[int, int]
) -> Callable[[int], Awaitable[None]]:
    plan = itertools.cycle(
        [
            ("GET", "/api/v1/partners/orders?limit=100&offset=0", None),
            ("GET", "/api/v1/partners/orders?status=paid&offset=20", None),
            ("GET", f"/api/v1/partner-session/{session_id}", None),
            ("GET", "/api/v1/partners/webhook-logs", None),
            ("POST", "/api/v1/partner-session", SESSION_BODY),  # replays (409): no new state
        ]
    )

    async def run(count: int) -> None:
        async def worker(n: int) -> None:
            for _ in range(n):
                method, path, body = next(plan)
                async with http.request(
                    method, path, json=body, headers={"Idempotency-Key": "mem"}
                ) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1

        await asyncio.gather(*(worker(count // WORKERS) for _ in range(WORKERS)))

    return run


@pytest.mark.slow
async def test_ten_thousand_requests_without_errors_or_growth() -> None:
    statuses: dict[int, int] = {}
    async with (
        Sandbox(rate_limits=None, request_log_size=LOG_SIZE) as sb,
        aiohttp.ClientSession(
            base_url=sb.base_url, headers={"Authorization": f"Bearer {sb.api_key}"}
        ) as http,
    ):
        await sb.seed_orders(500)
        async with http.post(
            "/api/v1/partner-session", json=SESSION_BODY, headers={"Idempotency-Key": "mem"}
        ) as resp:
            session_id = (await resp.json())["data"]["sessionId"]
        run = _runner(sb, http, session_id, statuses)
        await run(1_600)  # warm-up: fills the request log, the pool, the JSON caches
        statuses.clear()

        gc.collect()
        blocks_before = sys.getallocatedblocks()
        await run(8_000)
        gc.collect()
        block_growth = sys.getallocatedblocks() - blocks_before

        tracemalloc.start()
        try:
            await run(2 * LOG_SIZE)  # cycle the request log under tracing first
            gc.collect()
            traced_before = tracemalloc.get_traced_memory()[0]
            await run(2_000)
            gc.collect()
            traced_growth = tracemalloc.get_traced_memory()[0] - traced_before
        finally:
            tracemalloc.stop()
    assert sum(statuses.values()) == 8_000 + 2 * LOG_SIZE + 2_000
    assert set(statuses) == {200, 409}, statuses
    assert len(sb.requests) == LOG_SIZE
    assert block_growth < BLOCK_GROWTH_LIMIT, f"{block_growth} more allocated blocks"
    assert traced_growth < TRACED_GROWTH_LIMIT, f"grew {traced_growth} bytes"
