"""The page walk's pure guards, fed scripted pages: no server, no event loop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from aioprintora._errors import PaginationError
from aioprintora._http.walk_guard import Boundary, Key, Progress, request_cap
from aioprintora._models import Pagination

EPOCH = datetime(2026, 1, 30, tzinfo=timezone.utc)
PAGE = 20


Answer = tuple[list[Key], int, int | None]  # a page's keys, its offset, its total (None: none)


def keys(first: int, count: int = PAGE, *, oldest_first: bool = False) -> list[Key]:
    """Items ``first .. first+count``; a higher number is older unless ``oldest_first``."""
    step = -1 if oldest_first else 1
    return [(EPOCH - timedelta(seconds=step * n), f"i{n}") for n in range(first, first + count)]


def meta(offset: int, total: int | None) -> Pagination:
    reported = total is not None
    return Pagination(total if reported else offset + PAGE + 1, PAGE, offset, True, reported)


def feed(progress: Progress, answers: list[Answer]) -> int:
    """Check each (keys, offset, total) in turn; how many were accepted before it raised."""
    for accepted, (page, offset, total) in enumerate(answers):
        try:
            progress.check(page, offset, meta(offset, total))
        except PaginationError:
            return accepted
    return len(answers)


STRIDE = PAGE - 1


def same_page(
    total: Callable[[int], int | None], reads: int = 8
) -> list[tuple[list[Key], int, int | None]]:
    """The same page answered at every offset the walk asks for, with ``total(n)``."""
    return [(keys(0), n * STRIDE, total(n)) for n in range(reads)]


# -- the order ----------------------------------------------------------------------------------


def test_a_page_newest_first_passes_ties_and_missing_dates_included() -> None:
    page = keys(0)
    page[3] = (page[2][0], "tie")  # the same createdAt as the one before
    page[7] = (None, "undated")
    assert feed(Progress(PAGE), [(page, 0, 100)]) == 1


@pytest.mark.parametrize("where", [1, 10, PAGE - 1])
def test_a_page_with_an_item_newer_than_the_one_before_is_refused(where: int) -> None:
    page = keys(0)
    page[where] = (page[0][0] + timedelta(seconds=1), "newer")
    with pytest.raises(PaginationError, match=f"not newest first: at offset {40 + where}"):
        Progress(PAGE).check(page, 40, meta(40, 100))


def test_an_oldest_first_page_is_refused_on_the_first_answer() -> None:
    assert feed(Progress(PAGE), [(keys(0, oldest_first=True), 0, 100)]) == 0


# -- the same page at other offsets -------------------------------------------------------------


def test_a_total_grown_by_exactly_the_shift_is_inserts_and_goes_on() -> None:
    # Inserts at the head push the very page we read one stride further each time: legitimate,
    # and only the request cap ends it.
    progress = Progress(PAGE)
    answers = same_page(lambda n: 1000 + STRIDE * n, reads=30)
    assert feed(progress, answers) == 30


@pytest.mark.parametrize("growth", [0, 1, STRIDE - 1])
def test_a_total_grown_by_less_than_the_shift_ends_on_the_fifth_answer(growth: int) -> None:
    accepted = feed(Progress(PAGE), same_page(lambda n: 1000 + growth * n))
    assert accepted == 4  # the fifth answer raises: four unlikely repeats in a row


@pytest.mark.parametrize("growth", [STRIDE + 1, 500])
def test_a_total_grown_by_more_than_the_shift_ends_on_the_third_answer(growth: int) -> None:
    assert feed(Progress(PAGE), same_page(lambda n: 1000 + growth * n)) == 2


def test_without_a_total_the_third_answer_ends_it() -> None:
    assert feed(Progress(PAGE), same_page(lambda n: None)) == 2


def test_an_unexplained_repeat_is_flagged_so_that_a_walk_cannot_end_on_it() -> None:
    progress = Progress(PAGE)
    progress.check(keys(0), 0, meta(0, 150))
    assert not progress.repeated
    progress.check(keys(0), STRIDE, meta(STRIDE, 151))  # grew by 1 where the step was 19
    assert progress.repeated
    progress.check(keys(STRIDE), 2 * STRIDE, meta(2 * STRIDE, 152))
    assert not progress.repeated
    progress.check(keys(STRIDE), 3 * STRIDE, meta(3 * STRIDE, 152 + STRIDE))  # inserts
    assert not progress.repeated


def test_a_fresh_page_in_between_starts_the_count_again() -> None:
    progress = Progress(PAGE)
    answers = [
        (keys(0), 0, 1000),
        (keys(0), 19, 1001),
        (keys(0), 38, 1002),
        (keys(19), 57, 1003),  # the walk moved on
        (keys(19), 76, 1004),
        (keys(19), 95, 1005),
        (keys(19), 114, 1006),
    ]
    assert feed(progress, answers) == 7


# -- the cap and the boundary -------------------------------------------------------------------


def test_the_request_cap_follows_a_bounded_growth() -> None:
    progress = Progress(PAGE)
    fresh = [(keys(n * STRIDE), n * STRIDE, 100 + STRIDE * n) for n in range(200)]
    assert feed(progress, fresh) == request_cap(2 * 100 + 1000, PAGE)


def test_the_boundary_knows_what_it_yielded_in_two_pages_of_memory() -> None:
    boundary = Boundary()
    first, second, third = keys(0), keys(19), keys(38)
    boundary.advance(first)
    assert not boundary.is_new(first[-1])  # the overlap item, by its date and id
    assert all(boundary.is_new(key) for key in second[1:])
    boundary.advance(second[1:])
    boundary.advance(third[1:])
    assert boundary.starts_past(keys(60, 1)[0])  # older than the last item yielded
    assert not boundary.seen("i0")  # three pages back: forgotten, memory stays flat
