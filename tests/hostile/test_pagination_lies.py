"""A lying server never makes a walk yield an item twice, nor end it silently: every listing.

Three lies, each measured on the walk as a caller sees it (items yielded, requests the server
saw): the same page at every offset while ``total`` grows; the same oldest-first page at every
offset; a listing truly sorted oldest first. Orders and webhook logs alike (the logs' order is
not documented either), with and without read-ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web

from aioprintora import PaginationError, PrintoraClient
from aioprintora.pagination import Listing

from .conftest import client, hostile

pytestmark = pytest.mark.timeout(30)

EPOCH = datetime(2026, 1, 30, tzinfo=timezone.utc)
LISTINGS = ["orders", "logs"]


def _at(age: int) -> str:
    return (EPOCH - timedelta(seconds=age)).isoformat().replace("+00:00", "Z")


def item(listing: str, n: int, age: int) -> dict[str, Any]:
    """Item ``n`` of a listing, created ``age`` seconds before the epoch."""
    if listing == "orders":
        return {"id": f"ord_{n}", "status": "paid", "totalAmount": "1.00", "createdAt": _at(age)}
    return {"id": f"log_{n}", "eventType": "order.paid", "status": "sent", "createdAt": _at(age)}


def walk(api: PrintoraClient, listing: str, page_size: int, read_ahead: bool) -> Listing[Any]:
    if listing == "orders":
        return api.orders.iter(page_size=page_size, read_ahead=read_ahead)
    return api.webhook_logs.iter(page_size=page_size, read_ahead=read_ahead)


async def _yielded(pager: Listing[Any], into: list[str]) -> None:
    async for found in pager:
        into.append(found.id)


Body = Callable[[int, int, int], Any]  # (request index, offset, limit) -> JSON body


async def _run(listing: str, body: Body, page_size: int, read_ahead: bool) -> tuple[int, list[str]]:
    """Walk a server answering ``body``; the requests it saw and the ids yielded (it raises)."""

    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        return web.json_response(body(n, offset, limit))

    yielded: list[str] = []
    async with hostile(handler) as server, client(server.url) as api:
        with pytest.raises(PaginationError):
            await _yielded(walk(api, listing, page_size, read_ahead), yielded)
    return len(server.requests), yielded


AHEAD = pytest.mark.parametrize("read_ahead", [False, True], ids=["plain", "read-ahead"])
LISTING = pytest.mark.parametrize("listing", LISTINGS)


@AHEAD
@LISTING
@pytest.mark.parametrize(
    ("first", "growth"), [(1000, 1), (1000, 10), (1000, 50), (150, 1), (150, 50)]
)
async def test_the_same_page_at_every_offset_with_a_growing_total_fails_within_5_requests(
    listing: str, first: int, growth: int, read_ahead: bool
) -> None:
    # A first total of 150 would let the walk end on "total reached" after 2 or 3 requests.
    key = "orders" if listing == "orders" else "logs"
    page = [item(listing, n, n) for n in range(100)]
    requests, yielded = await _run(
        listing, lambda n, *_: {key: page, "total": first + growth * n}, 100, read_ahead
    )
    assert requests <= 5
    assert len(yielded) == len(set(yielded)) == 100


@AHEAD
@LISTING
async def test_the_same_oldest_first_page_at_every_offset_never_yields_an_item_twice(
    listing: str, read_ahead: bool
) -> None:
    key = "orders" if listing == "orders" else "logs"
    page = [item(listing, n, 100 - n) for n in range(100)]
    requests, yielded = await _run(listing, lambda *_: {key: page, "total": 1000}, 100, read_ahead)
    assert len(yielded) == len(set(yielded))
    assert requests <= 5


@AHEAD
@LISTING
@pytest.mark.parametrize(("size", "page_size"), [(100, 20), (250, 100)])
async def test_a_listing_sorted_oldest_first_fails_within_2_pages(
    listing: str, size: int, page_size: int, read_ahead: bool
) -> None:
    key = "orders" if listing == "orders" else "logs"
    items = [item(listing, n, size - n) for n in range(size)]  # n = 0 is the oldest

    def body(n: int, offset: int, limit: int) -> Any:
        return {key: items[offset : offset + limit], "total": size}

    requests, yielded = await _run(listing, body, page_size, read_ahead)
    assert requests <= 2
    assert len(yielded) == len(set(yielded))
