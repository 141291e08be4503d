"""Batch session creation: many sessions at once, within the rate limit, errors kept per item.

Every :class:`SessionRequest` carries its own idempotency key, made when the request is built
and sent on every retry, so neither a retried attempt nor a re-run of the whole batch with the
same requests creates a second session.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .models import Session, UserData

if TYPE_CHECKING:
    from .resources.sessions import Sessions

__all__ = ["BatchResult", "SessionRequest", "create_sessions", "iter_create_sessions"]

ProgressCallback = Callable[[int, int | None, "BatchResult"], None]


def _new_key() -> str:
    return str(uuid.uuid4())


@attrs.frozen
class SessionRequest:
    """The arguments of one ``sessions.create`` call, with its idempotency key fixed up front."""

    success_url: str
    failed_url: str
    image_url: str | None = None
    creator_id: str | None = None
    merch_id: str | None = None
    variant_id: str | None = None
    quantity: int | None = None
    user_data: UserData | None = None
    idempotency_key: str = attrs.field(factory=_new_key)


@attrs.frozen
class BatchResult:
    """The outcome of one request of a batch: a session, or the error it met."""

    index: int
    request: SessionRequest
    session: Session | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """Whether the session was created (or already existed under this key)."""
        return self.session is not None


def _requests(items: Iterable[SessionRequest | Mapping[str, Any]]) -> Iterator[SessionRequest]:
    for item in items:
        yield item if isinstance(item, SessionRequest) else SessionRequest(**item)


async def iter_create_sessions(
    sessions: Sessions,
    requests: Iterable[SessionRequest | Mapping[str, Any]],
    *,
    concurrency: int = 10,
    on_progress: ProgressCallback | None = None,
) -> AsyncIterator[BatchResult]:
    """Create sessions with ``concurrency`` workers; yield each result as it completes.

    Requests are read lazily, so a generator of a million requests never sits in memory. The
    client's rate limiter paces the workers: more concurrency than the limit allows only queues.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    total = len(requests) if isinstance(requests, (list, tuple)) else None
    source = enumerate(_requests(requests))
    results: asyncio.Queue[BatchResult | None] = asyncio.Queue()
    done = 0

    async def worker() -> None:
        for index, request in source:  # shared iterator: each item goes to one worker
            try:
                session = await sessions.create(**attrs.asdict(request, recurse=False))
                result = BatchResult(index, request, session=session)
            except Exception as exc:  # one bad item must not sink the batch
                result = BatchResult(index, request, error=exc)
            await results.put(result)
        await results.put(None)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        running = len(workers)
        while running:
            result = await results.get()
            if result is None:
                running -= 1
                continue
            done += 1
            if on_progress is not None:
                on_progress(done, total, result)
            yield result
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def create_sessions(
    sessions: Sessions,
    requests: Iterable[SessionRequest | Mapping[str, Any]],
    *,
    concurrency: int = 10,
    on_progress: ProgressCallback | None = None,
) -> list[BatchResult]:
    """Like :func:`iter_create_sessions`, gathered in the order of ``requests``."""
    results = [
        result
        async for result in iter_create_sessions(
            sessions, requests, concurrency=concurrency, on_progress=on_progress
        )
    ]
    return sorted(results, key=lambda r: r.index)
