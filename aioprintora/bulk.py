"""Batch session creation: many sessions within the rate limit, errors kept per row, exactly once.

The safe pattern for an import that may crash and be re-run::

    requests = [SessionRequest(ref=row["cart_id"], image_url=row["image"], ...) for row in rows]
    results = await client.sessions.create_many(requests, journal="import.sqlite")

- ``ref`` is the caller's stable id of the row. The idempotency key is derived from it
  (UUIDv5 over :attr:`SessionRequest.ref_namespace` and the ref, not over the API key), so a
  re-run within the server's idempotency window never makes a second session.
- The journal records ref → session as each result arrives (see :mod:`aioprintora.journal`), so a
  re-run after the window, or after Ctrl-C or a crash, returns journaled rows without calling the
  API and creates only the rest; errors are retried.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .journal import Journal, JournalConflictError, JournalEntry, describe, fingerprint
from .models import Session, UserData
from .store import StoreLike, open_store

if TYPE_CHECKING:
    from .resources.sessions import Sessions

__all__ = [
    "DEFAULT_REF_NAMESPACE",
    "BatchResult",
    "Progress",
    "ProgressCallback",
    "SessionRequest",
    "key_for_ref",
]

#: The namespace of keys derived from refs, unless a request names its own.
DEFAULT_REF_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5e7a-9c01-7a5b3e2d9f40")

_CREATE_FIELDS = (
    "success_url",
    "failed_url",
    "image_url",
    "creator_id",
    "merch_id",
    "variant_id",
    "quantity",
    "user_data",
)


def key_for_ref(ref: str, namespace: uuid.UUID = DEFAULT_REF_NAMESPACE) -> str:
    """The idempotency key a request with this ``ref`` sends: UUIDv5 over ``namespace``."""
    return str(uuid.uuid5(namespace, ref))


def _new_key() -> str:
    return str(uuid.uuid4())


def _ref(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{attribute.name} must be a non-empty string")


@attrs.frozen
class SessionRequest:
    """The arguments of one ``sessions.create`` call, and how its idempotency key is made.

    Args:
        ref: your stable id for this row (cart id, CSV key): the key is derived from it, and a
            journal records the row under it.
        idempotency_key: an explicit key (wins over ``ref``); None by default.
        ref_namespace: the UUIDv5 namespace of keys derived from ``ref`` (set your own to keep
            refs of two unrelated imports from meeting).

    With neither ``ref`` nor ``idempotency_key`` a random key is made once, when the request is
    built, so re-sending the same object is still safe.
    """

    success_url: str
    failed_url: str
    image_url: str | None = None
    creator_id: str | None = None
    merch_id: str | None = None
    variant_id: str | None = None
    quantity: int | None = None
    user_data: UserData | None = None
    ref: str | None = attrs.field(default=None, validator=_ref)
    idempotency_key: str | None = None
    ref_namespace: uuid.UUID = DEFAULT_REF_NAMESPACE
    _random_key: str = attrs.field(factory=_new_key, init=False, repr=False, eq=False)

    @property
    def key(self) -> str:
        """The ``Idempotency-Key`` this request sends on every attempt and every re-run."""
        if self.idempotency_key is not None:
            return self.idempotency_key
        if self.ref is not None:
            return key_for_ref(self.ref, self.ref_namespace)
        return self._random_key

    def create_arguments(self) -> dict[str, Any]:
        """The keyword arguments of :meth:`~aioprintora.resources.sessions.Sessions.create`."""
        args = {name: getattr(self, name) for name in _CREATE_FIELDS}
        args["idempotency_key"] = self.key
        return args

    def fingerprint(self) -> str:
        """A hash of what this request asks for (key and ref excluded)."""
        content = {
            name: attrs.asdict(value) if attrs.has(type(value)) else value
            for name in _CREATE_FIELDS
            if (value := getattr(self, name)) is not None
        }
        return fingerprint(content)


@attrs.frozen
class BatchResult:
    """The outcome of one request of a batch: a session, or the error it met.

    ``journaled`` is True when the session came from the journal (no request was made); its
    ``session.created_at`` tells whether the redirect link (15 minutes) may have expired.
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
    seconds while nothing finishes, e.g. while the rate limiter holds the requests back).
    ``eta`` is the seconds still needed, from the rate limiter's schedule of free slots and
    the observed pace (None while the total is unknown).
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


def _requests(
    items: Iterable[SessionRequest | Mapping[str, Any]], need_ref: bool
) -> Iterator[SessionRequest]:
    for item in items:
        request = item if isinstance(item, SessionRequest) else SessionRequest(**item)
        if need_ref and request.ref is None:
            raise ValueError("a journal needs a ref on every request (SessionRequest(ref=...))")
        yield request


class _Failed:
    """The request source itself failed (e.g. a request without a ref): stop the batch."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Tally:
    """The counts behind :class:`Progress`, and its ETA."""

    def __init__(self, sessions: Sessions, total: int | None, concurrency: int) -> None:
        self.limiter = sessions._client.limiter
        self.total, self.concurrency = total, concurrency
        self.started_at = time.monotonic()
        self.done = self.created = self.failed = self.journaled = self.sent = 0

    def count(self, result: BatchResult) -> None:
        self.done += 1
        if result.journaled:
            self.journaled += 1
        elif result.ok:
            self.created += 1
        else:
            self.failed += 1

    def eta(self, elapsed: float) -> float | None:
        if self.total is None:
            return None
        left = max(0, self.total - self.done)
        if left == 0:
            return 0.0
        made = self.done - self.journaled
        pace = elapsed / made * left if made else 0.0  # the pace seen so far
        # The limiter knows when its next slots free up: after a burst, that dominates.
        unsent = max(0, self.total - self.sent)
        slots = getattr(self.limiter, "free_after", None)
        waits = slots(unsent, time.monotonic()) if slots is not None and unsent else 0.0
        return max(pace, waits)

    def progress(self, result: BatchResult | None) -> Progress:
        elapsed = time.monotonic() - self.started_at
        return Progress(
            self.done,
            self.total,
            self.created,
            self.failed,
            self.journaled,
            elapsed,
            self.eta(elapsed),
            result,
        )


async def _one(
    sessions: Sessions, log: Journal | None, tally: _Tally, index: int, request: SessionRequest
) -> BatchResult:
    """One row: from the journal when it holds the session, else created (and journaled)."""
    fp = request.fingerprint() if log is not None else ""
    if log is not None and request.ref is not None:
        entry = (await log.lookup([request.ref])).get(request.ref)
        if entry is not None and entry.session is not None:
            if entry.fingerprint == fp:
                return BatchResult(index, request, session=entry.session, journaled=True)
            conflict = JournalConflictError(
                f"ref {request.ref!r} was journaled with different content"
            )
            return BatchResult(index, request, error=conflict)
    tally.sent += 1
    try:
        session = await sessions.create(**request.create_arguments())
        result = BatchResult(index, request, session=session)
    except Exception as exc:  # one bad item must not sink the batch
        result = BatchResult(index, request, error=exc)
    if log is not None and request.ref is not None:
        error = None if result.error is None else describe(result.error)
        entry = JournalEntry(fp, session=result.session, error=error)
        # Shielded: once the server made the session, a Ctrl-C must not skip its entry.
        await asyncio.shield(log.record(request.ref, entry))
    return result


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
    source = enumerate(_requests(requests, need_ref=log is not None))
    results: asyncio.Queue[BatchResult | _Failed | None] = asyncio.Queue()
    tally = _Tally(sessions, total, concurrency)

    async def worker() -> None:
        try:
            for index, request in source:  # shared iterator: each item goes to one worker
                await results.put(await _one(sessions, log, tally, index, request))
        except Exception as exc:  # the source failed: the whole batch stops
            await results.put(_Failed(exc))
        await results.put(None)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    getter: asyncio.Task[BatchResult | _Failed | None] | None = None
    try:
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
            if isinstance(item, _Failed):
                raise item.exc
            tally.count(item)
            if on_progress is not None:
                on_progress(tally.progress(item))
            yield item
    finally:
        for task in [*workers, getter]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*workers, *([getter] if getter else []), return_exceptions=True)
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
