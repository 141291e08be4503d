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
:class:`~aioprintora.jobs.AccountMismatchError` before any request; ``full=True`` (CLI
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

**Webhook-fed** (``webhooks=True``): a receiver calls ``await sync.record(event)`` for each
verified delivery (durable when it returns; one key per order and status, so a listener and the
cron may share the state). A run then yields the recorded changes, reads the webhook logs newest
first down to the previous run's mark (every delivery that did not reach ``record`` is yielded
from its log entry and the row the state kept), and the listings of
:data:`NO_EVENT_STATUSES`; the first run, and a ``full=True`` one, walk the listing as above.
Each order is yielded once, when it is further on in its lifecycle than the state knew. The
commit writes the state and deletes the records the run read, in one transaction.

Without ``state``, ``OrderSync(client, since=...)`` is the older form: a whole walk keeping the
orders whose ``updatedAt`` is newer than ``since``; :attr:`OrderSync.checkpoint` is the next one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import attrs

from .._convert import structure
from .._errors import PaginationError
from .._models import EventType, Order, OrderStatus, WebhookLog
from ..pagination import PaginationStats
from ._store import RecordStore, Store, StoreLike, account_of, check_account, open_store
from ._sync_state import RANK, TERMINAL, Judge, LogMark, SyncState, Tracked, parse_time

if TYPE_CHECKING:
    from .._client import PrintoraClient
    from ..webhooks._events import WebhookEvent

__all__ = ["NO_EVENT_STATUSES", "OrderSync", "WebhookLogOrderError", "changed"]

_STATE_KEY = "state"
_RECORD = "rec:"  # + order id + ":" + status: one key per change, so records never overwrite
#: Statuses Printora sends no webhook event for (an assumption from the reference's event list):
#: a webhook-fed run reads their listings.
NO_EVENT_STATUSES = ("processing",)
_EVENT_STATUS = {
    EventType.ORDER_CREATED.value: "pending",
    EventType.ORDER_PAID.value: "paid",
    EventType.ORDER_SHIPPED.value: "shipped",
    EventType.ORDER_DELIVERED.value: "delivered",
    EventType.ORDER_CANCELLED.value: "cancelled",
}
#: How long a webhook-fed state remembers terminal orders across full runs: longer than
#: Printora's ~4.5 h of retries, with room for resends (as the webhook dedup stores do).
_REMEMBER = timedelta(days=3)
_BEFORE_ALL = datetime.min.replace(tzinfo=timezone.utc)


class WebhookLogOrderError(PaginationError):
    """The webhook logs did not come newest first, which a webhook-fed sync relies on."""


@attrs.define
class _Change:
    """The furthest change a webhook-fed run knows of one order, and where it came from."""

    status: str
    at: datetime | None
    row: dict[str, Any] | None  # fields to yield with (payload or listing row)
    listed: bool  # row is a whole listing row, updatedAt included


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
        state: a file path (SQLite) or a :class:`~aioprintora.jobs.Store` holding the state
            between runs; without it, the ``since`` form.
        status: only yield orders now in this status (the state still follows every order).
        full: walk the whole listing this run (picks up changes to terminal orders).
        since: the checkpoint of the previous run, for the form without ``state``.
        page_size: orders per request.
        overlap: how far below the high-water mark to look for late-listed new orders.
        pending_max_age: pending orders older than this leave the state.
        autocommit: commit the state when the loop ends without an exception (default); False:
            only when you call :meth:`commit`, once your output is durable.
        webhooks: the webhook-fed mode: a run yields the changes :meth:`record` stored, then
            reconciles with the webhook logs (see :doc:`/jobs`); ``state`` must then be a path
            or a :class:`~aioprintora.jobs.RecordStore`.
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
        webhooks: bool = False,
    ) -> None:
        if webhooks and state is None:
            raise ValueError("webhooks=True needs a state= to record into")
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
        self.webhooks = webhooks
        self._finished: tuple[Judge, list[str]] | None = None  # a run walked to its end
        self._recorder: Store | None = None  # record()'s store, kept open between events
        self._owns_recorder = False
        #: Webhook-fed runs: the records (one per order and status) this run took, and the
        #: webhook log entries it read.
        self.recorded = 0
        self.log_entries = 0
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
        finished, self._finished = self._finished, None
        if finished is None or self._where is None:
            raise RuntimeError("no complete run to commit (the loop did not run to its end)")
        store, owned = open_store(self._where, "order-sync")
        try:
            await self._commit(store, *finished)
        finally:
            if owned:
                await store.aclose()

    async def aclose(self) -> None:
        """Stop early: cancel any read-ahead request now; the state is not committed.

        Also closes the store :meth:`record` opened for a path.
        """
        if self._run_gen is not None:
            await self._run_gen.aclose()
        recorder, self._recorder = self._recorder, None
        if recorder is not None and self._owns_recorder:
            await recorder.aclose()

    async def record(self, event: WebhookEvent) -> bool:
        """Store a verified webhook event's order change durably, for the next run to yield.

        Returns once the change is durable, so a receiver answers 2xx only after it (a crash
        before then makes Printora redeliver). Idempotent per delivery: a duplicate, retry or
        resend of an event writes the same key again, and a change the state already has is
        not yielded again. No request is made.

        Args:
            event: a verified event (:func:`~aioprintora.webhooks.construct_event`).

        Returns:
            False when the event is about no order or no known status (nothing stored).

        Raises:
            AccountMismatchError: the state belongs to another API key or base URL.
        """
        status = _EVENT_STATUS.get(str(event.event_type))
        order_id = event.order_id
        if status is None or not order_id:
            return False
        store = self._record_store()
        account = await self._check_bound(store)
        data = event.data
        order = Order(
            id=order_id,
            status=status,
            order_number=data.order_number,
            total_amount=data.total_amount,
            currency=data.currency,
            session_id=data.session_id or event.session_id,
            created_at=event.timestamp if status == "pending" else None,
            updated_at=event.timestamp,
        )
        body = {"account": account, "row": order.to_dict(wire=True)}
        value = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        await store.put_many({f"{_RECORD}{order_id}:{status}": value})
        return True

    async def check_state(self) -> None:
        """Refuse now a state bound to another API key or base URL (``record`` and every run
        check it too): for a receiver to fail at start-up rather than at its first delivery.

        Raises:
            AccountMismatchError: the state belongs to another account.
            TypeError: ``webhooks=True`` with a store that cannot hold records.
            ValueError: this sync has no ``state``.
        """
        if self._where is None:
            raise ValueError("this OrderSync has no state= to check")
        await self._check_bound(self._record_store() if self.webhooks else None)

    async def _check_bound(self, store: Store | None) -> str:
        """This client's account, once the state is known to be unbound or bound to it."""
        account = account_of(self._client)
        if store is None:
            assert self._where is not None
            store, owned = open_store(self._where, "order-sync")
        else:
            owned = False
        try:
            raw = (await store.get_many([_STATE_KEY])).get(_STATE_KEY)
        finally:
            if owned:
                await store.aclose()
        check_account(SyncState.from_bytes(raw).account, account, "sync state", _REMEDY)
        return account

    def _record_store(self) -> RecordStore:
        assert self._where is not None
        if self._recorder is None:
            self._recorder, self._owns_recorder = open_store(self._where, "order-sync")
        return _record_store(self._recorder)

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
            check_account(old.account, account, "sync state", _REMEDY)
            # The records this run takes; one arriving later stays for the next run.
            records = await _record_store(store).scan(_RECORD) if self.webhooks else {}
            self.recorded = len(records)
            # A state a webhook-fed run wrote holds events' times: compared as such, whatever
            # mode this run is in.
            remember = _REMEMBER if self.webhooks or old.mark is not None else None
            judge = Judge(
                old, full=self.full or old.hwm is None, overlap=self.overlap, remember=remember
            )
            judge.new.account = account
            if not self.webhooks:
                run = self._run(judge)
            elif judge.full or old.mark is None:
                run = self._walk_then_mark(judge)
            else:
                run = self._hooked(judge, _changes(records, account))
            async with aclosing(run) as orders:
                async for order in orders:
                    if self.status is None or str(order.status) == self.status:
                        yield order
            if self.autocommit:
                await self._commit(store, judge, list(records))
            else:
                self._finished = (judge, list(records))
        finally:
            if owned:
                await store.aclose()

    async def _commit(self, store: Store, judge: Judge, taken: list[str]) -> None:
        state = judge.finish(self.pending_max_age).to_bytes()
        if taken:
            await _record_store(store).update({_STATE_KEY: state}, taken)
        else:
            await store.put_many({_STATE_KEY: state})
        self.full_run = judge.full
        self.complete = True

    # -- the webhook-fed run --------------------------------------------------------------------

    async def _walk_then_mark(self, judge: Judge) -> AsyncGenerator[Order, None]:
        """A first or full webhook-fed run: the listing walk, with the log mark taken before it
        (a change logged during the walk is then reconciled by the next run)."""
        mark = None
        async with aclosing(self._logs(None)) as logs:
            async for entry in logs:
                mark = _advance_mark(mark, entry)
                if mark is not None and entry.created_at != mark.time:
                    break
        async with aclosing(self._run(judge)) as orders:
            async for order in orders:
                yield order
        # No log yet: the next run reads every entry there will be.
        judge.new.mark = mark or LogMark(_BEFORE_ALL, frozenset())

    async def _hooked(
        self, judge: Judge, changes: dict[str, _Change]
    ) -> AsyncGenerator[Order, None]:
        """Records, then the logs down to the mark, then the listings of event-less statuses."""
        old = judge.old
        created: dict[str, datetime] = {}  # lost order.created: id -> when it was logged
        mark = None
        async with aclosing(self._logs(old.mark)) as logs:
            async for entry in logs:
                mark = _advance_mark(mark, entry)
                status = _EVENT_STATUS.get(str(entry.event_type))
                if entry.order_id is None or status is None:
                    continue
                _merge(changes, entry.order_id, _Change(status, entry.created_at, None, False))
                if status == "pending" and entry.created_at is not None:
                    created[entry.order_id] = entry.created_at
        judge.new.mark = mark or old.mark
        for status in NO_EVENT_STATUSES:
            async with aclosing(self._listing(status)) as walk:
                async for order in walk:
                    _merge(changes, order.id, _listed(order))
        # A lost order.created of an order the state never saw: its fields are at the head.
        unknown = {
            k: at for k, at in created.items() if k not in old.inflight and changes[k].row is None
        }
        if unknown:
            floor = min(unknown.values()) - self.overlap
            walk = self._listing(None, bounded=True, floor=floor)
            async with aclosing(walk):
                async for order in walk:
                    if order.id in unknown:
                        _merge(changes, order.id, _listed(order))
                        del unknown[order.id]
                        if not unknown:
                            break
        for order_id, change in changes.items():
            if judge.knows(order_id, change.status):
                continue
            row = _order_row(order_id, change, old.inflight.get(order_id))
            order = structure(row, Order)
            if judge.take_change(order, row):
                if order.created_at is not None and (
                    judge.new.hwm is None or order.created_at > judge.new.hwm
                ):
                    judge.new.hwm = order.created_at
                yield order

    async def _logs(self, mark: LogMark | None) -> AsyncGenerator[WebhookLog, None]:
        """The webhook logs newest first, down to ``mark``; checks they really come so."""
        pager = self._client.webhook_logs.iter(page_size=self.page_size, read_ahead=False)
        self._walks.append(pager.stats)
        newer: WebhookLog | None = None
        try:
            async for entry in pager:
                created = entry.created_at
                if created is None:
                    raise WebhookLogOrderError(
                        f"webhook log entry {entry.id} has no createdAt: the logs cannot be "
                        "read down to the previous run's mark; run with full=True"
                    )
                if (
                    newer is not None
                    and newer.created_at is not None
                    and created > newer.created_at
                ):
                    raise WebhookLogOrderError(
                        "the webhook logs do not come newest first (entry "
                        f"{entry.id}, created {created.isoformat()}, follows {newer.id}, created "
                        f"{newer.created_at.isoformat()}): the webhook-fed sync relies on that "
                        "order; nothing was committed. Run without webhooks=True (or with "
                        "full=True) until it holds."
                    )
                newer = entry
                if mark is not None and mark.reached(created, entry.id):
                    return
                self.log_entries += 1
                yield entry
        except WebhookLogOrderError:
            raise
        except PaginationError as exc:  # the walk's own guard saw the order broken first
            raise WebhookLogOrderError(
                f"the webhook logs cannot be walked newest first ({exc}): the webhook-fed sync "
                "relies on that order; nothing was committed. Run without webhooks=True (or "
                "with full=True) until it holds."
            ) from exc
        finally:
            self.requests += pager.stats.pages
            self.listings.append(("webhook-logs", pager.stats.pages))
            await pager.aclose()

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


_REMEDY = "start over for this one with full=True (CLI: --full)"


def _record_store(store: Store) -> RecordStore:
    if not isinstance(store, RecordStore):
        raise TypeError(
            "webhooks=True needs a store with scan() and update() (aioprintora.jobs.RecordStore:"
            " SQLiteStore, RedisStore)"
        )
    return store


def _changes(records: Mapping[str, bytes], account: str) -> dict[str, _Change]:
    """The recorded changes, the furthest per order; another account's are refused (a full run,
    which starts over, drops them unread)."""
    changes: dict[str, _Change] = {}
    for raw in records.values():
        body = json.loads(raw)
        if body.get("account") != account:
            check_account(body.get("account"), account, "sync state's webhook record", _REMEDY)
        row: dict[str, Any] = body["row"]
        change = _Change(row["status"], parse_time(row.get("updatedAt")), row, False)
        _merge(changes, row["id"], change)
    return changes


def _listed(order: Order) -> _Change:
    return _Change(str(order.status), order.updated_at, order.to_dict(wire=True), True)


def _merge(changes: dict[str, _Change], order_id: str, change: _Change) -> None:
    """Keep the furthest status per order; at equal rank, the change that brings more fields."""
    have = changes.get(order_id)
    if have is None:
        changes[order_id] = change
        return
    ours, theirs = RANK.get(change.status, -1), RANK.get(have.status, -1)
    if ours > theirs or (
        ours == theirs
        and (change.listed, change.row is not None)
        > (
            have.listed,
            have.row is not None,
        )
    ):
        if change.row is None and have.row is not None:
            change = attrs.evolve(change, row=have.row)
        changes[order_id] = change


def _order_row(order_id: str, change: _Change, kept: Tracked | None) -> dict[str, Any]:
    """The order to yield: the kept row, overlaid by the change's fields, status and time."""
    tracked_created = None if kept is None else kept.created_at
    if change.listed and change.row is not None:
        return change.row
    row = dict((kept and kept.row) or {})
    if tracked_created is not None:
        row["createdAt"] = tracked_created
    row.update(change.row or {})
    row["id"], row["status"] = order_id, change.status
    if change.at is not None:
        row["updatedAt"] = change.at.isoformat()
    return row


def _advance_mark(mark: LogMark | None, entry: WebhookLog) -> LogMark | None:
    """The mark after reading ``entry``: the newest entries' time and ids."""
    if entry.created_at is None:
        return mark
    if mark is None:
        return LogMark(entry.created_at, frozenset({entry.id}))
    if entry.created_at == mark.time:
        return LogMark(mark.time, mark.ids | {entry.id})
    return mark


def _older(order: Order, floor: datetime | None) -> bool:
    return floor is not None and order.created_at is not None and order.created_at < floor


def _oldest(tracked: dict[str, Tracked]) -> datetime | None:
    times = [parse_time(t.created_at) for t in tracked.values()]
    return min((t for t in times if t is not None), default=None)
