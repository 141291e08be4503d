"""Property tests of the page walk's drift handling against an in-memory listing.

The listing is newest first, like the API's; between any two page reads, hypothesis inserts new
items at the head and removes arbitrary items (status changes out of a filter). Whatever it
does, the walk must yield no item twice, and must yield every item that stayed in the listing
from start to end (RELIABILITY 15 and 16). The HTTP path is covered by test_pagination.py.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioprintora import pagination
from aioprintora._errors import PaginationError
from aioprintora._models import Page, Pagination

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


@attrs.frozen
class Item:
    id: str
    created_at: datetime


class Listing:
    """Newest first; ``changes`` are applied one per page read, before the read."""

    def __init__(self, size: int, changes: list[tuple[int, list[int]]]) -> None:
        self.clock = 0
        self.items: list[Item] = [self._new() for _ in range(size)][::-1]
        self.changes = iter(changes)
        self.answers: list[tuple[list[str], int]] = []

    def _new(self) -> Item:
        self.clock += 1
        return Item(f"i{self.clock}", EPOCH + timedelta(milliseconds=self.clock))

    def _drift(self) -> None:
        inserts, removals = next(self.changes, (0, []))
        for _ in range(inserts):
            self.items.insert(0, self._new())
        for index in sorted({r % len(self.items) for r in removals if self.items}, reverse=True):
            del self.items[index]

    async def fetch(self, limit: int, offset: int) -> Page[Item]:
        self._drift()
        chunk = self.items[offset : offset + limit]
        total = len(self.items)
        self.answers.append(([item.id for item in chunk], total))
        return Page(chunk, Pagination(total, limit, offset, offset + len(chunk) < total))


changes = st.lists(
    st.tuples(st.integers(0, 12), st.lists(st.integers(0, 10_000), max_size=4)), max_size=40
)


# Read-ahead on (the default) fetches each next page while the current one is consumed, so a
# page may be read before or after a drift and a read-ahead may be thrown away on a step back.
READ_AHEAD = pytest.mark.parametrize(
    "read_ahead", [True, False], ids=["read-ahead", "no-read-ahead"]
)


@READ_AHEAD
@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 120), page=st.integers(1, 25), drift=changes)
def test_no_duplicates_and_nothing_that_stayed_is_missed(
    read_ahead: bool, size: int, page: int, drift: list[tuple[int, list[int]]]
) -> None:
    listing = Listing(size, drift)
    before = {item.id for item in listing.items}
    walk = pagination.Listing(listing.fetch, limit=page, read_ahead=read_ahead)
    try:
        seen = asyncio.run(_collect(walk))
    except PaginationError:
        # Allowed only when two answers in a row were identical, which is exactly what a server
        # ignoring the offset looks like (here inserts and removals happened to cancel out).
        assert listing.answers[-1] == listing.answers[-2]
        return
    stayed = before & {item.id for item in listing.items}
    assert len(seen) == len(set(seen))
    assert stayed <= set(seen)
    assert set(seen) <= before | {item.id for item in listing.items} | _removed_later(listing)


def _removed_later(listing: Listing) -> set[str]:
    # Items created during the walk and removed again may have been yielded: they existed.
    return {f"i{n}" for n in range(1, listing.clock + 1)}


@READ_AHEAD
@settings(max_examples=200, deadline=None)
@given(size=st.integers(0, 80), page=st.integers(1, 20), inserts=st.lists(st.integers(0, 30)))
def test_inserts_only_yield_every_original_item_exactly_once(
    read_ahead: bool, size: int, page: int, inserts: list[int]
) -> None:
    listing = Listing(size, [(n, []) for n in inserts])
    before = [item.id for item in listing.items]
    walk = pagination.Listing(listing.fetch, limit=page, read_ahead=read_ahead)
    seen = asyncio.run(_collect(walk))
    assert len(seen) == len(set(seen))
    assert set(before) <= set(seen)
    assert walk.stats.backtracks == 0  # inserts never need a step back


async def _collect(pager: pagination.Listing[Item]) -> list[str]:
    return [item.id async for item in pager]
