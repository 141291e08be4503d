"""Issue 12, bullets 1 and 2: every walk ends, and its memory stays flat."""

from __future__ import annotations

import gc
import math
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web

from aioprintora import Order, PaginationError
from aioprintora._http.walk_guard import request_cap
from aioprintora.pagination import Listing

from .conftest import client, hostile, order

pytestmark = pytest.mark.timeout(30)

PAGE = 20
EPOCH = datetime(2026, 1, 30, tzinfo=timezone.utc)


def _at(n: int) -> str:
    """Newest first: a higher n is older."""
    return (EPOCH - timedelta(seconds=n)).isoformat().replace("+00:00", "Z")


SAME = [order(n, _at(n)) for n in range(PAGE)]
OLDEST_FIRST = [order(n, _at(PAGE - n)) for n in range(PAGE)]
OTHER = [order(n, _at(n)) for n in range(PAGE, 2 * PAGE)]

# Each body ignores the offset it is asked for; n is the request's index.
SHAPES: dict[str, Callable[[int], Any]] = {
    "bare list": lambda n: SAME,
    "orders without total": lambda n: {"orders": SAME},
    "only hasMore true": lambda n: {"orders": SAME, "hasMore": True},
    "a total that grows": lambda n: {"orders": SAME, "total": 100 + 50 * n},
    "oldest first": lambda n: {"orders": OLDEST_FIRST},
    "two pages in turn": lambda n: {"orders": SAME if n % 2 == 0 else OTHER},
    "two pages in turn, enveloped with total": lambda n: {
        "success": True,
        "data": {"orders": SAME if n % 2 == 0 else OTHER, "pagination": {"total": 1000}},
    },
}


@pytest.mark.parametrize("read_ahead", [False, True], ids=["plain", "read-ahead"])
@pytest.mark.parametrize("shape", list(SHAPES))
async def test_a_server_ignoring_offset_ends_the_walk_within_5_requests(
    shape: str, read_ahead: bool
) -> None:
    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        return web.json_response(SHAPES[shape](n))

    async with hostile(handler) as server, client(server.url) as api:
        yielded: list[str] = []
        with pytest.raises(PaginationError):
            await _walk(api.orders.iter(page_size=PAGE, read_ahead=read_ahead), yielded)
    assert len(server.requests) <= 5
    assert len(yielded) == len(set(yielded))  # no item twice
    if shape != "oldest first":  # that one is refused on its first page (test_pagination_lies)
        assert len({q["offset"] for q in server.requests}) > 1  # it did ask for other offsets


async def _walk(pager: Listing[Order], into: list[str]) -> None:
    async for item in pager:
        into.append(item.id)


async def test_a_known_total_caps_the_walk() -> None:
    # Fresh ids at every offset and a total that keeps exactly ahead of the walk: nothing but
    # the cap ends it.
    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        offset = int(request.query["offset"])
        items = [order(offset + i, _at(offset + i)) for i in range(PAGE)]
        return web.json_response({"orders": items, "total": 100 + (PAGE - 1) * n})

    async with hostile(handler) as server, client(server.url) as api:
        with pytest.raises(PaginationError, match="did not end within"):
            await api.orders.iter(page_size=PAGE).collect()
    growth_bound = 2 * 100 + 1000  # the documented bound on growth a walk follows
    assert len(server.requests) == request_cap(growth_bound, PAGE) + 1
    assert request_cap(100, PAGE) == math.ceil(100 / (PAGE - 1)) + 1 + 10


async def test_step_backs_after_removals_still_finish_the_walk() -> None:
    # A legitimate listing that loses its head items while we walk: pages start past the
    # boundary, the walk steps back, and nothing that stayed is missed (no PaginationError).
    listing = [order(n, _at(n)) for n in range(100)]

    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        if n in (1, 2, 3):
            del listing[:5]  # five removed ahead of the walk, three times
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        chunk = listing[offset : offset + limit]
        return web.json_response({"orders": chunk, "total": len(listing)})

    async with hostile(handler) as server, client(server.url) as api:
        pager = api.orders.iter(page_size=PAGE)
        ids = [item.id async for item in pager]
    assert len(ids) == len(set(ids))
    assert {item["id"] for item in listing} <= set(ids)
    assert pager.stats.backtracks >= 1
    assert len(server.requests) <= request_cap(100, PAGE)


def _clear_yarl_caches() -> None:
    """yarl keeps global LRU caches of the URLs it built and parsed (bounded, a few hundred
    entries): the test's server shares the process and parses 300 distinct request URLs, which
    is not the walk's memory."""
    import yarl._url

    for name in dir(yarl._url):
        clear = getattr(getattr(yarl._url, name), "cache_clear", None)
        if clear is not None:
            clear()


@pytest.mark.parametrize(
    "created_at", [None, "2026-01-30T10:40:00Z"], ids=["no createdAt", "one shared createdAt"]
)
async def test_walk_memory_is_flat(created_at: str | None) -> None:
    items, page = 30_000, 100

    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        offset = int(request.query["offset"])
        chunk = [order(i, created_at) for i in range(offset, min(items, offset + page))]
        return web.json_response({"orders": chunk, "total": items})

    async with hostile(handler) as server, client(server.url) as api:
        pager = api.orders.iter(page_size=page)
        count = 0
        async for _ in pager:
            count += 1
            if count == 2 * page:  # past the first pages: everything allocated once is warm
                _clear_yarl_caches()
                gc.collect()
                tracemalloc.start()
                before = tracemalloc.get_traced_memory()[0]
        _clear_yarl_caches()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
    assert count == items  # every item once
    assert len(server.requests) == math.ceil((items - 1) / (page - 1))
    # Remembering every id would hold ~28,000 strings in a set: several MB.
    assert grown < 256 * 1024, grown
    assert peak < 4 * 1024 * 1024, peak
