"""What an incremental order sync remembers between runs, and how one order is judged (pure).

The state holds the high-water mark (the newest ``createdAt`` seen), the ids seen within the
overlap window below it, the in-flight (non-terminal) orders with their status and stamp, and
the terminal orders yielded since the last full run (so a full run does not yield them again).
No history: memory follows what is in flight, not how many orders exist.

A webhook-fed sync adds the log mark (the newest webhook log entry its last complete run read)
and, per in-flight order, its last payload or listing row (``Tracked.row``): a log entry holds no
payload, so a lost change is yielded with the row's fields and the entry's status and time.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import attrs

from .._convert import structure
from .._models import Order, OrderStatus

__all__ = ["RANK", "TERMINAL", "Judge", "LogMark", "SyncState", "Tracked", "parse_time"]

#: Statuses an order never leaves (an assumption: the reference lists no transitions).
TERMINAL = frozenset({OrderStatus.DELIVERED.value, OrderStatus.CANCELLED.value})
_VERSION = 1
#: Lifecycle order, for "is this change newer than what the state knows" (terminal ones last).
RANK = {"pending": 0, "paid": 1, "processing": 2, "shipped": 3, "delivered": 4, "cancelled": 4}


def stamp_of(order: Order) -> datetime | None:
    """When the server last changed the order."""
    return order.updated_at or order.created_at


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def parse_time(value: str | None) -> datetime | None:
    return None if value is None else structure(value, datetime)


@attrs.frozen
class Tracked:
    """An in-flight order as last seen: status, stamp and creation time."""

    status: str
    stamp: str | None
    created_at: str | None
    #: The order's fields as last seen (wire names): a listing row, or a webhook payload's.
    row: dict[str, Any] | None = None

    def aged(self, cutoff: datetime) -> bool:
        """Whether this is a pending order created before ``cutoff`` (an abandoned cart)."""
        created = parse_time(self.created_at)
        return self.status == OrderStatus.PENDING.value and created is not None and created < cutoff


@attrs.frozen
class LogMark:
    """Where a webhook-fed run stopped reading the logs: the newest entries' time and ids."""

    time: datetime
    ids: frozenset[str]

    def reached(self, created: datetime, log_id: str) -> bool:
        """Whether an entry is at or below the mark (read by a previous run)."""
        return created < self.time or (created == self.time and log_id in self.ids)


@attrs.define
class SyncState:
    """The state of one sync job (see the module docstring)."""

    hwm: datetime | None = None
    recent: dict[str, str] = attrs.field(factory=dict)  # id -> createdAt, within the overlap
    inflight: dict[str, Tracked] = attrs.field(factory=dict)
    terminal: dict[str, str | None] = attrs.field(factory=dict)  # id -> stamp, since last full
    full_stamp: datetime | None = None  # the newest stamp the last full run saw
    account: str | None = None  # whose orders (store.account_of); None: from before binding
    mark: LogMark | None = None  # webhook-fed runs: the logs read so far

    def to_bytes(self) -> bytes:
        """JSON, as the store keeps it."""
        body: dict[str, Any] = {
            "v": _VERSION,
            "hwm": _iso(self.hwm),
            "recent": self.recent,
            "inflight": {k: _tracked_out(t) for k, t in self.inflight.items()},
            "terminal": self.terminal,
            "fullStamp": _iso(self.full_stamp),
            "account": self.account,
        }
        if self.mark is not None:
            body["mark"] = [self.mark.time.isoformat(), sorted(self.mark.ids)]
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> SyncState:
        """The state a previous run committed (a fresh one when there is none)."""
        if raw is None:
            return cls()
        body: dict[str, Any] = json.loads(raw)
        if body.get("v") != _VERSION:
            raise ValueError(f"unknown order-sync state version {body.get('v')!r}")
        return cls(
            hwm=parse_time(body["hwm"]),
            recent=dict(body["recent"]),
            inflight={k: Tracked(*v) for k, v in body["inflight"].items()},
            terminal=dict(body["terminal"]),
            full_stamp=parse_time(body["fullStamp"]),
            account=body.get("account"),
            mark=_mark_in(body.get("mark")),
        )


def slim(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the state keeps it: without what ``Tracked`` and the key already hold."""
    return {k: v for k, v in row.items() if k not in ("id", "status", "updatedAt", "createdAt")}


def _tracked_out(t: Tracked) -> list[Any]:
    out: list[Any] = [t.status, t.stamp, t.created_at]
    return out if t.row is None else [*out, t.row]


def _mark_in(raw: list[Any] | None) -> LogMark | None:
    if raw is None:
        return None
    time = parse_time(raw[0])
    assert time is not None
    return LogMark(time, frozenset(raw[1]))


class Judge:
    """Decides, order by order, what a run yields, and builds the state it will commit.

    Args:
        old: the state of the previous complete run.
        full: whether this run walks the whole listing.
        overlap: how far below the high-water mark new orders are still looked for.
    """

    def __init__(
        self,
        old: SyncState,
        *,
        full: bool,
        overlap: timedelta,
        remember: timedelta | None = None,
    ) -> None:
        self.old, self.full, self.overlap = old, full, overlap
        #: Webhook-fed: how long terminal orders are remembered even across full runs, so a
        #: late duplicate delivery of their last event is known (None: until the next full
        #: run); set, in-flight orders also keep their row.
        self.remember = remember
        self.new = SyncState(
            hwm=old.hwm,
            recent=dict(old.recent),
            inflight=dict(old.inflight),
            terminal={} if full and remember is None else dict(old.terminal),
            full_stamp=old.full_stamp,
            account=old.account,
            mark=old.mark,
        )
        self.seen: set[str] = set()
        self.newest_stamp: datetime | None = None

    def go_full(self) -> None:
        """An incremental run found it cannot finish so: what remains is a full walk."""
        self.full = True
        if self.remember is None:
            self.new.terminal = {}

    def changed(self, order: Order) -> bool:
        """Whether ``order`` is new or changed since the previous complete run."""
        old, created = self.old, order.created_at
        status, stamp = str(order.status), _iso(stamp_of(order))
        tracked = old.inflight.get(order.id)
        if self.remember is not None and (tracked is not None or order.id in old.terminal):
            # Webhook-fed: the state may hold an event's time, which is at or after the
            # listing's updatedAt for the same change; only a later stamp is a new change.
            known, at = (
                (tracked.status, tracked.stamp)
                if tracked is not None
                else (status, old.terminal[order.id])
            )
            if RANK.get(status, 99) != RANK.get(known, 99):
                return RANK.get(status, 99) > RANK.get(known, 99)
            last = stamp_of(order)
            return at is None or last is None or last > structure(at, datetime)
        if tracked is not None:
            return (tracked.status, tracked.stamp) != (status, stamp)
        if order.id in old.terminal:
            return old.terminal[order.id] != stamp
        if old.hwm is None or created is None or created > old.hwm:
            return True
        if order.id in old.recent:
            return False  # terminal and seen before: a change to it is a full run's to find
        if self.full:
            last = stamp_of(order)
            return old.full_stamp is None or last is None or last > old.full_stamp
        return True  # late below the mark, or back from an age-out: not yielded before

    def take(self, order: Order) -> bool:
        """Record ``order`` in the next state; True when this run should yield it (once)."""
        if order.id in self.seen:
            return False
        self.seen.add(order.id)
        yielded = self.changed(order)
        status, stamp, created = str(order.status), stamp_of(order), order.created_at
        if stamp is not None and (self.newest_stamp is None or stamp > self.newest_stamp):
            self.newest_stamp = stamp
        if status in TERMINAL:
            self.new.inflight.pop(order.id, None)
            if yielded and (not self.full or self.remember is not None):
                self.new.terminal[order.id] = _iso(stamp)
        else:
            row = slim(order.to_dict(wire=True)) if self.remember is not None else None
            self.new.inflight[order.id] = Tracked(status, _iso(stamp), _iso(created), row)
        if created is not None:
            if self.new.hwm is None or created > self.new.hwm:
                self.new.hwm = created
            self.new.recent[order.id] = created.isoformat()
        return yielded

    def knows(self, order_id: str, status: str) -> bool:
        """Whether the previous state already has ``order_id`` at ``status`` or further on."""
        if order_id in self.old.terminal:
            return True
        tracked = self.old.inflight.get(order_id)
        return tracked is not None and RANK.get(tracked.status, -1) >= RANK.get(status, 99)

    def take_change(self, order: Order, row: dict[str, Any]) -> bool:
        """A webhook-fed run's ``take``: yield when ``order`` is further on than the state knew.

        Compared by lifecycle rank, not stamp: an event's time and the listing's ``updatedAt``
        need not agree, and a duplicate or late delivery must never count as a change.
        """
        if order.id in self.seen:
            return False
        self.seen.add(order.id)
        status, stamp = str(order.status), _iso(stamp_of(order))
        if self.knows(order.id, status):
            return False
        if status in TERMINAL:
            self.new.inflight.pop(order.id, None)
            self.new.terminal[order.id] = stamp
        else:
            created = _iso(order.created_at)
            self.new.inflight[order.id] = Tracked(status, stamp, created, slim(row))
        return True

    def finish(self, pending_max_age: timedelta) -> SyncState:
        """The state to commit: the overlap window trimmed, abandoned pending orders aged out."""
        new = self.new
        if self.full:
            new.full_stamp = self.newest_stamp or new.full_stamp
            if self.remember is not None and new.full_stamp is not None:
                keep = new.full_stamp - self.remember
                new.terminal = {
                    k: v
                    for k, v in new.terminal.items()
                    if v is None or structure(v, datetime) >= keep
                }
        if new.hwm is not None:
            floor = new.hwm - self.overlap
            new.recent = {k: v for k, v in new.recent.items() if structure(v, datetime) >= floor}
            cutoff = new.hwm - pending_max_age
            new.inflight = {k: t for k, t in new.inflight.items() if not t.aged(cutoff)}
        return new
