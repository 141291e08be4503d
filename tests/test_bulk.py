"""Batch session import and order sync against the sandbox."""

from __future__ import annotations

from datetime import datetime, timezone

import attrs
import pytest

from aioprintora import BadRequestError, PrintoraClient, ServerError
from aioprintora.bulk import SessionRequest
from aioprintora.sandbox import Sandbox
from aioprintora.sync import OrderSync

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
            on_progress=lambda done, total, _: progress.append(done),
        )
    sandbox.clear_faults()
    assert [r.index for r in results] == list(range(1_000))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert sandbox.session_count() == 1_000
    assert len({r.session.session_id for r in results if r.session}) == 1_000
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
    assert error.status == 500
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
