"""Imports and order syncs on a job queue: any number of workers, one key's limits, exactly once.

``pip install 'aioprintora[workers]'`` (the `saq <https://github.com/tobymao/saq>`_ queue on
Redis). Everything lives in one Redis (``PRINTORA_REDIS_URL``): the queue, the shared
:class:`~aioprintora.ratelimit.RedisRateLimiter`, the import journal and the sync state::

    import_id = await enqueue_import("redis://127.0.0.1:6379/0", requests)
    status = await import_status("redis://127.0.0.1:6379/0", import_id)

and workers, as many as you like, on any machine::

    aioprintora worker            # or: saq aioprintora.workers.settings

- An import is cut in chunks, one job each, whose ids are the requests' fingerprint plus the
  chunk number: enqueuing the same requests again adds nothing.
- Each row goes through ``create_many`` with the Redis journal (one per API key): a row is made
  once, whichever worker runs its chunk and however often.
- A chunk the limiter would hold longer than ``defer_after`` seconds (a spent day, a server's
  429 pause) is handed back to the queue until the window opens: no worker waits on it, and
  no request is spent on finding out.
- A worker's chunk carries a heartbeat; a dead worker's chunk is found within ``HEARTBEAT`` +
  ``SWEEP`` + 1 s and put at the head of the queue. Workers run a chunk for ``SLICE`` seconds
  at a time (then it goes to the back of the queue), so a worker is free for it within
  ``SLICE`` more: it runs again within about 20 s.
- The order sync runs as a periodic job, one run at a time, its state in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import (
    APIConnectionError,
    AuthenticationError,
    PermissionDeniedError,
    PrintoraError,
    RateLimitError,
    ServerError,
)
from ._models import UserData
from .jobs._imports import Progress, SessionRequest

if TYPE_CHECKING:
    from ._client import PrintoraClient
    from ._models import Order
    from .jobs._store_redis import RedisStore
    from .ratelimit._local import Window

__all__ = [
    "ImportStatus",
    "enqueue_import",
    "import_status",
    "settings",
    "sync_state",
    "worker_settings",
]

#: The saq queue the jobs go to (one Redis can hold several: pass ``queue_name``).
QUEUE_NAME = "aioprintora"
#: Rows per job: a crash re-runs at most this many journal look-ups.
DEFAULT_CHUNK_SIZE = 100
#: Seconds a running chunk may go without a heartbeat before it counts as dead.
HEARTBEAT = 6
#: Seconds between the workers' sweeps for dead chunks.
SWEEP = 3
#: Seconds a worker runs one chunk before it takes new rows from the next one: chunks take turns,
#: so a worker is soon free for a dead worker's chunk (the limiter, not the turn, sets the pace).
SLICE = 5.0
#: A chunk held back by the limiter for longer than this is deferred instead of waiting.
DEFAULT_DEFER_AFTER = 30.0
# Deferrals count as attempts in saq: an import deferred once a day never runs out of them.
_RETRIES = 1_000_000
_KEEP = 30 * 86_400  # seconds an import's status stays readable after its last change
_ERRORS_KEPT = 20  # failed rows listed per chunk in the status (all are in the journal)


def _key(import_id: str, part: str = "") -> str:
    return f"aioprintora:import:{import_id}{':' + part if part else ''}"


def _wire(request: SessionRequest) -> dict[str, Any]:
    """A request as the job carries it (JSON): its fields and how its key is made."""
    body = {k: v for k, v in attrs.asdict(request, recurse=True).items() if v is not None}
    body.pop("_random_key", None)
    body["ref_namespace"] = str(request.ref_namespace)
    return body


def _unwire(body: Mapping[str, Any]) -> SessionRequest:
    import uuid

    fields = dict(body)
    fields["ref_namespace"] = uuid.UUID(fields["ref_namespace"])
    if fields.get("user_data") is not None:
        fields["user_data"] = UserData(**fields["user_data"])
    return SessionRequest(**fields)


def import_id_for(requests: Iterable[SessionRequest | Mapping[str, Any]]) -> str:
    """The id of an import: a hash of every row's ref, key and content, in order.

    Raises:
        ValueError: as :func:`enqueue_import`.
    """
    return _check(requests)[0]


@attrs.frozen
class ImportStatus:
    """Where a queued import stands (:func:`import_status`).

    ``done`` counts rows finished (made now, found in the journal, or failed); ``stopped`` is
    why the import stopped for good (a rejected key), ``deferred_until`` the unix time a chunk
    waits for (the rate limit's window), ``errors`` the first failed rows as ``(ref, error)``.
    """

    import_id: str
    total: int
    chunks: int
    finished_chunks: int
    done: int
    created: int
    journaled: int
    failed: int
    deferred_until: float | None = None
    stopped: str | None = None
    errors: tuple[tuple[str, str], ...] = ()

    @property
    def finished(self) -> bool:
        """Every chunk has run to its end, or the import was stopped."""
        return self.stopped is not None or self.finished_chunks >= self.chunks

    @property
    def ok(self) -> bool:
        """Finished with every row made."""
        return self.finished and self.stopped is None and self.failed == 0


def _redis(url: str) -> Any:
    from redis import asyncio as aioredis

    return aioredis.from_url(url, socket_connect_timeout=5)


# saq re-queues a swept job (its worker died) at the back of the queue; a dead worker's chunk
# goes to the front instead, so it runs again in seconds however long the queue.
_TO_FRONT = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then redis.call('LPUSH', KEYS[1], ARGV[1]) end
"""


def _queue(url: str, name: str) -> Any:
    from saq.queue.redis import RedisQueue

    class Queue(RedisQueue):
        async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
            # A dead worker never acknowledges the abort: 1 s, not saq's 5, before the retry.
            swept: list[str] = await super().sweep(lock, min(abort, 1.0))
            redis: Any = self.redis
            for job_id in swept:
                await redis.eval(_TO_FRONT, 1, self._queued, job_id)
            return swept

    return Queue.from_url(url, name=name)


async def enqueue_import(
    redis_url: str,
    requests: Iterable[SessionRequest | Mapping[str, Any]],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    queue_name: str = QUEUE_NAME,
) -> str:
    """Queue an import for the workers; its id. Enqueuing the same requests again adds nothing.

    Chunks already finished without failures are not queued again; a chunk with failed rows
    is (its made rows come from the journal), so re-enqueuing retries what failed.

    The rows are read twice (to name the import, then to queue it): pass a list, or an
    iterable whose ``iter()`` starts again (an iterator is kept in memory first).

    Args:
        redis_url: the Redis of the queue, the limiter and the journal.
        requests: every row, each with a ``ref`` (checked before anything is queued).
        chunk_size: rows per job.
        queue_name: the saq queue the workers listen on.

    Raises:
        ValueError: a row without a ref, a ref given twice, no rows, or a bad ``chunk_size``.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    if iter(requests) is requests:  # a one-shot iterator: two passes need the rows kept
        requests = list(requests)
    import_id, total = _check(requests)
    count = -(-total // chunk_size)
    redis, queue = _redis(redis_url), _queue(redis_url, queue_name)
    try:
        await queue.connect()
        meta = {"total": total, "chunks": count, "chunk_size": chunk_size}
        if await redis.hsetnx(_key(import_id), "meta", json.dumps(meta)):
            await redis.expire(_key(import_id), _KEEP)
        else:  # the same import again: cut as the first time
            meta = json.loads(await redis.hget(_key(import_id), "meta"))
        await redis.hdel(_key(import_id), "stopped")  # queued again: e.g. the key was fixed
        progress = await redis.hgetall(_key(import_id, "chunks"))
        for number, chunk in enumerate(_chunks(requests, meta["chunk_size"])):
            seen = progress.get(str(number).encode())
            if seen is not None and _clean(json.loads(seen)):
                continue
            if seen is not None and json.loads(seen).get("final"):
                # Ended with failed rows: from its first row again (made rows are journaled).
                await redis.hdel(_key(import_id, "chunks"), str(number))
            await queue.enqueue(
                "import_chunk",
                key=f"import:{import_id}:{number}",
                timeout=0,  # the heartbeat tells a dead chunk; its requests have deadlines
                heartbeat=HEARTBEAT,
                retries=_RETRIES,
                ttl=_KEEP,
                import_id=import_id,
                chunk=number,
                rows=chunk,
            )
    finally:
        await queue.disconnect()
        await redis.aclose()
    return import_id


def _as_request(item: SessionRequest | Mapping[str, Any]) -> SessionRequest:
    return item if isinstance(item, SessionRequest) else SessionRequest(**item)


def _check(requests: Iterable[SessionRequest | Mapping[str, Any]]) -> tuple[str, int]:
    """The import's id and row count; ValueError for a missing or repeated ref, or no rows."""
    refs: set[str] = set()
    digest = hashlib.sha256(b"aioprintora-import\0")
    for item in requests:
        request = _as_request(item)
        if request.ref is None:
            raise ValueError("a queued import needs a ref on every row (SessionRequest(ref=...))")
        if request.ref in refs:
            raise ValueError(f"ref {request.ref!r} appears twice in the import")
        refs.add(request.ref)
        digest.update(f"{request.ref}\0{request.key}\0{request.fingerprint()}\n".encode())
    if not refs:
        raise ValueError("no rows to import")
    return digest.hexdigest()[:24], len(refs)


def _chunks(
    requests: Iterable[SessionRequest | Mapping[str, Any]], size: int
) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in requests:
        chunk.append(_wire(_as_request(item)))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _clean(chunk: Mapping[str, Any]) -> bool:
    return bool(chunk.get("final")) and not chunk.get("failed")


async def import_status(redis_url: str, import_id: str) -> ImportStatus:
    """The progress of a queued import, from any machine.

    Raises:
        LookupError: no import with that id (never queued, or forgotten after 30 days).
    """
    redis = _redis(redis_url)
    try:
        meta_raw = await redis.hget(_key(import_id), "meta")
        stopped = await redis.hget(_key(import_id), "stopped")
        chunks_raw = await redis.hgetall(_key(import_id, "chunks"))
    finally:
        await redis.aclose()
    if meta_raw is None:
        raise LookupError(f"no queued import {import_id!r}")
    meta = json.loads(meta_raw)
    chunks = [json.loads(v) for v in chunks_raw.values()]
    deferred = [c["deferred_until"] for c in chunks if c.get("deferred_until")]
    return ImportStatus(
        import_id=import_id,
        total=meta["total"],
        chunks=meta["chunks"],
        finished_chunks=sum(1 for c in chunks if c.get("final")),
        done=sum(c.get("done", 0) for c in chunks),
        created=sum(c.get("created", 0) for c in chunks),
        journaled=sum(c.get("journaled", 0) for c in chunks),
        failed=sum(c.get("failed", 0) for c in chunks if c.get("final")),
        deferred_until=max(deferred) if deferred else None,
        stopped=None if stopped is None else stopped.decode(),
        errors=tuple(  # a deferred turn may list a row that fails again in the next
            dict.fromkeys((str(r), str(e)) for c in chunks for r, e in c.get("errors", ()))
        ),
    )


# --- the worker side -------------------------------------------------------------------------


class ChunkDeferred(Exception):  # noqa: N818 - a signal to the queue, not a failure
    """A chunk handed back to the queue until the rate limit's window opens."""


@attrs.define
class _Config:
    redis_url: str
    api_key: str
    base_url: str | None
    windows: Sequence[Window]
    defer_after: float
    concurrency: int
    timeout: float
    order_handler: Callable[[Order], Awaitable[object]] | None
    sync_webhooks: bool = False


@attrs.define
class _Runtime:
    """What one worker process holds from ``on_startup`` to ``on_shutdown``."""

    config: _Config
    redis: Any
    limiter: Any
    client: PrintoraClient
    journal: Any
    key_digest: str


async def _startup(ctx: dict[str, Any], config: _Config) -> None:
    """One client per worker, made in the worker's own loop (no client crosses loops)."""
    from ._client import PrintoraClient
    from ._http.retry import RetryPolicy
    from .jobs._store_redis import RedisStore
    from .ratelimit._redis import RedisRateLimiter, redis_key_for

    redis = _redis(config.redis_url)
    key = redis_key_for(config.api_key)
    # A held slot of a worker killed mid-request frees itself once the request's time is up.
    limiter = RedisRateLimiter(redis, key=key, windows=config.windows, max_hold=config.timeout)
    client = PrintoraClient(
        config.api_key,
        base_url=config.base_url,
        timeout=config.timeout,
        rate_limit=limiter,
        # A longer wait (a spent window, a 429's Retry-After) fails the row at once, unsent;
        # the chunk is then deferred rather than holding the worker.
        retry=RetryPolicy(max_server_wait=config.defer_after),
    )
    digest = key.rsplit(":", 1)[-1]
    journal = RedisStore(redis, f"aioprintora:journal:{digest}")
    ctx["aioprintora"] = _Runtime(config, redis, limiter, client, journal, digest)


async def _shutdown(ctx: dict[str, Any]) -> None:
    runtime: _Runtime | None = ctx.pop("aioprintora", None)
    if runtime is None:
        return
    await runtime.limiter.aclose()  # its slot releases still on the wire first
    await runtime.client.aclose()
    await runtime.redis.aclose()


_COUNTS = ("done", "created", "journaled", "failed")


@attrs.define
class _Tally:
    """A chunk's counts across its turns.

    ``base`` holds the rows before ``offset``, finished in earlier turns (failed rows are not
    sent again); this turn adds ``create_many``'s own counts, less the rows deferred (they run
    again, and count then).
    """

    rows: int
    offset: int = 0
    base: dict[str, int] = attrs.Factory(lambda: dict.fromkeys(_COUNTS, 0))
    errors: list[tuple[str, str]] = attrs.Factory(list)
    seen: Progress | None = None
    deferred: int = 0

    @classmethod
    def resume(cls, rows: int, raw: bytes | None) -> _Tally:
        if raw is None:
            return cls(rows)
        stored = json.loads(raw)
        errors = [(str(ref), str(error)) for ref, error in stored.get("errors", ())]
        return cls(rows, stored.get("offset", 0), stored.get("base") or cls(rows).base, errors)

    def counts(self) -> dict[str, int]:
        seen = self.seen or Progress(0, None, 0, 0, 0, 0.0, None)
        turn = {
            "done": seen.done - self.deferred,
            "created": seen.created,
            "journaled": seen.journaled,
            "failed": seen.failed - self.deferred,
        }
        return {name: self.base[name] + turn[name] for name in _COUNTS}

    def record(
        self, *, final: bool = False, fed: int | None = None, deferred_until: float | None = None
    ) -> str:
        """The chunk's progress as stored; ``fed``: the turn ended with that many rows done."""
        counts = self.counts()
        offset, base = self.offset, self.base
        if fed is not None:  # the next turn starts after them
            offset, base = self.offset + fed, counts
        return json.dumps(
            {
                **counts,
                "rows": self.rows,
                "offset": offset,
                "base": base,
                "errors": self.errors[:_ERRORS_KEPT],
                "final": final,
                "deferred_until": deferred_until,
            }
        )


def _outcome(error: Exception, defer_after: float) -> tuple[float, str | None]:
    """``(wait, stop)`` for an error: deferred by ``wait`` (> 0), stopping the import, or neither
    (the row failed for good)."""
    if isinstance(error, RateLimitError):
        # The limiter refused to wait that long (a spent window), or a 429 outlasted it.
        return error.retry_after or defer_after, None
    if isinstance(error, (APIConnectionError, ServerError)):
        # Retried by the client already (Redis down, the API down): try the chunk later.
        return defer_after, None
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return 0.0, f"{type(error).__name__}: {error}"  # every row would meet it
    return 0.0, None


async def _turn(
    runtime: _Runtime, tally: _Tally, requests: Iterator[SessionRequest]
) -> tuple[float, str | None]:
    """One turn of a chunk through ``create_many``: ``(wait, stop)`` as :func:`_outcome`."""
    wait, stop, defer_after = 0.0, None, runtime.config.defer_after
    results = runtime.client.sessions.iter_create_many(
        requests,
        concurrency=runtime.config.concurrency,
        journal=runtime.journal,
        on_progress=functools.partial(setattr, tally, "seen"),
        progress_interval=HEARTBEAT,
    )
    try:
        async for result in results:
            if result.error is None:
                continue
            delay, stopping = _outcome(result.error, defer_after)
            if delay:
                tally.deferred += 1  # not done: its chunk runs it again
                wait = max(wait, delay)
            else:
                error = result.error
                tally.errors.append((str(result.request.ref), f"{type(error).__name__}: {error}"))
                stop = stop or stopping
    except PrintoraError as exc:  # the whole batch stopped (a refused key, a spent window)
        delay, stopping = _outcome(exc, defer_after)
        stop = stop or stopping
        # Rows the batch left undecided run again; an error of unknown kind is taken as passing.
        wait = max(wait, delay or (0.0 if stopping else defer_after))
    return wait, stop


async def import_chunk(
    ctx: dict[str, Any], *, import_id: str, chunk: int, rows: list[dict[str, Any]]
) -> dict[str, int]:
    """The job of one chunk: its rows through the journaled ``create_many``, one turn of it."""
    runtime: _Runtime = ctx["aioprintora"]
    job, redis = ctx["job"], runtime.redis
    if await redis.hget(_key(import_id), "stopped") is not None:
        return {}
    progress_key = _key(import_id, "chunks")
    tally = _Tally.resume(len(rows), await redis.hget(progress_key, str(chunk)))
    # A deferral set a long retry delay: a crash from now on must re-run the chunk at once.
    job.retry_delay = 0.0

    async def beat() -> None:
        while True:
            await job.update(progress=tally.counts()["done"] / max(1, tally.rows))
            await redis.hset(progress_key, str(chunk), tally.record())
            await asyncio.sleep(HEARTBEAT / 4)

    fed = 0
    loop = asyncio.get_running_loop()
    turn_ends = loop.time() + SLICE

    def feed() -> Iterator[SessionRequest]:
        nonlocal fed
        for row in rows[tally.offset :]:
            if fed and loop.time() > turn_ends:  # the rows in flight still finish
                return
            fed += 1
            yield _unwire(row)

    beating = asyncio.create_task(beat())
    try:
        wait, stop = await _turn(runtime, tally, feed())
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
    if stop is not None:
        await redis.hset(_key(import_id), "stopped", stop)
    elif wait:
        until = time.time() + wait
        await redis.hset(progress_key, str(chunk), tally.record(deferred_until=until))
        job.retry_delay = wait  # saq schedules the retry this much later
        raise ChunkDeferred(f"chunk {chunk} deferred {wait:.0f} s (rate limit, or an outage)")
    elif tally.offset + fed < len(rows):
        await redis.hset(progress_key, str(chunk), tally.record(fed=fed))
        raise ChunkDeferred(f"chunk {chunk}: its turn is over, back in the queue")
    await redis.hset(progress_key, str(chunk), tally.record(final=True, fed=fed))
    await redis.expire(progress_key, _KEEP)
    return tally.counts()


def sync_state(redis: Any, api_key: str) -> RedisStore:
    """The state the workers' periodic order sync keeps in Redis, for one API key.

    A webhook receiver of the same key records into it, and the periodic sync, run with
    ``sync_webhooks=True``, yields those changes without a request::

        sync = OrderSync(client, state=sync_state(redis, api_key), webhooks=True)
        await sync.record(event)  # in the receiver, before answering 2xx

    Args:
        redis: a ``redis.asyncio.Redis`` of the workers' Redis (``PRINTORA_REDIS_URL``).
        api_key: the partner key (only a digest of it names the state).
    """
    from .jobs._store_redis import RedisStore
    from .ratelimit._redis import redis_key_for

    digest = redis_key_for(api_key).rsplit(":", 1)[-1]
    return RedisStore(redis, f"aioprintora:sync:{digest}")


async def sync_orders(ctx: dict[str, Any]) -> dict[str, int]:
    """The periodic order sync: changed orders to the handler; the state commits at the end."""
    from .jobs._sync import OrderSync

    runtime: _Runtime = ctx["aioprintora"]
    handler = runtime.config.order_handler
    if handler is None:
        return {}
    sync = OrderSync(
        runtime.client,
        state=sync_state(runtime.redis, runtime.config.api_key),
        webhooks=runtime.config.sync_webhooks,
    )
    job, count = ctx["job"], 0
    async with contextlib.aclosing(sync):
        async for order in sync:
            await handler(order)
            count += 1
            await job.update()  # heartbeat: a sync killed mid-run is run again
    return {"orders": count}


def worker_settings(
    *,
    redis_url: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    rate_limit: Sequence[Window] | None = None,
    concurrency: int = 4,
    chunks_at_once: int = 1,
    timeout: float = 30.0,
    defer_after: float = DEFAULT_DEFER_AFTER,
    order_handler: Callable[[Order], Awaitable[object]] | None = None,
    sync_cron: str = "*/5 * * * *",
    sync_webhooks: bool = False,
    queue_name: str = QUEUE_NAME,
) -> dict[str, Any]:
    """The settings of a saq worker (``saq.Worker(**worker_settings(...))``).

    Unset arguments come from ``PRINTORA_REDIS_URL``, ``PRINTORA_API_KEY``,
    ``PRINTORA_BASE_URL`` and ``PRINTORA_RATE_LIMIT`` (default: Printora's 60/min, 10,000/day).

    Args:
        redis_url: the Redis of the queue, the limiter, the journal and the sync state.
        api_key: the partner key (never logged).
        base_url: the API root.
        rate_limit: the key's windows, shared by every worker.
        concurrency: requests in flight per chunk: a few cover the latency (the shared limiter
            sets the pace), and the fewer, the sooner a chunk's turn ends.
        chunks_at_once: chunks one worker runs at once.
        timeout: seconds one request attempt may take (also how long a dead worker's held
            rate-limit slot stays held).
        defer_after: a chunk the limiter would hold longer is deferred instead.
        order_handler: ``async def handler(order)``; with it, the order sync runs on
            ``sync_cron`` (one run at a time).
        sync_cron: when the order sync runs (cron syntax, UTC).
        sync_webhooks: the webhook-fed sync (``OrderSync(webhooks=True)``): each run yields
            what your receiver recorded into :func:`sync_state`, then reconciles through the
            webhook logs.
        queue_name: the saq queue.

    Raises:
        ValueError: no Redis URL or API key, or a bad ``PRINTORA_RATE_LIMIT``.
    """
    from saq import CronJob as _CronJob

    cron_job: Any = _CronJob  # saq types its context as a TypedDict; ours is a plain dict

    from .ratelimit._local import DEFAULT_WINDOWS

    redis_url = redis_url or os.environ.get("PRINTORA_REDIS_URL")
    api_key = api_key or os.environ.get("PRINTORA_API_KEY")
    if not redis_url:
        raise ValueError("no Redis: pass redis_url=... or set PRINTORA_REDIS_URL")
    if not api_key:
        raise ValueError("no API key: pass api_key=... or set PRINTORA_API_KEY")
    if rate_limit is None:
        rate_limit = _env_rate_limit() or DEFAULT_WINDOWS
    config = _Config(
        redis_url=redis_url,
        api_key=api_key,
        base_url=base_url or os.environ.get("PRINTORA_BASE_URL") or None,
        windows=tuple(rate_limit),
        defer_after=defer_after,
        concurrency=concurrency,
        timeout=timeout,
        order_handler=order_handler,
        sync_webhooks=sync_webhooks,
    )

    async def startup(ctx: dict[str, Any]) -> None:
        await _startup(ctx, config)

    cron = [cron_job(sync_orders, cron=sync_cron, heartbeat=HEARTBEAT, timeout=0)]
    return {
        "queue": _queue(redis_url, queue_name),
        "functions": [import_chunk, sync_orders],
        "cron_jobs": cron if order_handler is not None else [],
        "concurrency": chunks_at_once,
        "startup": startup,
        "shutdown": _shutdown,
        "timers": {"sweep": SWEEP, "schedule": 1, "abort": 1},
    }


def _env_rate_limit() -> tuple[Window, ...] | None:
    raw = os.environ.get("PRINTORA_RATE_LIMIT", "").split()
    if not raw:
        return None
    from .cli._api import parse_rate_limit

    windows = parse_rate_limit(raw)
    if windows is None:
        raise ValueError("the workers share one key's limits: PRINTORA_RATE_LIMIT cannot be off")
    return windows


def settings() -> dict[str, Any]:
    """``saq aioprintora.workers.settings``: :func:`worker_settings` from the environment."""
    return worker_settings()
