"""The page walk's decisions, free of I/O: :class:`Walk`, fed each page it asked for, says
what to yield, where to read next and when to stop, with two guards: where it stands
(``Boundary``) and whether it may go on (``Progress``: the listing's order, the offset
honoured, the request cap). :class:`~aioprintora.pagination.Listing` only does the I/O.

Both keep O(page size) state whatever the listing's length, so a walk's memory is flat:

- :class:`Boundary` remembers the last yielded ``created_at`` and the ids yielded by the last
  two pages that yielded any, never the whole listing. Items without ``createdAt``, or sharing
  one, are compared by id against those ids only: an item pushed forward by more than a page of
  inserts between two reads may come again (a server cycling pages is caught by
  :class:`Progress` instead).
- :class:`Progress` ends a walk the server does not let advance, or whose pages are not newest
  first (a ``createdAt`` newer than the one before it on a page: the walk's boundary and
  deduplication both rest on that order, so such a page raises before any of it is yielded).
  The same ids answered at two different offsets are weighed: a reported ``total`` that grew
  by exactly the offset difference is what inserts at the head do; one that grew by more, or
  no ``total``, proves the offset ignored (two such answers in a row raise
  :class:`~aioprintora.PaginationError`); one that grew by less would also need as many
  removals behind the page as inserts ahead of it, at every read (four in a row raise). A walk
  never ends on a repeat that is not explained (:attr:`Progress.repeated`). So a server
  ignoring the offset is caught within 5 requests whatever its page shape and its ``total``,
  and never ends a walk silently. When the first page reports ``total``, the walk is also capped
  at ``ceil(total / stride) + 1`` requests plus ``max(10, 10%)`` of slack
  (``stride`` = page size - 1: pages overlap by one item), step-backs included; ``total`` here
  is the largest reported during the walk, but at most ``2 * first total + 1000``, so a
  listing growing during the walk may still be walked to its end.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import attrs

from .._errors import PaginationError
from .._models import Page, Pagination

__all__ = ["Boundary", "PaginationStats", "Progress", "Walk", "request_cap"]

Key = tuple[datetime | None, str]
T = TypeVar("T")


class Boundary:
    """The last yielded position in the listing's order (newest first), in O(page) memory."""

    def __init__(self) -> None:
        self.created_at: datetime | None = None
        self._recent: deque[frozenset[str]] = deque(maxlen=2)

    def seen(self, item_id: str) -> bool:
        """Whether ``item_id`` was yielded by one of the last two pages that yielded any."""
        return any(item_id in ids for ids in self._recent)

    def is_new(self, key: Key) -> bool:
        """Whether an item sorts after the boundary, i.e. was not yielded yet."""
        created_at, item_id = key
        known = created_at is not None and self.created_at is not None
        if known and created_at != self.created_at:
            return created_at < self.created_at  # type: ignore[operator]  # known: both set
        return not self.seen(item_id)

    def starts_past(self, key: Key) -> bool:
        """Whether a page starting with ``key`` skipped over the boundary item."""
        created_at, _ = key
        if created_at is None or self.created_at is None:
            return False
        return created_at < self.created_at

    def advance(self, keys: Sequence[Key]) -> None:
        """Move past the yielded ``keys`` (one page's worth), remembering their ids."""
        if not keys:
            return  # a page of nothing new must not push older ids out of memory
        for created_at, _ in keys:
            if created_at is not None:
                self.created_at = created_at
        self._recent.append(frozenset(item_id for _, item_id in keys))


def request_cap(total: int, page_size: int) -> int:
    """Most requests a walk of a listing of ``total`` items may make (see the module doc)."""
    stride = max(1, page_size - 1)
    base = math.ceil(max(0, total) / stride) + 1
    return base + max(10, math.ceil(base / 10))


#: Weight of a repeated page at another offset, by what would explain it, and the sum of the
#: weights of answers in a row that ends the walk (see the module docstring).
_EXPLAINED, _UNLIKELY, _PROOF, _IGNORED = 0, 1, 2, 4


class Progress:
    """Raises :class:`PaginationError` when the server does not let the walk advance."""

    def __init__(self, page_size: int) -> None:
        self._page_size = page_size
        self._recent: deque[tuple[list[str], int, Pagination]] = deque(maxlen=2)
        self._ignored = 0  # weight of the answers in a row that show the offset is ignored
        #: Whether the last answer repeated a page sent for another offset, unexplained.
        self.repeated = False
        self.first_total: int | None = None
        self.largest_total = 0
        self.requests = 0

    @property
    def cap(self) -> int | None:
        """The request cap (None: the first page reported no ``total``)."""
        if self.first_total is None:
            return None
        # Inserts during the walk earn more requests, but only up to a bounded growth, so a
        # server inflating ``total`` as fast as we read still meets the cap.
        grown = min(self.largest_total, 2 * self.first_total + 1000)
        return request_cap(max(self.first_total, grown), self._page_size)

    def check(self, keys: Sequence[Key], offset: int, meta: Pagination) -> None:
        """Digest one answer (before anything is yielded from it)."""
        self.requests += 1
        _newest_first(keys, offset)
        ids = [item_id for _, item_id in keys]
        if meta.total_reported:
            if self.requests == 1:
                self.first_total = meta.total
            self.largest_total = max(self.largest_total, meta.total)
        cap = self.cap
        if cap is not None and self.requests > cap:
            raise PaginationError(
                f"the listing did not end within {cap} requests although its first page "
                f"reported {self.first_total} items"
            )
        same = [entry for entry in self._recent if entry[0] == ids] if ids else []
        weight = _weight(same[-1], offset, meta) if same else _EXPLAINED
        self.repeated = weight > _EXPLAINED
        self._ignored = self._ignored + weight if weight else 0
        if self._ignored >= _IGNORED:
            raise PaginationError(
                f"the server ignores the offset: it answered offset {offset} with items it "
                "already sent for another offset"
            )
        self._recent.append((ids, offset, meta))


def _weight(seen: tuple[list[str], int, Pagination], offset: int, now: Pagination) -> int:
    """How strongly the same page at another offset shows that the offset is ignored.

    With inserts only at the head and removals anywhere, a page met again ``shift`` items
    further on had ``shift`` more inserts than removals ahead of it, so the listing grew by at
    most ``shift``, and by less only if items behind the page went away meanwhile.
    """
    _, at, then = seen
    if offset == at:
        return _EXPLAINED
    if not (now.total_reported and then.total_reported):
        return _PROOF  # nothing but an ignored offset explains it without a total
    growth, shift = now.total - then.total, offset - at
    if growth > shift:
        return _PROOF
    return _EXPLAINED if growth == shift else _UNLIKELY


def _newest_first(keys: Sequence[Key], offset: int) -> None:
    """Raise unless the page's ``createdAt`` never increases (items without one are skipped)."""
    newest: datetime | None = None
    for position, (created_at, item_id) in enumerate(keys):
        if created_at is None:
            continue
        if newest is not None and created_at > newest:
            raise PaginationError(
                f"the listing is not newest first: at offset {offset + position}, {item_id!r} "
                f"was created after the item before it ({created_at.isoformat()} > "
                f"{newest.isoformat()}); walking it would skip or repeat items"
            )
        newest = created_at


# -- the walk -----------------------------------------------------------------------------------


@attrs.define
class PaginationStats:
    """What a walk did about drift; read it after (or during) the iteration."""

    pages: int = 0
    items: int = 0
    duplicates_skipped: int = 0
    backtracks: int = 0
    #: Pages read on although a gap may remain: the listing changed faster than 25 step-backs
    #: in a row could follow.
    possible_gaps: int = 0


# Step-backs in a row before the walk accepts a possible gap and reads on: a listing churning
# faster than we can read it must not hold the walk in place.
_MAX_BACKTRACKS_PER_PAGE = 25


def _key(item: Any) -> Key:
    return getattr(item, "created_at", None), str(getattr(item, "id", id(item)))


class Walk:
    """Every decision of a drift-guarded walk (see :mod:`aioprintora.pagination`), free of I/O.

    Read ``page_size`` items at :attr:`offset` and pass the page to :meth:`digest` until
    :attr:`done`. Its arguments are trusted: the listing validated them.
    """

    def __init__(self, page_size: int, max_items: int | None = None, offset: int = 0) -> None:
        # Each page after the first re-reads one item, so a walk needs at least 2 per request.
        self.page_size = max(2, page_size)
        #: Where to read next.
        self.offset = offset
        #: Whether the walk ended (the listing's end, or ``max_items`` reached).
        self.done = max_items == 0
        self.stats = PaginationStats()
        self._left = max_items
        self._boundary = Boundary()
        self._progress = Progress(self.page_size)
        self._check_boundary = False  # the first page has nothing to check against
        self._backtracks = 0  # step-backs since the last page read forward
        # Cycle check: a step-back that re-reads the page read just before it, unchanged.
        self._last_read: tuple[list[str], int] | None = None
        self._before_trigger: tuple[list[str], int] | None = None
        self._trigger: tuple[list[str], int, int] | None = None
        self._after_step_back = False
        self._fruitless = False

    def digest(self, page: Page[T]) -> Page[T] | None:
        """The page's items not yielded before (None: nothing, read on at :attr:`offset`).

        Raises:
            PaginationError: the server's pages do not add up (see the module docstring).
        """
        self.stats.pages += 1
        items, meta, offset = page.items, page.pagination, self.offset
        keys = [_key(item) for item in items]
        ids = [item_id for _, item_id in keys]
        self._progress.check(keys, offset, meta)
        # A page read one item early (or after a step back) should start at or before the
        # boundary. Starting past it, or empty although the listing is now shorter than our
        # offset, means items ahead of us went away and others slid behind the offset.
        moved = bool(items) and self._boundary.starts_past(keys[0])
        shrank = not items and meta.total_reported and 0 <= meta.total <= offset
        if self._check_boundary and offset > 0 and (moved or shrank):
            trigger = (ids, offset, meta.total)
            if self._fruitless and trigger == self._trigger:
                # Stepping back found the page we had read before, unchanged, and the same
                # answer sent us back again: the server repeats itself, stepping back is futile.
                raise PaginationError(
                    f"the server's pages do not add up: offset {offset} keeps answering items "
                    "older than those just before it"
                )
            self._trigger, self._before_trigger = trigger, self._last_read
            self._after_step_back = True
            if self._backtracks < _MAX_BACKTRACKS_PER_PAGE:
                self._backtracks += 1
                self.stats.backtracks += 1
                back = offset - self.page_size if moved else meta.total - self.page_size
                self.offset = max(0, back)
                return None
            self.stats.possible_gaps += 1
        self._backtracks = 0
        read = (ids, meta.total)
        # The page read again after a step back is no repeat.
        repeated = not self._after_step_back and bool(ids) and read == self._last_read
        if self._after_step_back:
            self._after_step_back = False
            self._fruitless = self._before_trigger == read
        self._last_read = read
        if repeated:
            raise PaginationError(f"the server answered offset {offset} with the same page again")
        more = (
            bool(items)
            and meta.has_more
            and not (meta.total >= 0 and offset + len(items) >= meta.total)
        )
        if not more and self._progress.repeated:
            raise PaginationError(
                f"the listing ended at offset {offset} on items the server already sent for "
                "another offset: it ignores the offset"
            )
        if more:
            # Overlap by one item so the next page can be checked against the boundary.
            self._check_boundary = True
            self.offset = offset + len(items) - 1
        fresh, fresh_keys, on_page = [], [], set()
        for item, key in zip(items, keys, strict=True):
            if key[1] not in on_page and self._boundary.is_new(key):
                fresh.append(item)
                fresh_keys.append(key)
            on_page.add(key[1])  # a server repeating an id within one page: yielded once
        self.stats.duplicates_skipped += len(items) - len(fresh)
        if self._left is not None:
            fresh, fresh_keys = fresh[: self._left], fresh_keys[: self._left]
            self._left -= len(fresh)
        self._boundary.advance(fresh_keys)
        self.stats.items += len(fresh)
        self.done = not more or self._left == 0
        return Page(items=fresh, pagination=meta) if fresh else None
