"""The "what changed since my last run" job, in requests proportional to what changed.

::

    sync = OrderSync(client, state="orders-sync.sqlite")
    async for order in sync:
        await upsert(order)  # the state is committed once the loop has run to its end

``async for order in sync`` yields every order that is new, or whose status or ``updatedAt``
changed, since the previous *complete* run recorded in ``state``; a run cut short (crash,
``break``, an error) commits nothing, and the next run yields its orders again (at-least-once;
exactly once per complete run).

**When the state commits.** By default, when the ``async for`` loop ends without an exception:
the last ``__anext__`` commits, after your loop body handled the last order. That is right when
the body makes each order durable itself (a database upsert). A consumer that buffers (a file,
a batch insert) passes ``autocommit=False``, makes its output durable after the loop, then calls
:meth:`OrderSync.commit`; if writing fails, it never commits, and the next run yields the same
orders again::

    sync = OrderSync(client, state="orders-sync.sqlite", autocommit=False)
    async for order in sync:
        buffer.append(order)
    await flush_durably(buffer)
    await sync.commit()

**One account, one API.** The state records a digest of the API key (never the key) and the base
URL at each commit. A run with another key or base URL raises
:class:`~aioprintora.store.AccountMismatchError` before any request; ``full=True`` (CLI
``--full``) starts over for the new account. A state written before this binding existed is
bound by its next commit.

The listing has no "updated since" filter and is sorted by creation, newest first, so after a
first full walk a run reads, in this order:

1. the unfiltered listing down to the high-water mark (the newest ``createdAt`` of the last run)
   minus ``overlap``: the new orders, deduplicated against the ids seen in the overlap window;
2. each non-terminal status (pending, paid, processing, shipped, in lifecycle order, so an
   order moving forward during the run is met in a later listing), pending only back to
   ``pending_max_age``: the in-flight orders, compared with the state;
3. the terminal listings (delivered, cancelled), only as far back as the oldest in-flight order
   found in step 2 in no listing: those orders reached the end of their life.

**Assumed** (the reference lists the statuses, not their transitions): orders progress pending →
paid → processing → shipped → delivered, with cancelled off the path, and delivered and
cancelled are terminal. An in-flight order found in no listing walked (it moved to a status this
SDK does not know) stays in the state and makes the run a full one. Pending orders created
``pending_max_age`` before the high-water mark leave the state, so abandoned carts cannot grow
it; if one is paid later it is found in step 2 again (a later move straight to a terminal status
is left to a full run). A change to an order already terminal is seen only by a ``full=True``
run, which yields every order changed since the previous full run (run one nightly or weekly).
The state holds in-flight orders, the overlap window's ids and the terminal orders yielded since
the last full run, never the history.

Without ``state``, ``OrderSync(client, since=...)`` is the older form: a whole walk keeping the
orders whose ``updatedAt`` is newer than ``since``; :attr:`OrderSync.checkpoint` is the next one.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ._sync_state import TERMINAL, Judge, SyncState, Tracked, parse_time
from .models import Order, OrderStatus
from .pagination import PaginationStats
from .store import Store, StoreLike, account_of, check_account, open_store

if TYPE_CHECKING:
    from .client import PrintoraClient

__all__ = ["OrderSync", "changed"]

_STATE_KEY = "state"
_IN_FLIGHT = ("pending", "paid", "processing", "shipped")
_CANCELLABLE = frozenset({"pending", "paid", "processing"})


def changed(order: Order, since: datetime | None) -> bool:
    """Whether ``order`` changed after ``since`` (every order counts when ``since`` is None)."""
    stamp = order.updated_at or order.created_at
    return since is None or stamp is None or stamp > since


class OrderSync:
    """Every order new or changed since the previous complete run; see the module docstring.

    Args:
        client: the client to read with.
        state: a file path (SQLite) or a :class:`~aioprintora.store.Store` holding the state
            between runs; without it, the ``since`` form.
        status: only yield orders now in this status (the state still follows every order).
        full: walk the whole listing this run (picks up changes to terminal orders).
        since: the checkpoint of the previous run, for the form without ``state``.
        page_size: orders per request.
        overlap: how far below the high-water mark to look for late-listed new orders.
        pending_max_age: pending orders older than this leave the state.
        autocommit: commit the state when the loop ends without an exception (default); False:
            only when you call :meth:`commit`, once your output is durable.
    """

    def __init__(
        self,
        client: PrintoraClient,
        *,
        state: StoreLike | None = None,
        status: OrderStatus | str | None = None,
        full: bool = False,
        since: datetime | None = None,
        page_size: int = 100,
        overlap: timedelta = timedelta(minutes=2),
        pending_max_age: timedelta = timedelta(days=7),
        autocommit: bool = True,
    ) -> None:
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware (e.g. datetime.now(timezone.utc))")
        if since is not None and state is not None:
            raise ValueError("pass state= or since=, not both")
        self._client = client
        self._where = state
        self.status = None if status is None else str(status)
        self.full = full
        self.since = since
        self.page_size = page_size
        self.overlap = overlap
        self.pending_max_age = pending_max_age
        self.autocommit = autocommit
        self._finished: Judge | None = None  # a run walked to its end, not yet committed
        #: Orders read (each listing counted), requests made, and whether the run walked it all.
        self.scanned = 0
        self.requests = 0
        self.full_run = False
        self.complete = False
        self._newest = since
        self._walks: list[PaginationStats] = []
        self._run_gen: AsyncGenerator[Order, None] | None = None
        #: ``(listing, requests)`` for each listing this run read, in order ("all": unfiltered).
        self.listings: list[tuple[str, int]] = []

    @property
    def checkpoint(self) -> datetime | None:
        """The ``since`` form's next ``since``: advanced only once the whole walk completed."""
        return self._newest if self.complete else self.since

    @property
    def stats(self) -> PaginationStats:
        """What the walks did about offset drift, summed."""
        total = PaginationStats()
        for one in self._walks:
            total.pages += one.pages
            total.items += one.items
            total.duplicates_skipped += one.duplicates_skipped
            total.backtracks += one.backtracks
            total.possible_gaps += one.possible_gaps
        return total

    def __aiter__(self) -> AsyncIterator[Order]:
        self._run_gen = self._since_walk() if self._where is None else self._stateful()
        return self._run_gen

    async def commit(self) -> None:
        """Commit the state of the run that just ended (with ``autocommit=False``).

        Raises:
            RuntimeError: no run has walked to its end since the last commit.
        """
        judge, self._finished = self._finished, None
        if judge is None or self._where is None:
            raise RuntimeError("no complete run to commit (the loop did not run to its end)")
        store, owned = open_store(self._where, "order-sync")
        try:
            await self._commit(store, judge)
        finally:
            if owned:
                await store.aclose()

    async def aclose(self) -> None:
        """Stop early: cancel any read-ahead request now; the state is not committed."""
        if self._run_gen is not None:
            await self._run_gen.aclose()

    # -- the walks --------------------------------------------------------------------------------

    async def _listing(
        self, status: str | None, *, bounded: bool = False, floor: datetime | None = None
    ) -> AsyncGenerator[Order, None]:
        """One listing, newest first, down to ``floor``; bounded walks read no page ahead."""
        pager = self._client.orders.iter(
            status=status, page_size=self.page_size, read_ahead=not bounded
        )
        self._walks.append(pager.stats)
        try:
            async for order in pager:
                self.scanned += 1
                if _older(order, floor):
                    return
                yield order
        finally:
            self.requests += pager.stats.pages
            self.listings.append((status or "all", pager.stats.pages))
            await pager.aclose()

    async def _since_walk(self) -> AsyncGenerator[Order, None]:
        async with aclosing(self._listing(self.status)) as walk:
            async for order in walk:
                stamp = order.updated_at or order.created_at
                if stamp is not None and (self._newest is None or stamp > self._newest):
                    self._newest = stamp
                if changed(order, self.since):
                    yield order
        self.complete = True

    async def _stateful(self) -> AsyncGenerator[Order, None]:
        assert self._where is not None
        store, owned = open_store(self._where, "order-sync")
        try:
            raw = (await store.get_many([_STATE_KEY])).get(_STATE_KEY)
            old = SyncState.from_bytes(raw)
            account = account_of(self._client)
            if self.full and old.account not in (None, account):
                old = SyncState()  # another account's orders say nothing of this one's
            remedy = "start over for this one with full=True (CLI: --full)"
            check_account(old.account, account, "sync state", remedy)
            judge = Judge(old, full=self.full or old.hwm is None, overlap=self.overlap)
            judge.new.account = account
            async with aclosing(self._run(judge)) as orders:
                async for order in orders:
                    if self.status is None or str(order.status) == self.status:
                        yield order
            if self.autocommit:
                await self._commit(store, judge)
            else:
                self._finished = judge
        finally:
            if owned:
                await store.aclose()

    async def _commit(self, store: Store, judge: Judge) -> None:
        state = judge.finish(self.pending_max_age)
        await store.put_many({_STATE_KEY: state.to_bytes()})
        self.full_run = judge.full
        self.complete = True

    async def _run(self, judge: Judge) -> AsyncGenerator[Order, None]:
        old = judge.old
        if judge.full or old.hwm is None:
            async with aclosing(self._listing(None)) as walk:
                async for order in walk:
                    if judge.take(order):
                        yield order
            return
        floor = old.hwm - self.overlap
        async with aclosing(self._listing(None, bounded=True, floor=floor)) as walk:
            async for order in walk:
                if judge.take(order):
                    yield order
        cutoff = old.hwm - self.pending_max_age
        # Aged-out pending orders are not looked for (a full run picks them up).
        tracked = {k: t for k, t in old.inflight.items() if not t.aged(cutoff)}
        for status in _IN_FLIGHT:
            pending = status == "pending"
            walk = self._listing(status, bounded=pending, floor=cutoff if pending else None)
            async with aclosing(walk):
                async for order in walk:
                    if judge.take(order):
                        yield order
        missing = {k: t for k, t in tracked.items() if k not in judge.seen}
        for status in sorted(TERMINAL, reverse=True):  # delivered first: the usual end
            wanted = {
                k: t
                for k, t in missing.items()
                if status != "cancelled" or t.status in _CANCELLABLE or t.status not in _IN_FLIGHT
            }
            oldest = _oldest(wanted)
            if not wanted:
                continue
            walk = self._listing(status, bounded=True, floor=oldest)
            async with aclosing(walk):
                async for order in walk:
                    if order.id in missing:
                        del missing[order.id]
                        if judge.take(order):
                            yield order
                        if not missing:
                            break
        if missing:  # moved to a status we do not know: only a whole walk finds them
            judge.go_full()
            async with aclosing(self._listing(None)) as walk:
                async for order in walk:
                    if judge.take(order):
                        yield order


def _older(order: Order, floor: datetime | None) -> bool:
    return floor is not None and order.created_at is not None and order.created_at < floor


def _oldest(tracked: dict[str, Tracked]) -> datetime | None:
    times = [parse_time(t.created_at) for t in tracked.values()]
    return min((t for t in times if t is not None), default=None)
