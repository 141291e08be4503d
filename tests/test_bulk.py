"""Batch session import and order sync against the sandbox."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import attrs
import pytest

from aioprintora import BadRequestError, PrintoraClient, ServerError
from aioprintora.jobs._imports import Progress, SessionRequest, key_for_ref
from aioprintora.jobs._journal import Journal, JournalConflictError
from aioprintora.jobs._store import SQLiteStore
from aioprintora.jobs._sync import OrderSync
from aioprintora.ratelimit._local import Window
from aioprintora.sandbox import Sandbox

from .conftest import FAST_RETRY


def _request(i: int, image: str | None = None) -> SessionRequest:
    return SessionRequest(
        image_url=image or f"https://img.example/{i}.png",
        success_url="https://shop.example/ok",
        failed_url="https://shop.example/failed",
    )


async def test_a_thousand_creates_with_faults_make_exactly_a_thousand_sessions(
    sandbox: Sandbox,
) -> None:
    sandbox.set_faults(0.2, kinds=("500", "503", "commit_drop", "commit_500"), seed=3)
    progress: list[int] = []
    # 20% faults: four in a row happen about twice in a thousand calls, so allow more retries.
    patient = attrs.evolve(FAST_RETRY, max_retries=10)
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=None, retry=patient
    ) as api:
        results = await api.sessions.create_many(
            [_request(i) for i in range(1_000)],
            concurrency=20,
            on_progress=lambda p: progress.append(p.done) if p.result is not None else None,
        )
    sandbox.clear_faults()
    assert [r.index for r in results] == list(range(1_000))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert sandbox.session_count() == 1_000
    assert len({r.session.id for r in results if r.session}) == 1_000
    assert progress == list(range(1, 1_001))


async def test_one_bad_item_does_not_sink_the_batch(api: PrintoraClient, sandbox: Sandbox) -> None:
    requests = [
        _request(0),
        {"image_url": "not a url", "success_url": "https://s/ok", "failed_url": "https://s/no"},
        _request(2),
    ]
    sandbox.fail_next(1, "500", method="POST")  # retried: still fine
    results = await api.sessions.create_many(requests)
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, ValueError)
    assert sandbox.session_count() == 2


async def test_rerunning_a_batch_creates_nothing_new(api: PrintoraClient, sandbox: Sandbox) -> None:
    batch = [_request(i) for i in range(30)]
    first = await api.sessions.create_many(batch)
    again = await api.sessions.create_many(batch)
    assert sandbox.session_count() == 30
    assert [r.session for r in first] == [r.session for r in again]


async def test_server_errors_are_kept_per_item(api: PrintoraClient, sandbox: Sandbox) -> None:
    # One worker, so the first item meets all four 500s (the first attempt and 3 retries).
    sandbox.fail_next(FAST_RETRY.max_retries + 1, "500", method="POST")
    results = [
        r
        async for r in api.sessions.iter_create_many([_request(i) for i in range(3)], concurrency=1)
    ]
    assert [r.index for r in results] == [0, 1, 2]
    assert [r.ok for r in results] == [False, True, True]
    error = results[0].error
    assert isinstance(error, ServerError), repr(error)
    assert error.status_code == 500
    assert error.attempts == FAST_RETRY.max_retries + 1
    assert results[0].session is None
    assert sandbox.session_count() == 2


async def test_invalid_items_fail_before_sending(api: PrintoraClient, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    bad = await api.sessions.create_many(
        [{"merch_id": "x", "success_url": "https://a/b", "failed_url": "https://a/c"}]
    )
    assert isinstance(bad[0].error, ValueError)
    assert not isinstance(bad[0].error, BadRequestError)
    assert len(sandbox.requests) == before


async def test_concurrency_must_be_positive(api: PrintoraClient) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await api.sessions.create_many([_request(0)], concurrency=0)


async def test_order_sync_picks_up_changes_since_the_checkpoint(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    made = await sandbox.seed_orders(250, statuses=["paid"])
    first = OrderSync(api)
    assert {o.id async for o in first} == {o.id for o in made}
    assert first.complete and first.checkpoint is not None

    # The clock moves on; one old order ships and new orders arrive.
    clock = sandbox.clock
    sandbox.world.clock = sandbox.clock = lambda: clock() + 60  # type: ignore[method-assign]
    await sandbox.advance_order(made[0].id, "shipped")
    fresh = await sandbox.seed_orders(5)
    second = OrderSync(api, since=first.checkpoint)
    changed = {o.id async for o in second}
    assert changed == {made[0].id} | {o.id for o in fresh}
    assert second.checkpoint is not None and second.checkpoint > first.checkpoint


async def test_an_unfinished_sync_keeps_the_old_checkpoint(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    await sandbox.seed_orders(50)
    since = datetime(2000, 1, 1, tzinfo=timezone.utc)
    sync = OrderSync(api, since=since, page_size=10)
    async for _ in sync:
        break
    await sync.aclose()  # cancels the read-ahead now rather than letting it finish
    assert not sync.complete
    assert sync.checkpoint == since
    with pytest.raises(ValueError, match="aware"):
        OrderSync(api, since=datetime(2000, 1, 1))


# -- exactly-once imports: refs, the journal, progress -------------------------------------------


def _row(i: int, image: str | None = None) -> SessionRequest:
    return SessionRequest(
        ref=f"cart-{i}",
        image_url=image or f"https://img.example/{i}.png",
        success_url="https://shop.example/ok",
        failed_url="https://shop.example/failed",
    )


def test_a_ref_derives_the_key_and_nothing_else_does() -> None:
    assert _row(1).idempotency_key is None
    assert _row(1).key == _row(1).key == key_for_ref("cart-1")
    assert _row(1).key != _row(2).key
    other = uuid.uuid4()
    assert attrs.evolve(_row(1), ref_namespace=other).key == key_for_ref("cart-1", other)
    assert attrs.evolve(_row(1), idempotency_key="mine").key == "mine"
    plain = _request(1)
    assert plain.idempotency_key is None and plain.key == plain.key  # random, made once
    assert plain.key != _request(1).key
    with pytest.raises(ValueError, match="ref"):
        SessionRequest(success_url="https://a/b", failed_url="https://a/c", ref="")


async def test_rebuilt_requests_with_refs_never_duplicate(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    # A script that rebuilds its rows on every run: without a journal, the derived keys replay.
    await api.sessions.create_many([_row(i) for i in range(10)])
    again = await api.sessions.create_many([_row(i) for i in range(10)])
    assert all(r.ok and not r.journaled for r in again)
    assert sandbox.session_count() == 10


async def test_a_journal_answers_a_rerun_without_requests(
    api: PrintoraClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "import.sqlite"
    first = await api.sessions.create_many([_row(i) for i in range(12)], journal=journal)
    posts = sum(1 for r in sandbox.requests if r.method == "POST")
    sandbox.reset()  # the server forgot every key: only the journal knows
    again = await api.sessions.create_many([_row(i) for i in range(12)], journal=journal)
    assert sum(1 for r in sandbox.requests if r.method == "POST") == 0 or posts == 12
    assert sandbox.session_count() == 0
    assert all(r.journaled for r in again)
    assert [r.session for r in again] == [r.session for r in first]
    assert all(r.session and r.session.created_at for r in again)  # the link's age is known


async def test_a_journal_needs_refs_and_refuses_changed_content(
    api: PrintoraClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "import.sqlite"
    with pytest.raises(ValueError, match="ref"):
        await api.sessions.create_many([_row(0), _request(1)], journal=journal)
    assert sandbox.session_count() == 0

    def lazy() -> Iterator[SessionRequest]:
        yield _row(0)
        yield _request(1)

    with pytest.raises(ValueError, match="ref"):
        await api.sessions.create_many(lazy(), journal=journal, concurrency=1)
    await api.sessions.create_many([_row(5)], journal=journal)
    changed = await api.sessions.create_many(
        [_row(5, image="https://img.example/other.png")], journal=journal
    )
    assert isinstance(changed[0].error, JournalConflictError)
    assert sandbox.session_count() == 2  # cart-0 (before the lazy source failed) and cart-5


async def test_errors_are_journaled_and_retried_next_run(sandbox: Sandbox, tmp_path: Path) -> None:
    journal = tmp_path / "import.sqlite"
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=None, max_retries=0
    ) as api:
        sandbox.fail_next(1, "503", method="POST")
        first = await api.sessions.create_many([_row(i) for i in range(3)], concurrency=1)
        assert [r.ok for r in first] == [False, True, True]  # no journal yet: just the error
        sandbox.fail_next(1, "503", method="POST")
        second = await api.sessions.create_many(
            [_row(i) for i in range(3, 6)], journal=journal, concurrency=1
        )
        assert [r.ok for r in second] == [False, True, True]
        store = SQLiteStore(journal, "session-import")
        entries = await Journal(store).lookup(["cart-3", "cart-4"])
        await store.aclose()
        assert entries["cart-3"].error and entries["cart-3"].session is None
        assert entries["cart-4"].session is not None
        third = await api.sessions.create_many(
            [_row(i) for i in range(3, 6)], journal=journal, concurrency=1
        )
    assert [(r.ok, r.journaled) for r in third] == [(True, False), (True, True), (True, True)]
    assert sandbox.session_count() == 5  # cart-0's failure made none


async def test_a_cancelled_import_loses_nothing_it_created(
    api: PrintoraClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "import.sqlite"
    sandbox.fail_next(1_000, "delay:0.02", method="POST")
    tenth = asyncio.Event()

    def progress(p: Progress) -> None:
        if p.done >= 10:
            tenth.set()

    task = asyncio.create_task(
        api.sessions.create_many(
            [_row(i) for i in range(40)], journal=journal, concurrency=2, on_progress=progress
        )
    )
    await asyncio.wait_for(tenth.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    made = sandbox.session_count()
    assert 10 <= made < 40
    sandbox.clear_faults()
    sandbox.reset()  # prove the journal, not the server's keys, carries the re-run
    rerun = await api.sessions.create_many([_row(i) for i in range(40)], journal=journal)
    journaled = sum(r.journaled for r in rerun)
    assert journaled >= made - 2  # at most the in-flight pair was cut before its entry
    assert journaled + sandbox.session_count() == 40


async def test_killing_an_import_and_rerunning_makes_exactly_n(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    journal = str(tmp_path / "import.sqlite")
    args = [sys.executable, "-m", "tests._import_worker", str(sandbox.base_url)]
    args += [sandbox.api_key, "80", journal]
    root = Path(__file__).parent.parent.absolute()
    child = await asyncio.create_subprocess_exec(*args, cwd=root, stdout=asyncio.subprocess.PIPE)
    assert child.stdout is not None
    while sandbox.session_count() < 30:
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        assert line, "the import ended before it could be killed"
    child.kill()  # SIGKILL: no cleanup, no finally
    await child.wait()
    assert 30 <= sandbox.session_count() < 80
    rerun = await asyncio.create_subprocess_exec(*args, cwd=root, stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(rerun.communicate(), 60)
    assert rerun.returncode == 0
    assert sandbox.session_count() == 80
    assert b"ok 80" in out


async def test_progress_has_an_eta_and_heartbeats_while_the_limiter_waits(
    sandbox: Sandbox,
) -> None:
    calls: list[Progress] = []
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=[Window(5, 1.0)]
    ) as api:
        await api.sessions.create_many(
            [_row(i) for i in range(12)],
            concurrency=6,
            on_progress=calls.append,
            progress_interval=0.1,
        )
    assert [p.done for p in calls if p.result is not None] == list(range(1, 13))
    assert any(p.result is None for p in calls)  # it spoke during the limiter's waits
    first = next(p for p in calls if p.result is not None)
    # 12 rows at 5 per second: after the first burst the limiter knows about 1 s remains.
    assert first.eta is not None and 0.8 <= first.eta <= 2.5
    assert calls[-1].eta == 0.0 and calls[-1].created == 12


async def test_a_stopping_error_lets_the_rows_in_flight_end_and_be_journaled(
    tmp_path: Path,
) -> None:
    # Three rows are on the wire when the fourth meets a 429 whose wait is far beyond
    # max_server_wait (a spent day: the import must stop). The server makes those three: their
    # answers must be journaled, or the next run sends them again.
    from aioprintora import RateLimitError
    from aioprintora._http.retry import RetryPolicy

    journal = tmp_path / "journal.sqlite"
    rows = [
        SessionRequest(
            ref=f"row-{i}",
            image_url="https://cdn.example.com/1.png",
            success_url="https://shop.example.com/ok",
            failed_url="https://shop.example.com/no",
        )
        for i in range(6)
    ]
    made = []

    async def run(client: PrintoraClient) -> None:
        async for result in client.sessions.iter_create_many(
            rows, concurrency=4, journal=str(journal)
        ):
            made.append(result)

    async with Sandbox(rate_limits=None) as sb:
        sb.fail_next(3, "delay:0.5", method="POST")
        sb.fail_next(1, "429:600", method="POST")
        retry = RetryPolicy(max_server_wait=5.0)
        async with PrintoraClient(
            sb.api_key, base_url=sb.base_url, rate_limit=None, retry=retry
        ) as client:
            with pytest.raises(RateLimitError):
                await run(client)
        sessions = len(sb.partner().state.sessions)
    store = SQLiteStore(journal, "session-import")
    try:
        entries = await Journal(store).lookup([r.ref for r in rows if r.ref])
    finally:
        store.close()
    assert sessions == 3
    assert [r.ok for r in made] == [True] * 3
    assert sorted(ref for ref, e in entries.items() if e.session is not None) == [
        "row-0",
        "row-1",
        "row-2",
    ]
