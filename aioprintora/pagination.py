"""Offset pagination: decoding every page shape, the boundary arithmetic, and the iterators.

Shapes accepted ([drift] in the spec): ``{"orders": [...], "pagination": {...}}``, the flat
``{"orders": [...], "total": 42, "limit": 20, "offset": 0}``, a bare ``{"logs": [...]}`` and a
bare list. When the server does not say whether more items exist, a full page means "maybe":
the next request finds out, so nothing is skipped.

Offset drift. Listings are newest first, so while a long walk runs, new items arrive at the head
and push older ones to higher offsets, and items leaving a status filter pull them back. The
walk therefore never trusts offsets alone:

- each page after the first is requested one item early, so it should start with the last item
  already yielded (the *boundary*);
- an item is yielded only if it sorts after the boundary (older ``created_at``; ties broken by
  the ids of the last two pages), so an item pushed forward by inserts is never yielded
  twice, and memory stays flat however long the walk;
- if a page starts *past* the boundary, or comes back empty while ``total`` shows the listing
  shrank below our offset, items were removed ahead of us and some may have slid behind our
  offset: the walk steps back and reads again (``stats.backtracks``) until it finds its place,
  so nothing that stayed in the listing from start to end is missed (a property test checks
  this against random inserts and removals);
- otherwise the walk stops on ``hasMore: false``, an empty page, or ``total`` reached; a server
  answering two reads in a row with the very same page stops it with :class:`PaginationError`,
  and so does one ignoring the offset, a page that is not newest first, a step-back that finds
  the same pages again, or a walk past its request cap (see :mod:`aioprintora._http.walk_guard`,
  which also keeps memory flat);
- because of the overlap, a request asks for at least 2 items;
- items created after the walk began are yielded only if they sort after the boundary; a sync
  job picks the rest up on its next run (see :mod:`aioprintora.jobs._sync`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from ._http._shapes import structure_list
from ._http.walk_guard import Boundary, Key, Progress
from .errors import PaginationError
from .models import Page, Pagination

__all__ = ["PageIterator", "Pager", "PaginationStats"]

T = TypeVar("T")


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return default
    try:
        return int(value)
    except ValueError:
        return default


def parse_page(
    data: Any,
    items_key: str,
    item_type: type[T],
    *,
    limit: int,
    offset: int,
    fetch_offset: Callable[[int], Awaitable[Page[T]]] | None = None,
) -> Page[T]:
    """Build a :class:`Page` from a decoded listing body.

    Args:
        data: the decoded ``data`` of the answer (or the whole flat body).
        items_key: ``"orders"`` or ``"logs"``.
        item_type: the model of one item.
        limit: the page size asked for (used when the server omits it).
        offset: the offset asked for (likewise).

    Raises:
        TypeError, ValueError: the body is not a listing (the caller wraps these).
    """
    meta: Mapping[str, Any]
    # ``type(...) is dict`` first: JSON gives dicts, and an ABC check costs several times more.
    if type(data) is list:
        raw_items, meta = data, {}
    elif type(data) is dict or isinstance(data, Mapping):
        raw_items = data[items_key] if items_key in data else data.get("items", data.get("data"))
        nested = data.get("pagination")
        meta = nested if type(nested) is dict or isinstance(nested, Mapping) else data
    elif isinstance(data, list):
        raw_items, meta = data, {}
    else:
        raise TypeError(f"expected a listing, got {type(data).__name__}")
    if not isinstance(raw_items, list):
        raise TypeError(f"the listing has no {items_key!r} list")
    items = structure_list(raw_items, item_type)
    page_limit, page_offset, total = meta.get("limit"), meta.get("offset"), meta.get("total")
    if type(page_limit) is not int:
        page_limit = _int(page_limit, limit)
    if type(page_offset) is not int:
        page_offset = _int(page_offset, offset)
    if type(total) is not int:
        total = _int(total, -1)
    has_more = meta.get("hasMore", meta.get("has_more"))
    if not isinstance(has_more, bool):
        has_more = (
            (page_offset + len(items) < total) if total >= 0 else len(items) >= page_limit > 0
        )
    reported = total >= 0
    if not reported:
        total = page_offset + len(items) + (1 if has_more else 0)
    return Page(
        items=items,
        pagination=Pagination(total, page_limit, page_offset, has_more, total_reported=reported),
        fetch_offset=fetch_offset,
    )


# -- walking every page --------------------------------------------------------------------------


@attrs.define
class PaginationStats:
    """What a walk did about drift; read it after (or during) the iteration."""

    pages: int = 0
    items: int = 0
    duplicates_skipped: int = 0
    backtracks: int = 0
    #: Pages where a gap could not be closed by stepping back (already at the first page).
    possible_gaps: int = 0


def _consume_result(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _key(item: Any) -> Key:
    return getattr(item, "created_at", None), str(getattr(item, "id", id(item)))


# Step-backs in a row before the walk accepts a possible gap and reads on: a listing churning
# faster than we can read it must not hold the walk in place.
_MAX_BACKTRACKS_PER_PAGE = 25
FetchPage = Callable[[int, int], Awaitable["Page[T]"]]


class PageIterator(Generic[T]):
    """``async for page in ...``: every page of a listing, deduplicated, with read-ahead.

    Pages hold only items not yielded before (see the module docstring on drift). Break out of
    the loop, or cancel the task, and any read-ahead request is cancelled at once: the iterator
    holds no reference cycle, so it goes away as soon as the loop lets go of it.
    """

    def __init__(
        self, fetch: FetchPage[T], *, page_size: int, max_items: int | None, read_ahead: bool
    ) -> None:
        if max_items is not None and max_items < 0:
            raise ValueError("max_items must be >= 0")
        self._fetch = fetch
        # Each page after the first re-reads one item, so a walk needs at least 2 per request.
        self._page_size = max(2, page_size)
        self._read_ahead = read_ahead
        self._pending: asyncio.Task[Page[T]] | None = None
        self.stats = PaginationStats()
        # The walk's state: where to read next, and what was already yielded.
        self._boundary = Boundary()
        self._progress = Progress(self._page_size)
        self._backtracks = 0  # step-backs since the last page read forward
        # Cycle check: a step-back that re-reads the page read just before it, unchanged.
        self._last_read: tuple[list[str], int] | None = None
        self._before_trigger: tuple[list[str], int] | None = None
        self._trigger: tuple[list[str], int, int] | None = None
        self._after_step_back = False
        self._fruitless = False
        self._offset = 0
        self._left = max_items
        self._previous: tuple[list[str], int] | None = None
        self._check_boundary = False  # the first page has nothing to check against
        self._done = False

    def __aiter__(self) -> PageIterator[T]:
        return self

    async def __anext__(self) -> Page[T]:
        try:
            while not self._done and (self._left is None or self._left > 0):
                fresh = self._step(await self._get(self._offset))
                if fresh is not None:
                    return fresh
        except BaseException:
            self._finish()
            raise
        self._finish()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop the walk and cancel any read-ahead."""
        self._finish()

    def __del__(self) -> None:
        self._cancel_pending()

    def _finish(self) -> None:
        self._done = True
        self._cancel_pending()

    def _cancel_pending(self) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
        self._pending = None

    async def _get(self, offset: int) -> Page[T]:
        pending, self._pending = self._pending, None
        if pending is not None and getattr(pending, "offset", None) == offset:
            return await pending
        if pending is not None:
            pending.cancel()
        return await self._fetch(self._page_size, offset)

    def _prefetch(self, offset: int) -> None:
        if self._read_ahead:
            task = asyncio.ensure_future(self._fetch(self._page_size, offset))
            task.offset = offset  # type: ignore[attr-defined]
            # A read-ahead nobody awaits (the walk stopped) must not log "never retrieved".
            task.add_done_callback(_consume_result)
            self._pending = task

    def _step(self, page: Page[T]) -> Page[T] | None:
        """Digest one fetched page: the fresh items to yield (None: nothing, read on)."""
        self.stats.pages += 1
        items, meta, offset = page.items, page.pagination, self._offset
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
                back = offset - self._page_size if moved else meta.total - self._page_size
                self._offset = max(0, back)
                self._previous = None  # the page read again after a step back is no repeat
                return None
            self.stats.possible_gaps += 1
        self._backtracks = 0
        if self._after_step_back:
            self._after_step_back = False
            self._fruitless = self._before_trigger == (ids, meta.total)
        self._last_read = (ids, meta.total)
        if ids and (ids, meta.total) == self._previous:
            raise PaginationError(f"the server answered offset {offset} with the same page again")
        self._previous = (ids, meta.total)
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
        # Overlap by one item so the next page can be checked against the boundary.
        self._check_boundary = True
        self._offset = offset + len(items) - 1
        self._done = not more
        if more:
            self._prefetch(self._offset)
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
        return Page(items=fresh, pagination=meta) if fresh else None


class Pager(Generic[T]):
    """``async for item in client.orders.iter(...)``: every item of a listing, lazily.

    ``await pager.collect()`` gathers them in a list; ``pager.stats`` tells what the walk did
    about offset drift.
    """

    def __init__(self, pages: PageIterator[T]) -> None:
        self._pages = pages
        self._buffer: deque[T] = deque()

    @property
    def stats(self) -> PaginationStats:
        """Counters of the walk: pages, items, duplicates skipped, backtracks."""
        return self._pages.stats

    def __aiter__(self) -> Pager[T]:
        return self

    async def __anext__(self) -> T:
        while not self._buffer:
            self._buffer.extend((await self._pages.__anext__()).items)
        return self._buffer.popleft()

    async def collect(self) -> list[T]:
        """Every item, in a list (mind the memory on large listings)."""
        return [item async for item in self]

    async def aclose(self) -> None:
        """Stop the walk and cancel any read-ahead."""
        self._buffer.clear()
        await self._pages.aclose()
