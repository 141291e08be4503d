"""The job functions as a worker runs them, in process against the sandbox: the order sync,
a refused key stopping an import, a spent window deferring a chunk."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp import web

from aioprintora import workers
from aioprintora._models import Order
from aioprintora.ratelimit._local import Window
from aioprintora.sandbox import Sandbox
from aioprintora.workers import (
    ChunkDeferred,
    _wire,
    enqueue_import,
    import_chunk,
    import_status,
    sync_orders,
    worker_settings,
)
from tests.workers.test_enqueue import _requests

pytestmark = pytest.mark.redis


class _Job:
    """What the job function touches of saq's job: its heartbeat."""

    def __init__(self) -> None:
        self.beats = 0
        self.retry_delay = 0.0

    async def update(self, **_: Any) -> None:
        self.beats += 1


async def test_sync_job_yields_each_change_once_with_its_state_in_redis(redis_url: str) -> None:
    seen: list[str] = []

    async def handler(order: Order) -> None:
        seen.append(order.id)

    async with Sandbox(rate_limits=None) as sb:
        await sb.seed_orders(30)
        settings = worker_settings(
            redis_url=redis_url,
            api_key=sb.api_key,
            base_url=sb.base_url,
            rate_limit=[Window(1000, 1.0)],
            order_handler=handler,
        )
        [cron] = settings["cron_jobs"]
        assert cron.unique  # saq queues a cron job once at a time: one run across all workers
        ctx: dict[str, Any] = {}
        await settings["startup"](ctx)
        try:
            job = _Job()
            first = await sync_orders({**ctx, "job": job})
            again = await sync_orders({**ctx, "job": _Job()})  # a second worker, same state
        finally:
            await settings["shutdown"](ctx)
            await settings["queue"].disconnect()

    assert first == {"orders": 30} and len(set(seen)) == 30
    assert job.beats == 30
    assert again == {"orders": 0}


async def test_the_webhook_fed_sync_job_yields_what_a_receiver_recorded(redis_url: str) -> None:
    from redis.asyncio import Redis

    from aioprintora import PrintoraClient
    from aioprintora.jobs._sync import OrderSync
    from aioprintora.webhooks import construct_event
    from tests._loopback import serve

    seen: list[tuple[str, str]] = []

    async def handler(order: Order) -> None:
        seen.append((order.id, str(order.status)))

    async with Sandbox(rate_limits=None, webhook_time_scale=1e-5) as sb:
        await sb.seed_orders(20, ["paid"])
        redis = Redis.from_url(redis_url)
        settings = worker_settings(
            redis_url=redis_url,
            api_key=sb.api_key,
            base_url=sb.base_url,
            rate_limit=[Window(1000, 1.0)],
            order_handler=handler,
            sync_webhooks=True,
        )
        ctx: dict[str, Any] = {}
        await settings["startup"](ctx)
        try:
            async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None) as api:
                # The receiver of the same key records into the workers' state before its 2xx.
                listener = OrderSync(
                    api, state=workers.sync_state(redis, sb.api_key), webhooks=True
                )

                async def post(request: web.Request) -> web.Response:
                    body, signature = (
                        await request.read(),
                        request.headers.get("X-Printora-Signature"),
                    )
                    await listener.record(construct_event(body, signature, sb.webhook_secret))
                    return web.json_response({})

                app = web.Application()
                app.router.add_post("/hook", post)
                async with serve(app) as url:
                    first = await sync_orders({**ctx, "job": _Job()})  # the first run walks
                    sb.set_webhook_url(f"{url}/hook")
                    moved = [o.id for o in sb.orders()][:3]
                    for order_id in moved:
                        await sb.advance_order(order_id, "shipped")
                    await sb.wait_for_deliveries(timeout=10)
                    seen.clear()
                    sent = len(sb.requests)
                    second = await sync_orders({**ctx, "job": _Job()})
                    requests = len(sb.requests) - sent
        finally:
            await settings["shutdown"](ctx)
            await settings["queue"].disconnect()
            await redis.aclose()

    assert first == {"orders": 20}
    assert second == {"orders": 3}
    assert sorted(seen) == sorted((order_id, "shipped") for order_id in moved)
    # The recorded changes cost nothing: the logs' head and the event-less listing only.
    assert requests <= 3, requests


async def _run_chunk(
    redis_url: str, sb: Sandbox, api_key: str, windows: list[Window], rows: int, *, runs: int = 1
) -> tuple[str, _Job, BaseException | None]:
    """Queue ``rows`` rows as one chunk and run it ``runs`` times as workers would.

    Returns the import's id, the last run's job, and what the last run raised.
    """
    requests = _requests(rows, uuid.uuid4().hex)
    import_id = await enqueue_import(redis_url, requests, queue_name=f"t-{uuid.uuid4().hex}")
    settings = worker_settings(
        redis_url=redis_url, api_key=api_key, base_url=sb.base_url, rate_limit=windows
    )
    ctx: dict[str, Any] = {}
    await settings["startup"](ctx)
    wire = [_wire(r) for r in requests]
    try:
        for _ in range(runs):
            job, raised = _Job(), None
            try:
                await import_chunk({**ctx, "job": job}, import_id=import_id, chunk=0, rows=wire)
            except ChunkDeferred as exc:
                raised = exc
    finally:
        await settings["shutdown"](ctx)
        await settings["queue"].disconnect()
    return import_id, job, raised


async def test_a_refused_key_stops_the_import(redis_url: str) -> None:
    async with Sandbox(rate_limits=None) as sb:
        bad_key = "sk_test_not_a_partner_000000000"
        import_id, _, raised = await _run_chunk(redis_url, sb, bad_key, [Window(100, 1.0)], 5)
        status = await import_status(redis_url, import_id)
    assert raised is None
    assert status.stopped is not None and "AuthenticationError" in status.stopped
    assert status.finished and not status.ok


async def test_a_spent_window_defers_the_chunk_without_a_request(redis_url: str) -> None:
    async with Sandbox(rate_limits=None) as sb:
        # 3 a minute: the 4th row would wait ~60 s, longer than defer_after (30 s).
        import_id, job, raised = await _run_chunk(redis_url, sb, sb.api_key, [Window(3, 60.0)], 6)
        status = await import_status(redis_url, import_id)
        sent = len(sb.partner().state.sessions)
    assert isinstance(raised, ChunkDeferred)
    assert sent == 3  # the deferred rows cost no request
    assert 30.0 < job.retry_delay <= 60.0
    assert status.deferred_until is not None and not status.finished
    assert status.done == 3


async def test_chunks_take_turns_and_a_turn_resumes_where_the_last_ended(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "SLICE", 0.0)  # one row per turn
    async with Sandbox(rate_limits=None) as sb:
        window = [Window(100, 1.0)]
        import_id, job, raised = await _run_chunk(redis_url, sb, sb.api_key, window, 3, runs=2)
        middle = await import_status(redis_url, import_id)
        assert isinstance(raised, ChunkDeferred) and job.retry_delay == 0.0  # back of the queue
        assert (middle.done, middle.finished) == (2, False)
    async with Sandbox(rate_limits=None) as sb:
        import_id, _, raised = await _run_chunk(redis_url, sb, sb.api_key, window, 3, runs=3)
        status = await import_status(redis_url, import_id)
        posts = [r for r in sb.requests if r.method == "POST"]
    assert raised is None and status.ok
    # Each turn started after the rows of the last: none looked up or sent twice.
    assert (status.created, status.journaled, len(posts)) == (3, 0, 3)


async def test_a_dead_workers_chunk_goes_to_the_front_of_the_queue(redis_url: str) -> None:
    queue = workers._queue(redis_url, f"t-{uuid.uuid4().hex}")
    await queue.connect()
    try:
        for name in ("a", "b", "c"):
            await queue.enqueue("import_chunk", key=name, heartbeat=1, retries=5, timeout=0)
        dead = await queue.dequeue()  # a worker took "a" ...
        assert dead is not None and dead.key == "a"
        # ... and died: its last heartbeat is long past.
        await queue.update(dead, status="active", started=1, touched=1)
        assert await queue.sweep(lock=1, abort=0.1) == [dead.id]
        head = await queue.dequeue()
    finally:
        await queue.disconnect()
    # saq alone puts it behind "b" and "c": with every worker busy, that is minutes.
    assert head is not None and head.key == "a"


async def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PRINTORA_RATE_LIMIT", "PRINTORA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRINTORA_API_KEY", "sk_test_from_env_000000")
    monkeypatch.setenv("PRINTORA_REDIS_URL", "redis://127.0.0.1:1/0")  # never connected here
    settings = workers.settings()  # what `saq aioprintora.workers.settings` loads
    assert settings["cron_jobs"] == []  # no handler: no periodic sync
    assert "sk_test_from_env" not in repr(settings)
    monkeypatch.setenv("PRINTORA_RATE_LIMIT", "off")
    with pytest.raises(ValueError, match="cannot be off"):
        workers.settings()
    monkeypatch.delenv("PRINTORA_REDIS_URL")
    with pytest.raises(ValueError, match="PRINTORA_REDIS_URL"):
        workers.settings()


async def test_queuing_again_retries_the_rows_that_failed(redis_url: str) -> None:
    requests = _requests(3, uuid.uuid4().hex)
    wire = [_wire(r) for r in requests]
    queue_name = f"t-{uuid.uuid4().hex}"
    async with Sandbox(rate_limits=None) as sb:
        sb.fail_next(1, "malformed", method="POST")  # one row fails for good this time
        settings = worker_settings(
            redis_url=redis_url,
            api_key=sb.api_key,
            base_url=sb.base_url,
            rate_limit=[Window(100, 1.0)],
        )
        ctx: dict[str, Any] = {}
        await settings["startup"](ctx)
        try:
            import_id = await enqueue_import(redis_url, requests, queue_name=queue_name)
            await import_chunk({**ctx, "job": _Job()}, import_id=import_id, chunk=0, rows=wire)
            failed = await import_status(redis_url, import_id)
            assert await enqueue_import(redis_url, requests, queue_name=queue_name) == import_id
            await import_chunk({**ctx, "job": _Job()}, import_id=import_id, chunk=0, rows=wire)
            status = await import_status(redis_url, import_id)
        finally:
            await settings["shutdown"](ctx)
            await settings["queue"].disconnect()
        sessions = len(sb.partner().state.sessions)
    assert failed.finished and failed.failed == 1 and len(failed.errors) == 1
    assert status.ok and (status.created, status.journaled) == (1, 2)
    assert sessions == 3
