"""Batch session creation: many sessions within the rate limit, errors kept per row, exactly once.

The safe pattern for an import that may crash and be re-run::

    requests = [SessionRequest(ref=row["cart_id"], image_url=row["image"], ...) for row in rows]
    results = await client.sessions.create_many(requests, journal="import.sqlite")

- ``ref`` is the caller's stable id of the row. The idempotency key is derived from it
  (UUIDv5 over :attr:`SessionRequest.ref_namespace` and the ref, not over the API key), so a
  re-run within the server's idempotency window never makes a second session.
- The journal records ref → session as each result arrives (see
  :class:`~aioprintora.jobs.Journal`), so a re-run after the window, or after Ctrl-C or a
  crash, returns journaled rows without calling the API and creates only the rest; errors are
  retried. Lookup, send and record are serialised per ref, so a ref given twice with different
  content is a
  :class:`~aioprintora.jobs.JournalConflictError`, whatever the concurrency.

Errors stay per row, except those no row can get past (see :func:`stops_job`): a wrong key
(401), no permission (403), the day quota spent, a shared limiter failing closed, or a journal
that cannot be written. Those stop the batch at once, after at most ``concurrency`` requests:
no new row starts, the rows already on the wire end and are journaled (the server answered
them: they are never sent again), and the rows not yet decided are not journaled, so a re-run
once the cause is fixed creates them.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import attrs

from .._errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitError,
    RateLimiterUnavailableError,
)
from .._models import Session
from ..resources._session_request import DEFAULT_REF_NAMESPACE, SessionRequest, key_for_ref
from ._journal import Journal, JournalConflictError, JournalEntry, describe
from ._store import StoreLike, account_of, open_store

if TYPE_CHECKING:
    from .._client import PrintoraClient
    from ..resources.sessions import Sessions

__all__ = [
    "DEFAULT_REF_NAMESPACE",
    "BatchResult",
    "Progress",
    "ProgressCallback",
    "SessionRequest",
    "key_for_ref",
    "stops_job",
]


@attrs.frozen
class BatchResult:
    """The outcome of one request of a batch: a session, or the error it met.

    ``journaled`` is True when the session came from the journal (no request was made); its
    ``session.created_at`` tells whether the redirect link (15 minutes) may have expired.
    A row given as a dict that is no valid request is never sent: ``error`` is the
    ``ValueError`` (``TypeError`` for an unknown key) of its :class:`SessionRequest`, and
    ``request`` holds its fields as given.
    """

    index: int
    request: SessionRequest
    session: Session | None = None
    error: Exception | None = None
    journaled: bool = False

    @property
    def ok(self) -> bool:
        """Whether the session was created (or already existed under this key)."""
        return self.session is not None


@attrs.frozen
class Progress:
    """Where a batch stands: passed to ``on_progress`` after each result and while waiting.

    ``result`` is the row just finished, or None on a heartbeat (every ``progress_interval``
    seconds while nothing finishes, e.g. while the rate limiter holds the requests back) and
    once more when the batch ends, however it ends: that last one counts every answer that
    arrived, those in flight at a Ctrl-C included.
    ``eta`` is the seconds still needed: when the rate limiter's schedule
    (:meth:`~aioprintora.ratelimit.Limiter.free_after`) grants the requests still to send, plus
    one round trip; journaled rows cost nothing (None while the total is unknown).
    """

    done: int
    total: int | None
    created: int
    failed: int
    journaled: int
    elapsed: float
    eta: float | None
    result: BatchResult | None = None


ProgressCallback = Callable[[Progress], None]


#: A row of a batch: the request, and why it cannot be sent (None when it can).
_Row = tuple[SessionRequest, Exception | None]


def _as_given(row: Mapping[str, Any]) -> SessionRequest:
    """A dict row that is no valid request, kept as given for its result (it is never sent)."""
    given = object.__new__(SessionRequest)  # the validators would refuse it: set, not built
    for field in attrs.fields(SessionRequest):
        if field.init:
            value = row.get(field.name, None if field.default is attrs.NOTHING else field.default)
        else:  # the random key, made by its attrs.Factory as the class makes it
            value = field.default.factory()  # type: ignore[union-attr]  # stubs: Any | None
        object.__setattr__(given, field.name, value)
    return given


def _checked(item: SessionRequest | Mapping[str, Any]) -> _Row:
    """A row as a request, checked by its validators: a bad row is that row's error only."""
    try:
        if isinstance(item, SessionRequest):
            attrs.evolve(item)  # every check again: one taken back from a result may be invalid
            return item, None
        return SessionRequest(**item), None
    except (TypeError, ValueError) as exc:
        return (item if isinstance(item, SessionRequest) else _as_given(item)), exc


def _requests(
    items: Iterable[SessionRequest | Mapping[str, Any]], need_ref: bool
) -> Iterator[_Row]:
    for item in items:
        row = _checked(item)
        if need_ref and row[0].ref is None:
            raise ValueError("a journal needs a ref on every request (SessionRequest(ref=...))")
        yield row


class _Failed:
    """The batch must stop: the request source failed, or an error no row can get past."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def stops_job(exc: BaseException, horizon: float) -> bool:
    """Whether no later request can get past ``exc``, so a job should stop at once.

    A wrong key (401), no permission (403), a shared limiter failing closed, or the day quota
    spent: a 429 whose wait is longer than ``horizon``, what one call would wait for.

    Args:
        exc: the error a request met.
        horizon: seconds one call waits at most (``min(deadline, max_server_wait)``).
    """
    if isinstance(exc, (AuthenticationError, PermissionDeniedError, RateLimiterUnavailableError)):
        return True
    if isinstance(exc, RateLimitError):
        wait = exc.retry_after
        if wait is None and exc.reset_at is not None:
            wait = (exc.reset_at - datetime.now(timezone.utc)).total_seconds()
        return wait is not None and wait > horizon
    return False


def call_horizon(client: PrintoraClient) -> float:
    """The longest wait one call of ``client`` sits through: its deadline or max server wait."""
    policy = client._options.retry
    return min(policy.max_server_wait, math.inf if policy.deadline is None else policy.deadline)


@attrs.define
class _Counts:
    done: int = 0
    created: int = 0
    failed: int = 0
    journaled: int = 0

    def add(self, result: BatchResult) -> None:
        self.done += 1
        if result.journaled:
            self.journaled += 1
        elif result.ok:
            self.created += 1
        else:
            self.failed += 1


class _Tally:
    """The counts behind :class:`Progress` and the ETA.

    ``arrived`` counts each answer as it arrives in its worker, ``yielded`` as the caller gets
    it: they differ only for answers a stopped batch never yielded (a Ctrl-C's in flight).
    """

    def __init__(self, client: PrintoraClient, total: int | None, concurrency: int) -> None:
        self.limiter, self.clock = client.limiter, client._clock
        self.total, self.concurrency = total, concurrency
        self.started_at = time.monotonic()
        self.arrived, self.yielded = _Counts(), _Counts()
        self.taken = self.sending = 0  # rows read from the source; of them, those sent
        self.round_trip = math.inf  # the fastest answer seen: a request's cost when not held

    def to_send(self) -> int:
        """Requests still to make: rows sent and unanswered, and the unread rows that will need
        one (at the share of read rows that did: journaled rows cost nothing)."""
        assert self.total is not None
        unread = max(0, self.total - self.taken)
        share = self.sending / self.taken if self.taken else 1.0
        waiting = self.sending - (self.arrived.done - self.arrived.journaled)
        return max(0, waiting) + math.ceil(unread * share)

    def eta(self) -> float | None:
        if self.total is None:
            return None
        count = self.to_send()
        if count == 0:
            return 0.0
        trip = 0.0 if math.isinf(self.round_trip) else self.round_trip
        rounds = math.ceil(count / self.concurrency) * trip
        if self.limiter is None:
            return rounds
        # When the limiter grants the last of them, and one round trip for its answer.
        return max(rounds, self.limiter.free_after(count, self.clock.monotonic()) + trip)

    def progress(self, result: BatchResult | None, counts: _Counts | None = None) -> Progress:
        elapsed = time.monotonic() - self.started_at
        counts = counts or self.yielded
        return Progress(
            counts.done,
            self.total,
            counts.created,
            counts.failed,
            counts.journaled,
            elapsed,
            self.eta(),
            result,
        )


class _Batch:
    """What the workers share: the journal, the counts, a lock per ref, and the stop signal."""

    def __init__(self, sessions: Sessions, log: Journal | None, tally: _Tally) -> None:
        self.sessions, self.log, self.tally = sessions, log, tally
        self.horizon = call_horizon(sessions._client)
        self.stopped: BaseException | None = None  # set: no worker starts another row
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def ref_lock(self, ref: str | None) -> AsyncIterator[None]:
        """Serialise lookup, send and record of one ref (two rows with it may be in one batch)."""
        if ref is None or self.log is None:
            yield
            return
        lock, users = self._locks.get(ref, (asyncio.Lock(), 0))
        self._locks[ref] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[ref]
            if users == 1:
                del self._locks[ref]
            else:
                self._locks[ref] = (lock, users - 1)

    async def work(
        self,
        source: Iterator[tuple[int, _Row]],
        results: asyncio.Queue[BatchResult | _Failed | None],
    ) -> None:
        """One worker: rows from the shared ``source`` (each to one worker) until it is empty."""
        try:
            for index, row in source:
                result = await self.one(index, row)
                if result is None:
                    break
                await results.put(result)
        except Exception as exc:  # the source, the journal or the API failed for every row
            self.stopped = self.stopped or exc
            await results.put(_Failed(exc))
        await results.put(None)

    async def one(self, index: int, row: _Row) -> BatchResult | None:
        """One row, or None when the batch stopped before it was sent."""
        request, invalid = row
        async with self.ref_lock(request.ref):
            if self.stopped is not None:
                return None
            if invalid is not None:
                self.tally.taken += 1
                return self._decided(BatchResult(index, request, error=invalid))
            return await self._one(index, request)

    async def _one(self, index: int, request: SessionRequest) -> BatchResult:
        """From the journal when it holds the session, else created (and journaled)."""
        log, tally = self.log, self.tally
        tally.taken += 1
        fp = request.fingerprint() if log is not None else ""
        if log is not None and request.ref is not None:
            entry = (await log.lookup([request.ref])).get(request.ref)
            if entry is not None and entry.session is not None:
                if entry.fingerprint == fp:
                    found = BatchResult(index, request, session=entry.session, journaled=True)
                    return self._decided(found)
                conflict = JournalConflictError(
                    f"ref {request.ref!r} was journaled with different content"
                )
                return self._decided(BatchResult(index, request, error=conflict))
        tally.sending += 1
        sent = time.monotonic()
        try:
            session = await self.sessions._create(request)
            result = BatchResult(index, request, session=session)
            tally.round_trip = min(tally.round_trip, time.monotonic() - sent)
        except Exception as exc:  # one bad item must not sink the batch...
            if stops_job(exc, self.horizon):  # ...but this one sinks every row: undecided
                self.stopped = self.stopped or exc
                raise
            result = BatchResult(index, request, error=exc)
        self._decided(result)  # counted now: a Ctrl-C during the write below still counts it
        if log is not None and request.ref is not None:
            error = None if result.error is None else describe(result.error)
            entry = JournalEntry(fp, session=result.session, error=error)
            await _finish(log.record(request.ref, entry))
        return result

    def _decided(self, result: BatchResult) -> BatchResult:
        self.tally.arrived.add(result)
        return result


def _reraise(exc: BaseException | None) -> None:
    if exc is not None:
        raise exc


async def _finish(write: Coroutine[Any, Any, None]) -> None:
    """Run ``write`` to its end even when cancelled: once the server made a session, a Ctrl-C
    must not skip its entry (the cancellation is raised once the write is done)."""
    task = asyncio.ensure_future(write)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


async def _iter_create(
    sessions: Sessions,
    requests: Iterable[SessionRequest | Mapping[str, Any]],
    *,
    concurrency: int = 10,
    on_progress: ProgressCallback | None = None,
    journal: StoreLike | None = None,
    progress_interval: float = 1.0,
) -> AsyncIterator[BatchResult]:
    """The engine of ``sessions.iter_create_many`` (see there)."""
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    if progress_interval <= 0:
        raise ValueError("progress_interval must be positive")
    total = len(requests) if isinstance(requests, (list, tuple)) else None
    if journal is not None and isinstance(requests, (list, tuple)):
        list(_requests(requests, need_ref=True))  # refuse before sending anything
    store, owned = open_store(journal, "session-import") if journal is not None else (None, False)
    log = Journal(store) if store is not None else None
    tally = _Tally(sessions._client, total, concurrency)
    batch = _Batch(sessions, log, tally)
    source = enumerate(_requests(requests, need_ref=log is not None))
    results: asyncio.Queue[BatchResult | _Failed | None] = asyncio.Queue()

    workers: list[asyncio.Task[None]] = []
    getter: asyncio.Task[BatchResult | _Failed | None] | None = None
    try:
        if log is not None:  # a journal of another account, or one we cannot write: stop now
            await log.bind(account_of(sessions._client))
        workers = [asyncio.create_task(batch.work(source, results)) for _ in range(concurrency)]
        running = len(workers)
        while running:
            # asyncio.wait, not wait_for: before 3.12 wait_for can swallow a cancellation.
            getter = getter or asyncio.create_task(results.get())
            timeout = None if on_progress is None else progress_interval
            if not (await asyncio.wait({getter}, timeout=timeout))[0]:
                if on_progress is not None:
                    on_progress(tally.progress(None))
                continue
            item, getter = getter.result(), None
            if item is None:
                running -= 1
                continue
            # After a _Failed no new row starts (the workers see batch.stopped), but the rows
            # in flight end and are journaled: a request the server answered is never re-sent.
            if not isinstance(item, _Failed):
                tally.yielded.add(item)
                if on_progress is not None:
                    on_progress(tally.progress(item))
                yield item
        _reraise(batch.stopped)
    finally:
        for task in [*workers, getter]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*workers, *([getter] if getter else []), return_exceptions=True)
        if on_progress is not None and workers:
            on_progress(tally.progress(None, tally.arrived))  # every answer that arrived
        if owned and store is not None:
            await store.aclose()


async def _create(
    sessions: Sessions,
    requests: Iterable[SessionRequest | Mapping[str, Any]],
    **options: Any,
) -> list[BatchResult]:
    """The engine of ``sessions.create_many``: :func:`_iter_create` gathered in input order."""
    results = [result async for result in _iter_create(sessions, requests, **options)]
    return sorted(results, key=lambda r: r.index)
