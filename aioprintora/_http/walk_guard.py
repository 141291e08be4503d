"""The page walk's pure guards: where it stands (``Boundary``) and whether it may go on
(``Progress``: the listing's order, the offset honoured, the request cap).

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
  :class:`~aioprintora.errors.PaginationError`); one that grew by less would also need as many
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

from ..errors import PaginationError
from ..models import Pagination

__all__ = ["Boundary", "Progress", "request_cap"]

Key = tuple[datetime | None, str]


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
