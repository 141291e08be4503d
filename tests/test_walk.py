"""The page walk's decisions (``walk_guard.Walk``), fed scripted pages: no server, no event loop.

Each test plays a server's answers to the offsets the walk asks for, as gidgethub tests its
``sansio`` with saved samples; the I/O shell around it (``Listing``) is tested against real
servers in test_pagination.py and tests/hostile/.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import attrs
import pytest

from aioprintora._errors import PaginationError
from aioprintora._http.walk_guard import _MAX_BACKTRACKS_PER_PAGE, Walk
from aioprintora._models import Page, Pagination

EPOCH = datetime(2026, 1, 30, tzinfo=timezone.utc)
SIZE = 5  # the page size of these walks


@attrs.frozen
class Item:
    id: str
    created_at: datetime | None


def item(n: int) -> Item:
    """Item ``n``: a higher number is older (a listing is newest first)."""
    return Item(f"i{n}", EPOCH - timedelta(seconds=n))


def page(
    numbers: list[int], offset: int, total: int | None = None, has_more: bool = True
) -> Page[Item]:
    """A page of the items ``numbers`` at ``offset``; ``total`` None: the server sent none."""
    reported = total is not None
    known = total if total is not None else offset + len(numbers) + int(has_more)
    return Page([item(n) for n in numbers], Pagination(known, SIZE, offset, has_more, reported))


def listing(numbers: list[int], total: int | None = None) -> Callable[[int], Page[Item]]:
    """A server answering each offset from ``numbers`` honestly."""

    def answer(offset: int) -> Page[Item]:
        chunk = numbers[offset : offset + SIZE]
        shown = len(numbers) if total is None else total
        return page(chunk, offset, shown, offset + len(chunk) < shown)

    return answer


def run(walk: Walk, answer: Callable[[int], Page[Item]]) -> tuple[list[str], list[int]]:
    """Walk to the end: the ids yielded, and the offsets read."""
    yielded, offsets = [], []
    while not walk.done:
        offsets.append(walk.offset)
        fresh = walk.digest(answer(walk.offset))
        if fresh is not None:
            yielded += [found.id for found in fresh]
    return yielded, offsets


# -- reading on, and the end ---------------------------------------------------------------------


def test_pages_overlap_by_one_item_and_each_item_is_yielded_once() -> None:
    walk = Walk(SIZE)
    yielded, offsets = run(walk, listing(list(range(12))))
    assert yielded == [f"i{n}" for n in range(12)]
    assert offsets == [0, 4, 8]  # each read starts on the last item already yielded
    assert walk.stats.pages == 3
    assert walk.stats.items == 12
    assert walk.stats.duplicates_skipped == 2  # the two overlap items
    assert walk.stats.backtracks == 0


def test_a_page_size_of_one_still_overlaps() -> None:
    walk = Walk(1)
    assert walk.page_size == 2
    yielded, _ = run(walk, listing(list(range(5))))
    assert yielded == [f"i{n}" for n in range(5)]


def test_a_walk_may_start_at_an_offset() -> None:
    walk = Walk(SIZE, offset=6)
    yielded, offsets = run(walk, listing(list(range(12))))
    assert yielded == [f"i{n}" for n in range(6, 12)]
    assert offsets == [6, 10]


@pytest.mark.parametrize(
    ("answer", "done"),
    [
        (page([0, 1, 2, 3, 4], 0, 100, has_more=False), True),  # hasMore: false
        (page([], 0, 100), True),  # an empty page
        (page([0, 1, 2, 3, 4], 0, 5), True),  # total reached, whatever hasMore says
        (page([0, 1, 2, 3, 4], 0, None), False),  # no total, a full page: maybe more
        (page([0, 1, 2, 3, 4], 0, 100), False),
    ],
    ids=["no more", "empty", "total reached", "full page, no total", "more"],
)
def test_the_end_of_the_listing(answer: Page[Item], done: bool) -> None:
    walk = Walk(SIZE)
    walk.digest(answer)
    assert walk.done is done
    if not done:
        assert walk.offset == 4


def test_max_items_caps_the_walk_mid_page() -> None:
    walk = Walk(SIZE, max_items=7)
    yielded, offsets = run(walk, listing(list(range(50))))
    assert yielded == [f"i{n}" for n in range(7)]
    assert offsets == [0, 4]
    assert walk.stats.items == 7


def test_max_items_zero_reads_nothing() -> None:
    assert Walk(SIZE, max_items=0).done


def test_an_id_repeated_within_a_page_is_yielded_once() -> None:
    walk = Walk(SIZE)
    fresh = walk.digest(page([0, 1, 1, 2], 0, 4, has_more=False))
    assert fresh is not None
    assert [found.id for found in fresh] == ["i0", "i1", "i2"]
    assert walk.stats.duplicates_skipped == 1


def test_a_page_of_nothing_new_is_no_page_and_the_walk_reads_on() -> None:
    # Inserts at the head pushed the page we read one stride further: all of it was yielded.
    walk = Walk(SIZE)
    walk.digest(page([0, 1, 2, 3, 4], 0, 100))
    assert walk.digest(page([0, 1, 2, 3, 4], 4, 104)) is None
    assert not walk.done
    assert walk.offset == 8
    assert walk.stats.duplicates_skipped == 5


# -- stepping back ---------------------------------------------------------------------------------


def test_items_removed_ahead_make_the_walk_step_back_and_miss_nothing() -> None:
    walk = Walk(SIZE)
    assert walk.digest(page([0, 1, 2, 3, 4], 0, 20)) is not None
    # i1 and i2 went away: offset 4 now starts past i4, the boundary, and i5 slid behind it.
    assert walk.digest(page([6, 7, 8, 9, 10], 4, 18)) is None
    assert walk.offset == 0  # one page back (not below the first)
    assert walk.stats.backtracks == 1
    fresh = walk.digest(page([0, 3, 4, 5, 6], 0, 18))
    assert fresh is not None
    assert [found.id for found in fresh] == ["i5", "i6"]
    assert walk.offset == 4


def test_an_empty_page_past_a_shrunk_total_steps_back_to_the_new_end() -> None:
    walk = Walk(SIZE)
    walk.digest(page([0, 1, 2, 3, 4], 0, 20))
    walk.digest(page([4, 5, 6, 7, 8], 4, 20))
    walk.digest(page([8, 9, 10, 11, 12], 8, 20))
    assert walk.offset == 12
    # Ten items went away meanwhile: the listing now ends before our offset.
    assert walk.digest(page([], 12, 10, has_more=False)) is None
    assert walk.offset == 10 - SIZE
    assert not walk.done
    assert walk.stats.backtracks == 1


def test_a_step_back_that_finds_the_same_pages_again_raises() -> None:
    # Offset 4 answers older items than offset 0 ended on; stepping back reads offset 0 again,
    # unchanged, and offset 4 sends us back the same way: the server repeats itself.
    walk = Walk(SIZE)
    first, ahead = page([0, 1, 2, 3, 4], 0, 20), page([10, 11, 12, 13, 14], 4, 20)
    walk.digest(first)
    assert walk.digest(ahead) is None
    assert walk.digest(first) is None  # nothing new on it
    with pytest.raises(PaginationError, match="do not add up"):
        walk.digest(ahead)


def test_a_listing_churning_faster_than_the_walk_is_read_on_past_a_possible_gap() -> None:
    walk = Walk(SIZE)
    run_until = 200
    while walk.offset < run_until:  # walk forward through an honest listing first
        walk.digest(listing(list(range(1000)))(walk.offset))
    # From now on every read starts past the boundary (with new items each time): each one
    # sends the walk back a page, until it gives up stepping back and reads on.
    for step in range(_MAX_BACKTRACKS_PER_PAGE):
        older = [5000 + 10 * step + n for n in range(SIZE)]
        assert walk.digest(page(older, walk.offset, 1000)) is None
    assert walk.stats.backtracks == _MAX_BACKTRACKS_PER_PAGE
    assert walk.offset == run_until - _MAX_BACKTRACKS_PER_PAGE * SIZE
    fresh = walk.digest(page([9000 + n for n in range(SIZE)], walk.offset, 1000))
    assert fresh is not None
    assert len(fresh) == SIZE
    assert walk.stats.possible_gaps == 1
    assert walk.stats.backtracks == _MAX_BACKTRACKS_PER_PAGE


# -- servers that lie --------------------------------------------------------------------------


def test_the_same_page_twice_in_a_row_raises() -> None:
    walk = Walk(SIZE)
    walk.digest(page([0, 1, 2, 3, 4], 0, 20))
    with pytest.raises(PaginationError, match="same page again"):
        walk.digest(page([0, 1, 2, 3, 4], 4, 20))


def test_a_listing_ending_on_a_page_sent_for_another_offset_raises() -> None:
    # No total: only the offset's being ignored explains the same items at offset 4.
    walk = Walk(SIZE)
    walk.digest(page([0, 1, 2, 3, 4], 0))
    with pytest.raises(PaginationError, match="ignores the offset"):
        walk.digest(page([0, 1, 2, 3, 4], 4, has_more=False))


def test_a_page_not_newest_first_raises_before_anything_is_yielded() -> None:
    walk = Walk(SIZE)
    with pytest.raises(PaginationError, match="not newest first"):
        walk.digest(page([4, 3, 2, 1, 0], 0, 20))
    assert walk.stats.items == 0
