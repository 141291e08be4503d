"""Typical user code, checked by ``mypy --strict tests/typing`` and never run by pytest.

Every annotated assignment states the type a user relies on; if the SDK's public types drift,
mypy fails here. Keep it free of ``reveal_type`` and of ``Any``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import aiohttp
from aiohttp import web
from fastapi import Depends, FastAPI
from redis.asyncio import Redis

from aioprintora import (
    DEFAULT_RATE_LIMIT,
    APIConnectionError,
    APIError,
    APITimeoutError,
    EventType,
    IdempotencyKeyError,
    NotFoundError,
    Order,
    OrderStatus,
    Page,
    Pagination,
    PrintoraClient,
    PrintoraError,
    RateLimitError,
    RetryPolicy,
    Session,
    SessionStatus,
    SessionToken,
    UserData,
    WebhookDelivery,
    WebhookLog,
    WebhookStatus,
    __version__,
)
from aioprintora.hooks import AttemptInfo, CallInfo, Hooks, RateLimitWait, RetryEvent
from aioprintora.jobs._imports import BatchResult, Progress, SessionRequest
from aioprintora.jobs._sync import NO_EVENT_STATUSES, OrderSync
from aioprintora.otel import OpenTelemetryHooks
from aioprintora.pagination import Listing, PaginationStats
from aioprintora.ratelimit._local import DEFAULT_WINDOWS, Limiter, RateLimiter, Window
from aioprintora.ratelimit._redis import (
    RateLimiterUnavailableError,
    RedisRateLimiter,
    redis_key_for,
)
from aioprintora.response import RateLimitStatus, RawResponse
from aioprintora.sandbox import OrderRecord, Partner, Sandbox, SessionRecord, WebhookLogRecord
from aioprintora.webhooks import (
    SIGNATURE_HEADER,
    MemoryDedupStore,
    OrderEventData,
    OrderStatusTracker,
    Outcome,
    RedisDedupStore,
    WebhookEvent,
    WebhookPayloadError,
    WebhookReceiver,
    WebhookSignatureError,
    construct_event,
    parse_event,
    sign_payload,
    verify_signature,
    webhook_app,
    webhook_handler,
)
from aioprintora.webhooks.fastapi_receiver import fastapi_router, verified_event, webhook_router
from aioprintora.workers import ImportStatus, enqueue_import, import_status, worker_settings

SHOP = "https://shop.example.com"


def construct_clients(http: aiohttp.ClientSession, redis: Redis) -> list[PrintoraClient]:
    """Every way of building a client type-checks."""
    version: str = __version__
    policy = RetryPolicy(max_retries=3, backoff_base=0.2, backoff_cap=5.0, deadline=30.0)
    shared = RedisRateLimiter(redis, key=redis_key_for("sk_live_x"), on_error="open")
    limiter: Limiter = shared
    local: Limiter = RateLimiter([Window(60, 60), Window(10_000, 86_400.0)])
    windows: tuple[Window, ...] = DEFAULT_WINDOWS
    schedule: float = limiter.free_after(10, 0.0) + local.free_after(10, 0.0)
    print(schedule)
    clients = [
        PrintoraClient("sk_test_x"),
        PrintoraClient(environment="staging", timeout=10.0, max_retries=2, deadline=None),
        PrintoraClient("sk_test_x", base_url="http://127.0.0.1:8080", rate_limit=None),
        PrintoraClient("sk_test_x", rate_limit=DEFAULT_RATE_LIMIT, pool_size=20),
        PrintoraClient("sk_test_x", rate_limit=[Window(30, 60)], session=http, retry=policy),
        PrintoraClient("sk_test_x", rate_limit=limiter),
        PrintoraClient("sk_test_x", rate_limit=local),
        PrintoraClient("sk_test_x", rate_limit=windows),
    ]
    fast: PrintoraClient = clients[0].with_options(timeout=5.0, max_retries=0, deadline=10.0)
    current: Limiter | None = fast.limiter
    closed: bool = fast.closed
    assert current is not None or closed
    print(version)
    return clients


async def sessions(client: PrintoraClient) -> None:
    session: Session = await client.sessions.create(
        image_url="https://cdn.example.com/design.png",
        success_url=f"{SHOP}/thanks",
        failed_url=f"{SHOP}/failed",
        user_data=UserData(email="ada@example.com", first_name="Ada", last_name="Lovelace"),
        idempotency_key="order-42",
    )
    merch: Session = await client.sessions.create(
        merch_id="0b6f1a3e-2c4d-4e5f-8a9b-0c1d2e3f4a5b",
        variant_id="1c7f2b4e-3d5e-4f60-9b0c-1d2e3f4a5b6c",
        quantity=2,
        success_url=f"{SHOP}/thanks",
        failed_url=f"{SHOP}/failed",
    )
    session_id: str = session.id
    redirect: str | None = merch.redirect_url
    token: str | None = session.token
    created: datetime | None = session.created_at
    status: SessionStatus | str | None = (await client.sessions.get(session_id)).status
    check: SessionToken = await client.sessions.validate_token(token or "")
    usable: bool = check.is_valid and not check.is_completed
    print(redirect, created, status, usable)


async def bulk(client: PrintoraClient) -> None:
    requests = [
        SessionRequest(
            ref=f"cart-{i}",
            image_url=f"https://cdn.example.com/{i}.png",
            success_url=SHOP,
            failed_url=SHOP,
        )
        for i in range(10)
    ]
    key: str = requests[0].key
    explicit: str | None = requests[0].idempotency_key

    def progress(p: Progress) -> None:
        eta: float | None = p.eta
        print(p.done, p.total, eta, p.result.ok if p.result else None)

    results: list[BatchResult] = await client.sessions.create_many(
        requests, concurrency=5, on_progress=progress, journal="import.sqlite"
    )
    print(explicit, [r.journaled for r in results])
    for result in results:
        created: Session | None = result.session
        failure: Exception | None = result.error
        index: int = result.index
        print(key, created, failure, index)
    stream: AsyncIterator[BatchResult] = client.sessions.iter_create_many(
        [{"image_url": "https://cdn.example.com/x.png", "success_url": SHOP, "failed_url": SHOP}]
    )
    async for one in stream:
        print(one.request.idempotency_key)


async def orders(client: PrintoraClient) -> None:
    page: Page[Order] = await client.orders.list(status="paid", limit=50, offset=0)
    items: list[Order] = page.items
    meta: Pagination = page.pagination
    more: bool = meta.has_more
    total: int = meta.total + len(page)
    order = items[0]
    amount: Decimal | None = order.total_amount
    status: OrderStatus | str = order.status
    updated: datetime | None = order.updated_at
    session_id: str | None = order.session_id
    print(more, total, amount, status, updated, session_id)

    pager: Listing[Order] = client.orders.iter(
        status=OrderStatus.PAID, page_size=100, max_items=500
    )
    async for paid in pager:
        number: str | None = paid.order_number
        print(number)
    stats: PaginationStats = pager.stats
    skipped: int = stats.duplicates_skipped + stats.backtracks
    everything: list[Order] = await client.orders.iter(read_ahead=False).collect()
    pages: AsyncGenerator[Page[Order], None] = client.orders.pages(status="shipped")
    async for one_page in pages:
        first: Order = one_page.items[0]
        print(first.id)
    await pages.aclose()
    print(skipped, len(everything))

    # One listing: awaited for a page, walked for items or pages, run as a task.
    listing: Listing[Order] = client.orders.list(status="paid", limit=50, offset=100)
    named: Page[Order] = await listing
    async for each_page in listing.pages():
        print(len(each_page), listing.stats.pages)
    async for later in client.orders.list(limit=50):
        print(later.id)
    task: asyncio.Task[Page[Order]] = asyncio.create_task(client.orders.list())
    print(len(named), len(await task))

    # Pages walked by hand, as a request handler would.
    by_hand: Page[Order] | None = await client.orders.list(limit=10)
    while by_hand is not None:
        for one in by_hand:
            row: dict[str, object] = one.to_dict()
            wire: dict[str, object] = one.to_dict(wire=True)
            text: str = one.to_json()
            print(row, wire, text)
        going_on: bool = by_hand.has_next_page()
        print(going_on)
        by_hand = await by_hand.next_page()


async def webhook_logs(client: PrintoraClient) -> None:
    page: Page[WebhookLog] = await client.webhook_logs.list(
        status=WebhookStatus.FAILED, event_type="order.created", limit=20
    )
    async for log in client.webhook_logs.iter(status="failed", event_type=EventType.ORDER_PAID):
        attempts: int = log.attempt_count
        http_status: int | None = log.status_code
        body: dict[str, object] | None = log.response_data
        next_retry: datetime | None = log.next_retry_at
        retried: WebhookDelivery = await client.webhook_logs.retry(log.id)
        print(attempts, http_status, body, next_retry, retried.status)
    resent: WebhookDelivery = await client.webhook_logs.resend(
        order_id=page.items[0].order_id, event_type="order.paid"
    )
    again: WebhookDelivery = await client.webhook_logs.resend(
        session_id="sess", event_type=EventType.ORDER_DELIVERED
    )
    log_id: str = resent.webhook_log_id
    event: EventType | str | None = again.event_type
    print(log_id, event)


async def errors(client: PrintoraClient) -> None:
    try:
        await client.sessions.get("0b6f1a3e-2c4d-4e5f-8a9b-0c1d2e3f4a5b")
    except NotFoundError as exc:
        code: str | None = exc.code
        print(code)
    except RateLimitError as exc:
        retry_after: float | None = exc.retry_after
        reset_at: datetime | None = exc.reset_at
        print(retry_after, reset_at)
    except IdempotencyKeyError:
        pass
    except APIError as exc:
        status: int = exc.status_code
        message: str = exc.message
        body: str = exc.body
        headers: Mapping[str, str] = exc.headers
        where: str = f"{exc.method} {exc.url}"
        print(status, message, body, headers.get("X-Request-Id"), where)
    except APITimeoutError as exc:
        print(exc.message)
    except RateLimiterUnavailableError:
        pass  # the shared limiter's Redis is down (fail closed)
    except APIConnectionError as exc:
        attempts: int = exc.attempts
        print(attempts)
    except PrintoraError:
        raise


async def order_sync(client: PrintoraClient, since: datetime | None) -> datetime | None:
    sync = OrderSync(client, since=since or datetime(2026, 1, 1, tzinfo=timezone.utc))
    async for order in sync:
        changed: Order = order
        print(changed.id)
    complete: bool = sync.complete
    scanned: int = sync.scanned
    print(complete, scanned, sync.stats.pages)
    stateful = OrderSync(client, state="orders.sqlite", full=False)
    async for order in stateful:
        print(order.id)
    print(stateful.requests, stateful.full_run, stateful.listings)
    manual = OrderSync(client, state="orders.sqlite", autocommit=False)
    async for order in manual:
        print(order.id)
    await manual.commit()
    fed = OrderSync(client, state="orders.sqlite", webhooks=True)
    event = parse_event(
        b'{"sessionId": "s", "event": "order.paid", "timestamp": "2026-01-01T00:00:00Z"}'
    )
    stored: bool = await fed.record(event)
    async for order in fed:
        print(order.id)
    print(stored, fed.recorded, fed.log_entries, NO_EVENT_STATUSES)
    await fed.aclose()
    return sync.checkpoint


async def whole_flow() -> None:
    async with PrintoraClient("sk_test_x") as client:
        await sessions(client)
        await orders(client)
    client2 = PrintoraClient("sk_test_x")
    try:
        await webhook_logs(client2)
    finally:
        await client2.aclose()


# -- webhooks ------------------------------------------------------------------------------------


def verify(body: bytes, header: str | None) -> WebhookEvent | None:
    signature: str = sign_payload(body, "whsec_x")
    verify_signature(body, signature, ["whsec_old", "whsec_new"])
    try:
        event = construct_event(body, header, "whsec_x", tolerance=timedelta(hours=6))
    except WebhookSignatureError:
        return None
    except WebhookPayloadError:
        return None
    session_id: str = event.session_id
    kind: EventType | str = event.event_type
    when: datetime = event.timestamp
    data: OrderEventData = event.data
    amount: Decimal | None = data.total_amount
    key: tuple[str, str] = event.dedup_key
    order_id: str | None = event.order_id
    print(session_id, kind, when, amount, key, order_id)
    return parse_event(body)


async def on_event(event: WebhookEvent) -> None:
    print(event.dedup_key)


def aiohttp_endpoint(redis: Redis) -> web.Application:
    tracker = OrderStatusTracker()
    advanced: bool = tracker.apply(parse_event(b"{}"))
    now: OrderStatus | None = tracker.status("sess")
    print(advanced, now)
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]] = webhook_handler(
        "whsec_x", on_event, store=RedisDedupStore(redis, ttl=timedelta(days=3)), tolerance=600
    )
    app = web.Application()
    app.router.add_post("/webhooks/printora", handler)
    app.add_subapp("/hooks", webhook_app(["whsec_old", "whsec_new"], on_event))
    return app


async def receiver_core(body: bytes) -> int:
    receiver = WebhookReceiver("whsec_x", on_event, store=MemoryDedupStore(ttl=3600))
    outcome: Outcome = await receiver.process(body, None)
    header: str = SIGNATURE_HEADER
    print(header, outcome.body)
    return outcome.status_code


def fastapi_endpoint() -> FastAPI:
    app = FastAPI()
    app.include_router(webhook_router("whsec_x", on_event, path="/webhooks/printora"))
    receiver = WebhookReceiver("whsec_x", on_event)
    app.include_router(fastapi_router(receiver, path="/webhooks/printora-v2"))
    dependency = verified_event("whsec_x")

    @app.post("/custom")
    async def custom(event: WebhookEvent = Depends(dependency)) -> dict[str, str]:  # noqa: B008
        return {"event": str(event.event_type)}

    return app


# -- the sandbox ---------------------------------------------------------------------------------


async def sandbox() -> None:
    async with Sandbox(seed=1, rate_limits=[(20, 2.0)], webhook_time_scale=0.001) as sb:
        base_url: str = sb.base_url
        key: str = sb.api_key
        secret: str = sb.webhook_secret
        other: Partner = sb.add_partner(webhook_url="http://127.0.0.1:9000/hook")
        sb.set_webhook_url("http://127.0.0.1:9001/hook")
        async with PrintoraClient(key, base_url=base_url) as client:
            session = await client.sessions.create(
                image_url="https://cdn.example.com/d.png", success_url=SHOP, failed_url=SHOP
            )
            order: OrderRecord = await sb.simulate_checkout(session.id)
            shipped: OrderRecord = await sb.advance_order(order.id, OrderStatus.SHIPPED)
            seeded: list[OrderRecord] = await sb.seed_orders(100, ["paid", "shipped"])
            past: list[OrderRecord] = await sb.seed_history(300, days=14.0, webhooks=True)
            later = await client.sessions.create(
                image_url="https://cdn.example.com/e.png", success_url=SHOP, failed_url=SHOP
            )
            opened: SessionRecord = await sb.open_session(later.id)
            cancelled: SessionRecord = await sb.cancel_session(later.id)
            now: float = sb.advance_clock(15 * 60.0) + sb.clock_offset
            seed: int = sb.seed
            print(opened.status(now), cancelled.token, seed)
            sb.fail_next(2, "503", method="GET", path="/api/v1/partners/orders")
            sb.set_faults(0.2, ["500", "commit_drop"], seed=3)
            sb.clear_faults()
            await sb.wait_for_deliveries(timeout=5.0)
            logs: list[WebhookLogRecord] = sb.webhook_logs()
            count: int = sb.session_count() + len(sb.orders(other.api_key))
            print(secret, shipped.status, len(seeded), len(past), len(logs), count)


def run() -> None:
    asyncio.run(sandbox())


# -- issue 11: raw responses, hooks, OpenTelemetry, extra headers --------------------------------


class _Timings(Hooks):
    def on_response(self, call: CallInfo, attempt: AttemptInfo) -> None:
        seconds: float = attempt.duration
        status: int | None = attempt.status_code
        operation: str = call.operation
        print(operation, status, seconds)

    def on_retry(self, call: CallInfo, event: RetryEvent) -> None:
        wait: float = event.wait
        reason: str = event.reason
        print(wait, reason)

    def on_rate_limit_wait(self, call: CallInfo, event: RateLimitWait) -> None:
        print(event.wait, event.reason)


async def raw_responses() -> None:
    async with PrintoraClient(hooks=[_Timings(), OpenTelemetryHooks()]) as client:
        raw: RawResponse[Page[Order]] = await client.orders.with_raw_response.list(limit=5)
        status: int = raw.status_code
        request_id: str | None = raw.request_id
        limits: RateLimitStatus | None = raw.rate_limit
        if limits is not None:
            reset: datetime | None = limits.reset
            print(reset, limits.remaining)
        page: Page[Order] = raw.parse()
        got: RawResponse[Session] = await client.sessions.with_raw_response.get("x")
        session: Session = got.parse()
        sent: RawResponse[WebhookDelivery] = await client.webhook_logs.with_raw_response.retry("w")
        tagged: PrintoraClient = client.with_options(extra_headers={"X-Tenant": "t1"})
        print(status, request_id, page, session, sent, tagged)
        try:
            await client.orders.list()
        except APIError as err:
            rid: str | None = err.request_id
            print(rid)


async def queued_import(requests: list[SessionRequest]) -> None:
    url = "redis://127.0.0.1:6379/0"
    import_id: str = await enqueue_import(url, requests, chunk_size=50)
    status: ImportStatus = await import_status(url, import_id)
    finished: bool = status.finished and status.ok
    failed: tuple[tuple[str, str], ...] = status.errors

    async def upsert(order: Order) -> None:
        print(order.id, finished, failed)

    settings: dict[str, object] = worker_settings(redis_url=url, order_handler=upsert)
    print(settings)
