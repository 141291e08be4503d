"""Offset pagination: decoding every page shape, and :class:`Listing`, one object per listing.

``client.orders.list(...)`` and ``client.orders.iter(...)`` return a :class:`Listing`: ``await``
it for the one page it names, ``async for`` it for every item, or ``.pages()`` for every page.

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
  answering two reads in a row with the very same page stops it with
  :class:`~aioprintora.PaginationError`, and so does one ignoring the offset, a page
  that is not newest first, a step-back that finds the same pages again, or a walk past its
  request cap (see :mod:`aioprintora._http.walk_guard`, which also keeps memory flat);
- because of the overlap, a request asks for at least 2 items;
- items created after the walk began are yielded only if they sort after the boundary; a sync
  job picks the rest up on its next run (see :mod:`aioprintora.jobs._sync`).

Every one of these decisions is taken by ``walk_guard.Walk``, without I/O, so that it can be
tested with scripted pages; :class:`Listing` only reads the pages it asks for.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Generator, Mapping
from functools import cached_property
from typing import Any, Generic, TypeVar

from ._http._shapes import structure_list
from ._http.walk_guard import PaginationStats, Walk
from ._models import Page, Pagination

__all__ = ["Listing", "PaginationStats"]

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


# -- one listing ---------------------------------------------------------------------------------

#: What a listing reads pages with: ``await fetch(limit, offset)`` is one page.
FetchPage = Callable[[int, int], Awaitable["Page[T]"]]


def _consume_result(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class Listing(Coroutine[Any, Any, Page[T]], Generic[T]):
    """One listing: ``await`` it for a page, ``async for`` it for every item.

    - ``await listing``: one request, the page of ``limit`` items at ``offset``, as the server
      sent it (``max_items`` does not apply; ``page.next_page()`` reads on by hand);
    - ``async for item in listing``: every item from ``offset`` on, newest first, each once,
      in requests of ``limit`` items (at least 2: pages overlap by one), up to ``max_items``;
      see the module docstring on drift;
    - ``async for page in listing.pages()``: the same walk, a page at a time;
    - ``await listing.collect()``: every item in a list; ``listing.stats``: what the walk did.

    A listing walks once: iterating it again goes on where it stopped. Break out of the loop,
    or cancel the task, and any read-ahead request is cancelled at once: a listing holds no
    reference cycle, so it goes away as soon as the loop lets go of it. A listing is also a
    coroutine of its one request, so ``asyncio.create_task(client.orders.list())`` works as it
    did when ``list`` was a coroutine function.

    Args:
        fetch: reads one page (``limit``, ``offset``); the resource validated its arguments.
        limit: the page size.
        offset: where the page (and the walk) starts.
        max_items: the walk stops after this many items (None: no cap).
        read_ahead: the walk fetches the next page while you work on this one.

    Raises:
        ValueError: ``max_items`` is negative (at once, before any request).
    """

    # A class default: ``__del__`` reads it even on an instance whose ``__init__`` raised.
    _pending: asyncio.Task[Page[T]] | None = None

    def __init__(
        self,
        fetch: FetchPage[T],
        *,
        limit: int,
        offset: int = 0,
        max_items: int | None = None,
        read_ahead: bool = True,
    ) -> None:
        if max_items is not None and max_items < 0:
            raise ValueError("max_items must be >= 0")
        self._fetch = fetch
        self._limit, self._offset, self._max_items = limit, offset, max_items
        self._read_ahead = read_ahead
        self._buffer: deque[T] = deque()
        self._request: Generator[Any, None, Page[T]] | None = None

    # The walk's state, made on first use: ``await client.orders.list()`` never needs it.
    @cached_property
    def _walk(self) -> Walk:
        return Walk(self._limit, self._max_items, self._offset)

    @property
    def stats(self) -> PaginationStats:
        """Counters of the walk: pages, items, duplicates skipped, backtracks."""
        return self._walk.stats

    # -- one page ---------------------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self._fetch(self._limit, self._offset).__await__()

    # The coroutine protocol (what ``asyncio.create_task`` drives): the one request.
    def send(self, value: Any) -> Any:
        """Resume the listing's one request (the coroutine protocol)."""
        if self._request is None:
            self._request = self.__await__()
        return self._request.send(value)

    def throw(self, *exc: Any) -> Any:
        """Raise into the listing's one request (the coroutine protocol)."""
        if self._request is None:
            self._request = self.__await__()
        return self._request.throw(*exc)

    def close(self) -> None:
        """Close the listing's one request (the coroutine protocol; see :meth:`aclose`)."""
        if self._request is not None:
            self._request.close()

    # -- the walk ---------------------------------------------------------------------------------

    def __aiter__(self) -> Listing[T]:
        return self

    async def __anext__(self) -> T:
        buffer = self._buffer
        while not buffer:
            page = await self._next_page()
            if page is None:
                raise StopAsyncIteration
            buffer.extend(page.items)
        return buffer.popleft()

    async def pages(self) -> AsyncGenerator[Page[T], None]:
        """``async for page in listing.pages()``: every page of the walk, deduplicated."""
        try:
            while (page := await self._next_page()) is not None:
                yield page
        finally:
            self._cancel_pending()  # a loop broken out of: its read-ahead is not wanted

    async def collect(self) -> list[T]:
        """Every item, in a list (mind the memory on large listings)."""
        return [item async for item in self]

    async def aclose(self) -> None:
        """Stop the walk and cancel any read-ahead."""
        self._buffer.clear()
        self._finish()

    def __del__(self) -> None:
        self._cancel_pending()

    async def _next_page(self) -> Page[T] | None:
        """The walk's next page of items not yielded before; None at its end."""
        walk = self._walk
        try:
            while not walk.done:
                pending, self._pending = self._pending, None
                if pending is not None:
                    # Asked for at ``walk.offset``, which only ``digest`` moves.
                    page = await pending
                else:
                    page = await self._fetch(walk.page_size, walk.offset)
                fresh = walk.digest(page)
                if fresh is not None:
                    if self._read_ahead and not walk.done:
                        self._read_on(walk)
                    return fresh
        except BaseException:
            self._finish()
            raise
        self._finish()
        return None

    def _read_on(self, walk: Walk) -> None:
        task = asyncio.ensure_future(self._fetch(walk.page_size, walk.offset))
        # A read-ahead nobody awaits (the walk stopped) must not log "never retrieved".
        task.add_done_callback(_consume_result)
        self._pending = task

    def _finish(self) -> None:
        self._walk.done = True
        self._cancel_pending()

    def _cancel_pending(self) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
        self._pending = None
