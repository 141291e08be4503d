"""Import journal and sync state at their edges: duplicates, accounts, dead ends, counts (#21)."""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from aioprintora import (
    AuthenticationError,
    PermissionDeniedError,
    PrintoraClient,
    RateLimitError,
    RateLimiterUnavailableError,
)
from aioprintora._models import Session
from aioprintora.jobs._imports import Progress, SessionRequest
from aioprintora.jobs._journal import Journal, JournalConflictError, JournalEntry
from aioprintora.jobs._store import AccountMismatchError, SQLiteStore, Store
from aioprintora.jobs._store_redis import RedisStore
from aioprintora.jobs._sync import OrderSync
from aioprintora.ratelimit._local import Window
from aioprintora.ratelimit._redis import RedisRateLimiter
from aioprintora.sandbox import Sandbox
from tests._redis_server import redis_url  # noqa: F401

from .conftest import FAST_RETRY


def _row(i: int, ref: str | None = None, image: str | None = None) -> SessionRequest:
    return SessionRequest(
        ref=ref or f"row-{i}",
        image_url=image or f"https://img.example/{i}.png",
        success_url="https://shop.example/ok",
        failed_url="https://shop.example/no",
    )


def _client(sandbox: Sandbox, key: str | None = None, **options: Any) -> PrintoraClient:
    options.setdefault("rate_limit", None)
    return PrintoraClient(
        key or sandbox.api_key, base_url=sandbox.base_url, retry=FAST_RETRY, **options
    )


# -- 1. a ref twice in one batch ------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4, 16])
async def test_a_ref_twice_in_one_batch_is_a_conflict_at_any_concurrency(
    sandbox: Sandbox, tmp_path: Path, concurrency: int
) -> None:
    journal = tmp_path / "journal.sqlite"
    rows = [_row(i) for i in range(8)]
    rows[1:1] = [  # side by side: both are in flight at once unless serialised
        _row(0, ref="twice", image="https://img.example/a.png"),
        _row(0, ref="twice", image="https://img.example/b.png"),
    ]
    async with _client(sandbox) as api:
        results = await api.sessions.create_many(rows, concurrency=concurrency, journal=journal)
    twice = [r for r in results if r.request.ref == "twice"]
    assert sum(r.ok for r in twice) == 1
    assert [type(r.error) for r in twice if not r.ok] == [JournalConflictError]
    assert sandbox.session_count() == 9  # 8 rows and one of the two
    store = SQLiteStore(journal, "session-import")
    try:
        kept = (await Journal(store).lookup(["twice"]))["twice"]
    finally:
        store.close()
    made = next(r for r in twice if r.ok)
    assert kept.session == made.session


async def _session(sandbox: Sandbox) -> Session:
    async with _client(sandbox) as api:
        return await api.sessions.create(
            image_url="https://img.example/1.png",
            success_url="https://shop.example/ok",
            failed_url="https://shop.example/no",
        )


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def test_an_error_entry_never_replaces_a_saved_session(
    sandbox: Sandbox, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    store: Store
    if kind == "sqlite":
        store = SQLiteStore(tmp_path / "journal.sqlite", "session-import")
    else:
        conn = aioredis.from_url(request.getfixturevalue("redis_url"))
        store = RedisStore(conn, f"aioprintora-test:{uuid.uuid4()}")
    session = await _session(sandbox)
    journal = Journal(store)
    await journal.record("ref", JournalEntry("fp-a", session=session))
    # A second importer (or row) with the same ref met IdempotencyKeyError:
    await journal.record("ref", JournalEntry("fp-b", error="IdempotencyKeyError: 422"))
    kept = (await journal.lookup(["ref"]))["ref"]
    assert (kept.fingerprint, kept.session, kept.error) == ("fp-a", session, None)
    # An error with no session saved is still there to retry.
    await journal.record("other", JournalEntry("fp-c", error="ServerError: 500"))
    assert (await journal.lookup(["other"]))["other"].error == "ServerError: 500"
    await store.aclose()
    if isinstance(store, RedisStore):
        await store.redis.delete(store.name)
        await store.redis.aclose()


# -- 2. a sync commits only after its output is durable --------------------------------------------


async def test_a_sync_without_autocommit_commits_only_when_told(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await sandbox.seed_orders(15, ["paid"])
    state = tmp_path / "sync.sqlite"
    async with _client(sandbox) as api:
        first = OrderSync(api, state=str(state), autocommit=False)
        assert len([o async for o in first]) == 15
        assert not first.complete
        # Output lost: no commit, so the next run yields every order again.
        again = OrderSync(api, state=str(state), autocommit=False)
        assert len([o async for o in again]) == 15
        await again.commit()
        assert again.complete
        with pytest.raises(RuntimeError, match="no complete run"):
            await again.commit()
        after = OrderSync(api, state=str(state))
        assert [o async for o in after] == []
        assert after.complete  # the default still commits when the loop ends


async def test_a_sync_broken_off_cannot_be_committed(sandbox: Sandbox, tmp_path: Path) -> None:
    await sandbox.seed_orders(5, ["paid"])
    async with _client(sandbox) as api:
        job = OrderSync(api, state=str(tmp_path / "sync.sqlite"), autocommit=False, page_size=2)
        async for _ in job:
            break
        await job.aclose()
        with pytest.raises(RuntimeError):
            await job.commit()


# -- 3. state and journal belong to one account and API --------------------------------------------


async def test_a_sync_state_refuses_another_key_and_full_starts_over(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    other = sandbox.add_partner()
    await sandbox.seed_orders(13, ["paid"])
    await sandbox.seed_orders(30, ["paid"], api_key=other.api_key)
    state = str(tmp_path / "sync.sqlite")
    async with _client(sandbox) as api:
        assert len([o async for o in OrderSync(api, state=state)]) == 13
    async with _client(sandbox, other.api_key) as theirs:
        job = OrderSync(theirs, state=state)
        with pytest.raises(AccountMismatchError, match=r"full=True.*--full") as caught:
            async for _ in job:
                pass
        assert job.requests == 0
        assert sandbox.api_key not in str(caught.value)
        assert other.api_key not in str(caught.value)
        assert len([o async for o in OrderSync(theirs, state=state, full=True)]) == 30
        assert [o async for o in OrderSync(theirs, state=state)] == []
    store = SQLiteStore(state, "order-sync")
    raw = (await store.get_many(["state"]))["state"]
    store.close()
    assert other.api_key.encode() not in raw  # a digest, never the key


async def test_a_state_from_before_binding_is_bound_on_first_use(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    other = sandbox.add_partner()
    await sandbox.seed_orders(4, ["paid"])
    state = str(tmp_path / "sync.sqlite")
    async with _client(sandbox) as api:
        assert len([o async for o in OrderSync(api, state=state)]) == 4
    store = SQLiteStore(state, "order-sync")
    body = json.loads((await store.get_many(["state"]))["state"])
    del body["account"]  # what a state written by an older version holds
    await store.put_many({"state": json.dumps(body).encode()})
    store.close()
    async with _client(sandbox) as api:
        assert [o async for o in OrderSync(api, state=state)] == []  # accepted, and bound
    async with _client(sandbox, other.api_key) as theirs:
        with pytest.raises(AccountMismatchError):
            _ = [o async for o in OrderSync(theirs, state=state)]


async def _journal_and_a_stranger(sandbox: Sandbox, tmp_path: Path, rows: int) -> tuple[str, Path]:
    """A journal of ``rows`` sessions of the default partner, and another partner's key."""
    journal = tmp_path / "journal.sqlite"
    async with _client(sandbox) as api:
        await api.sessions.create_many([_row(i) for i in range(rows)], journal=journal)
    return sandbox.add_partner().api_key, journal


async def test_a_journal_refuses_another_key_before_sending(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    key, journal = await _journal_and_a_stranger(sandbox, tmp_path, 3)
    sent = len(sandbox.requests)
    async with _client(sandbox, key) as theirs:
        with pytest.raises(AccountMismatchError, match="another API key"):
            await theirs.sessions.create_many([_row(i) for i in range(5)], journal=journal)
    assert len(sandbox.requests) == sent
    assert sandbox.session_count(key) == 0


async def test_a_journal_from_before_binding_is_bound_by_its_next_entry(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    key, journal = await _journal_and_a_stranger(sandbox, tmp_path, 2)
    with sqlite3.connect(journal) as db:  # what an older version's journal holds
        db.execute("DELETE FROM aioprintora_kv WHERE key LIKE '%account'")
    async with _client(sandbox) as api:
        results = await api.sessions.create_many([_row(i) for i in range(3)], journal=journal)
    assert [r.journaled for r in results] == [True, True, False]
    async with _client(sandbox, key) as theirs:
        with pytest.raises(AccountMismatchError):
            await theirs.sessions.create_many([_row(9)], journal=journal)


# -- 4. the journal is known writable before the first request -------------------------------------


def _chattr(flag: str, path: Path) -> None:
    chattr = shutil.which("chattr")  # e2fsprogs; CI runs as root, who may set +i
    assert chattr is not None, "chattr (e2fsprogs) is needed to make a file read-only to root"
    subprocess.run([chattr, flag, str(path)], check=True)  # noqa: S603 - fixed argv


@pytest.fixture
def read_only_journal(tmp_path: Path) -> Iterator[Path]:
    """An existing journal made immutable (``chattr +i``): read-only even to root."""
    journal = tmp_path / "journal.sqlite"
    SQLiteStore(journal, "session-import").close()  # its table made: it opens fine
    _chattr("+i", journal)
    try:
        yield journal
    finally:
        _chattr("-i", journal)


async def test_a_read_only_journal_fails_before_any_request(
    sandbox: Sandbox, read_only_journal: Path
) -> None:
    with pytest.raises(PermissionError), read_only_journal.open("ab"):
        pass  # read-only to root too, so the test means something when run as root
    async with _client(sandbox) as api:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await api.sessions.create_many([_row(i) for i in range(10)], journal=read_only_journal)
    assert len(sandbox.requests) == 0


class _Wrapped:
    """A store around a real one (an SQLite file): subclasses change its writes."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    async def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        return await self.inner.get_many(keys)

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        await self.inner.put_many(items)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _FailingAfter(_Wrapped):
    """A store whose writes fail once ``limit`` entries were written (a disk filling up)."""

    def __init__(self, inner: Store, limit: int) -> None:
        super().__init__(inner)
        self.limit, self.written = limit, 0

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        entries = [key for key in items if not key.startswith("\0")]
        if entries and self.written >= self.limit:
            raise OSError(28, "No space left on device")
        await self.inner.put_many(items)
        self.written += len(entries)


async def test_a_journal_write_failing_mid_run_stops_the_import(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    store = _FailingAfter(SQLiteStore(tmp_path / "journal.sqlite", "session-import"), 5)
    async with _client(sandbox) as api:
        with pytest.raises(OSError, match="No space"):
            await api.sessions.create_many(
                [_row(i) for i in range(40)], concurrency=1, journal=store
            )
    # The sixth session was made but could not be journaled; nothing went out after it.
    assert sandbox.session_count() == 6
    await store.aclose()


def test_a_store_whose_connect_failed_is_collected_quietly(tmp_path: Path) -> None:
    unraisable: list[Any] = []
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        with pytest.raises(sqlite3.OperationalError):
            SQLiteStore(tmp_path / "missing" / "journal.sqlite")
        gc.collect()
    finally:
        sys.unraisablehook = hook
    ours = [u for u in unraisable if "SQLiteStore" in repr(u.object)]
    assert [(u.exc_type, u.exc_value) for u in ours] == []


# -- 5. an error no row can get past stops the job -------------------------------------------------


@pytest.fixture
async def wall() -> AsyncIterator[tuple[str, list[str], dict[str, Any]]]:
    """A server answering every request with ``answer["status"]`` and headers; the paths hit."""
    hits: list[str] = []
    answer: dict[str, Any] = {"status": 401, "headers": {}}

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        await asyncio.sleep(0.01)  # every worker has its request out before the first answer
        body = {"error": {"code": "NOPE", "message": "no"}}
        return web.json_response(body, status=answer["status"], headers=answer["headers"])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", hits, answer
    await runner.cleanup()


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (401, {}, AuthenticationError),
        (403, {}, PermissionDeniedError),
        (429, {"Retry-After": "86400"}, RateLimitError),  # the day's quota is spent
    ],
)
async def test_an_error_no_row_gets_past_stops_the_import(
    wall: tuple[str, list[str], dict[str, Any]],
    tmp_path: Path,
    status: int,
    headers: dict[str, str],
    error: type[Exception],
) -> None:
    url, hits, answer = wall
    answer.update(status=status, headers=headers)
    journal = tmp_path / "journal.sqlite"
    async with PrintoraClient("sk_test_wrong", base_url=url, retry=FAST_RETRY) as api:
        with pytest.raises(error):
            await api.sessions.create_many(
                [_row(i) for i in range(120)], concurrency=10, journal=journal
            )
        assert 1 <= len(hits) <= 10
        hits.clear()
        with pytest.raises(error):
            async for _ in api.sessions.iter_create_many(
                [_row(i) for i in range(120)], concurrency=4, journal=journal
            ):
                pass
        assert len(hits) <= 4  # (none after a 429: the limiter keeps the pause)
    store = SQLiteStore(journal, "session-import")
    try:  # no row was decided: none is journaled as failed
        assert await Journal(store).lookup(f"row-{i}" for i in range(120)) == {}
    finally:
        store.close()


async def test_a_wrong_key_then_the_right_one_creates_every_row(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite"
    rows = [_row(i) for i in range(30)]
    async with _client(sandbox, "sk_test_not_a_real_key") as wrong:
        with pytest.raises(AuthenticationError):
            await wrong.sessions.create_many(rows, concurrency=5, journal=journal)
    assert len(sandbox.requests) <= 5
    async with _client(sandbox) as api:
        results = await api.sessions.create_many(rows, concurrency=5, journal=journal)
    assert all(r.ok and not r.journaled for r in results)
    assert sandbox.session_count() == 30


@pytest.mark.redis
async def test_a_limiter_failing_closed_stops_the_import_unsent(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    limiter = RedisRateLimiter(dead, key=f"test-{uuid.uuid4()}", on_error="closed")
    try:
        async with _client(sandbox, rate_limit=limiter) as api:
            with pytest.raises(RateLimiterUnavailableError):
                await api.sessions.create_many(
                    [_row(i) for i in range(50)], journal=tmp_path / "journal.sqlite"
                )
    finally:
        await dead.aclose()
    assert len(sandbox.requests) == 0


async def test_a_sync_with_a_wrong_key_stops_at_its_first_answer(
    wall: tuple[str, list[str], dict[str, Any]], tmp_path: Path
) -> None:
    url, hits, _ = wall
    async with PrintoraClient("sk_test_wrong", base_url=url, retry=FAST_RETRY) as api:
        with pytest.raises(AuthenticationError):
            _ = [o async for o in OrderSync(api, state=str(tmp_path / "s.sqlite"))]
    assert len(hits) <= 2  # the first page, and at most the page read ahead


# -- 7. counts are exact ---------------------------------------------------------------------------


class _SlowFor(_Wrapped):
    """A store that holds the write of one ref until released (a slow disk at a Ctrl-C)."""

    def __init__(self, inner: Store, ref: str) -> None:
        super().__init__(inner)
        self.ref = ref
        self.writing, self.release = asyncio.Event(), asyncio.Event()

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        if self.ref in items:
            self.writing.set()
            await self.release.wait()
        await self.inner.put_many(items)


async def test_the_last_progress_counts_every_answer_of_a_cancelled_import(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    store = _SlowFor(SQLiteStore(tmp_path / "journal.sqlite", "session-import"), "row-3")
    seen: list[Progress] = []
    async with _client(sandbox) as api:

        async def run() -> None:
            async for _ in api.sessions.iter_create_many(
                [_row(i) for i in range(10)], concurrency=1, journal=store, on_progress=seen.append
            ):
                pass

        task = asyncio.create_task(run())
        await asyncio.wait_for(store.writing.wait(), 10)
        task.cancel()  # Ctrl-C while row-3's answer is being journaled
        store.release.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
    assert sandbox.session_count() == 4
    assert seen[-1].created == 4  # row-3's answer arrived: it counts
    assert len(await Journal(store).lookup(f"row-{i}" for i in range(10))) == 4
    await store.aclose()


# -- 8. the ETA -----------------------------------------------------------------------------------


async def test_journaled_rows_cost_nothing_in_the_eta(sandbox: Sandbox, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    rows = [_row(i) for i in range(100)]
    async with _client(sandbox) as api:
        await api.sessions.create_many(rows[:90], journal=journal)
    seen: list[Progress] = []
    # 50 a minute: the 10 rows left fit in the window at once, where 100 rows would not.
    async with _client(sandbox, rate_limit=[Window(50, 60.0)]) as api:
        await api.sessions.create_many(rows, journal=journal, on_progress=seen.append)
    etas = [p.eta for p in seen if p.eta is not None]
    assert etas and max(etas) < 30.0, etas[:5]  # was about 60 s: as if every row were sent
