"""Webhook delivery to a small aiohttp receiver: signing, scheduled retries, logs, resend, retry."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from aioprintora.sandbox import Sandbox
from aioprintora.sandbox._delivery import RETRY_SCHEDULE
from aioprintora.webhooks._signature import sign_payload

from .._wait import until
from .conftest import Api

SCALE = 0.00005  # 1 min -> 3 ms ... 3 h -> 0.54 s


class Receiver:
    """Records every delivery; answers with the scripted statuses, then 200."""

    def __init__(self) -> None:
        self.hits: list[tuple[float, dict[str, str], bytes]] = []
        self.script: list[int] = []
        self.stall = 0.0
        #: When set, each delivery waits, after it is recorded, for its gate in ``gates``.
        self.hold = False
        self.gates: list[asyncio.Event] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.hits.append((asyncio.get_running_loop().time(), dict(request.headers), body))
        if self.hold:
            gate = asyncio.Event()
            self.gates.append(gate)
            await gate.wait()
        if self.stall:
            await asyncio.sleep(self.stall)
        status = self.script.pop(0) if self.script else 200
        return web.json_response({"received": True}, status=status)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as rec:
        yield rec


async def _order(api: Api, sb: Sandbox, key: str = "k") -> str:
    body = {
        "imageUrl": "https://p.example/i.png",
        "successUrl": "https://p.example/ok",
        "failedUrl": "https://p.example/ko",
        "userData": {"email": "c@p.example", "firstName": "Cy", "lastName": "Po"},
    }
    _, _, created = await api.create_session(key, body)
    return (await sb.simulate_checkout(created["data"]["sessionId"])).id


async def test_delivery_is_signed_and_logged_as_sent(
    api: Api, sb: Sandbox, receiver: Receiver
) -> None:
    sb.set_webhook_url(receiver.url)
    order_id = await _order(api, sb)
    await sb.wait_for_deliveries(timeout=3)
    ((_, headers, body),) = receiver.hits
    assert headers["X-Printora-Signature"] == sign_payload(body, sb.webhook_secret)
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["event"] == "order.created"
    assert payload["sessionId"] == sb.orders()[0].session_id
    data = payload["data"]
    assert data["orderId"] == order_id
    assert data["status"] == "pending"
    assert data["currency"] == "USD"
    assert data["paymentStatus"] == "pending"
    assert data["customer"] == {"email": "c@p.example", "firstName": "Cy", "lastName": "Po"}
    assert data["items"][0]["imageUrl"] == "https://p.example/i.png"
    assert payload["timestamp"].endswith("Z")
    _, _, logs = await api.call("GET", "/api/v1/partners/webhook-logs")
    (log,) = logs["data"]["logs"]
    assert log["status"] == "sent"
    assert log["attemptCount"] == 1
    assert log["httpStatusCode"] == 200
    assert log["responseData"] == {"received": True}
    assert log["errorMessage"] is None
    assert log["nextRetryAt"] is None
    assert log["orderId"] == order_id
    assert log["lastAttemptAt"].endswith("Z")


async def test_collection_style_payload_is_snake_case(receiver: Receiver) -> None:
    async with (
        Sandbox(webhook_url=receiver.url, webhook_payload_style="collection") as sb,
        aiohttp.ClientSession() as http,
    ):
        order_id = await _order(Api(http, sb, sb.api_key), sb)
        await sb.wait_for_deliveries(timeout=3)
    data = json.loads(receiver.hits[0][2])["data"]
    assert set(data) == {"order_id", "session_id", "status", "total_amount", "currency"}
    assert data["order_id"] == order_id


async def test_failing_endpoint_is_retried_on_the_scaled_schedule(receiver: Receiver) -> None:
    # The sandbox's clock stands still, so each planned wait is exactly nextRetryAt minus
    # lastAttemptAt; each delivery is held at the receiver until the test has read the log the
    # attempt before it left (no guess at how long the machine takes).
    receiver.script = [500] * 6
    receiver.hold = True
    async with (
        Sandbox(
            webhook_url=receiver.url,
            webhook_time_scale=SCALE,
            rate_limits=None,
            clock=lambda: 1_800_000_000.0,
        ) as sb,
        aiohttp.ClientSession() as http,
    ):
        api = Api(http, sb, sb.api_key)
        await _order(api, sb)
        for attempt in range(1 + len(RETRY_SCHEDULE)):
            await until(lambda n=attempt + 1: len(receiver.hits) == n, what=f"delivery {attempt}")
            if attempt:
                (log,) = sb.webhook_logs()  # as the previous attempt left it
                assert (log.status.value, log.attempt_count) == ("retrying", attempt)
                assert log.next_retry_at is not None and log.last_attempt_at is not None
                planned = RETRY_SCHEDULE[attempt - 1] * SCALE
                assert log.next_retry_at - log.last_attempt_at == pytest.approx(planned, abs=1e-6)
            if attempt == 1:
                _, _, mid = await api.call("GET", "/api/v1/partners/webhook-logs?status=retrying")
                assert mid["data"]["pagination"]["total"] == 1
                assert mid["data"]["logs"][0]["nextRetryAt"] is not None
            receiver.gates[attempt].set()
        await sb.wait_for_deliveries(timeout=10)
        _, _, logs = await api.call("GET", "/api/v1/partners/webhook-logs")
    times = [t for t, _, _ in receiver.hits]
    assert len(times) == 1 + len(RETRY_SCHEDULE)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for gap, planned in zip(gaps, RETRY_SCHEDULE, strict=True):
        assert planned * SCALE <= gap + 0.002, (gaps, planned)  # never earlier than planned
    assert len({body for _, _, body in receiver.hits}) == 1  # the same signed bytes each time
    (log,) = logs["data"]["logs"]
    assert log["status"] == "failed"
    assert log["attemptCount"] == 6
    assert log["httpStatusCode"] == 500
    assert log["errorMessage"] == "Endpoint answered HTTP 500"
    assert log["nextRetryAt"] is None


async def test_a_retry_that_succeeds_marks_the_log_sent(
    api: Api, sb: Sandbox, receiver: Receiver
) -> None:
    receiver.script = [503]
    sb.set_webhook_url(receiver.url)
    await _order(api, sb)
    await sb.wait_for_deliveries(timeout=3)
    assert len(receiver.hits) == 2
    (log,) = sb.webhook_logs()
    assert (log.status.value, log.attempt_count, log.http_status_code) == ("sent", 2, 200)


async def test_slow_endpoint_times_out(receiver: Receiver) -> None:
    receiver.stall = 0.5
    async with (
        Sandbox(webhook_url=receiver.url, webhook_timeout=0.1, webhook_time_scale=1.0) as sb,
        aiohttp.ClientSession() as http,
    ):
        await _order(Api(http, sb, sb.api_key), sb)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if sb.webhook_logs()[0].attempt_count:
                break
        (log,) = sb.webhook_logs()
        assert log.status.value == "retrying"
        assert log.error_message == "Connection timeout"
        assert log.http_status_code is None
        assert sb.deliverer.pending == 1  # the 1-minute retry is waiting; close cancels it


async def test_unreachable_endpoint_is_a_connection_error(api: Api, sb: Sandbox) -> None:
    sb.set_webhook_url("http://127.0.0.1:9/nothing-listens-here")
    await _order(api, sb)
    await sb.wait_for_deliveries(timeout=5)
    (log,) = sb.webhook_logs()
    assert log.status.value == "failed"
    assert log.attempt_count == 6
    assert log.error_message is not None and log.error_message.startswith("Connection error")


async def test_no_url_configured_is_logged_as_failed(api: Api, sb: Sandbox) -> None:
    await _order(api, sb)
    await sb.wait_for_deliveries(timeout=1)
    (log,) = sb.webhook_logs()
    assert log.status.value == "failed"
    assert log.error_message == "No webhook URL configured"


async def test_resend_adds_a_new_entry(api: Api, sb: Sandbox, receiver: Receiver) -> None:
    sb.set_webhook_url(receiver.url)
    order_id = await _order(api, sb)
    session_id = sb.orders()[0].session_id
    await sb.advance_order(order_id, "paid")
    await sb.wait_for_deliveries(timeout=3)
    for body in (
        {"orderId": order_id, "eventType": "order.paid"},
        {"sessionId": session_id, "eventType": "order.created"},
    ):
        status, _, answer = await api.call(
            "POST", "/api/v1/partners/webhook-logs/resend", json=body
        )
        assert status == 200
        assert answer["data"]["status"] == "pending"
        assert answer["data"]["message"] == "Webhook queued for delivery"
        assert answer["data"]["eventType"] == body["eventType"]
    await sb.wait_for_deliveries(timeout=3)
    assert len(sb.webhook_logs()) == 4
    assert [json.loads(b)["event"] for _, _, b in receiver.hits] == [
        "order.created",
        "order.paid",
        "order.paid",
        "order.created",
    ]
    _, _, paid = await api.call("GET", "/api/v1/partners/webhook-logs?event_type=order.paid")
    assert paid["data"]["pagination"]["total"] == 2


async def test_retry_updates_the_entry_and_refuses_to_resend_a_sent_one(
    api: Api, sb: Sandbox, receiver: Receiver
) -> None:
    await _order(api, sb)  # no URL yet: the delivery fails
    await sb.wait_for_deliveries(timeout=1)
    (log,) = sb.webhook_logs()
    sb.set_webhook_url(receiver.url)
    path = f"/api/v1/partners/webhook-logs/{log.id}/retry"
    status, _, answer = await api.call("POST", path)
    assert status == 200
    assert answer["data"] == {
        "webhookLogId": log.id,
        "eventType": "order.created",
        "status": "pending",
        "message": "Webhook queued for retry",
    }
    await sb.wait_for_deliveries(timeout=3)
    assert [entry.id for entry in sb.webhook_logs()] == [log.id]  # no new entry
    assert log.status.value == "sent" and log.attempt_count == 1
    _, _, again = await api.call("POST", path)
    assert again["data"]["status"] == "sent"
    assert again["data"]["message"] == "Webhook already successfully delivered"
    await sb.wait_for_deliveries(timeout=1)
    assert len(receiver.hits) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"eventType": "order.paid"}, 400, "VALIDATION_ERROR"),
        ({"orderId": "a", "sessionId": "b", "eventType": "order.paid"}, 400, "VALIDATION_ERROR"),
        ({"orderId": "a", "eventType": "order.cancelled"}, 400, "VALIDATION_ERROR"),
        ({"orderId": "a", "eventType": "order.lost"}, 400, "VALIDATION_ERROR"),
        ({"orderId": 5, "eventType": "order.paid"}, 400, "VALIDATION_ERROR"),
        (
            {"orderId": "11111111-1111-4111-8111-111111111111", "eventType": "order.paid"},
            404,
            "ORDER_NOT_FOUND",
        ),
        (
            {"sessionId": "11111111-1111-4111-8111-111111111111", "eventType": "order.paid"},
            404,
            "ORDER_NOT_FOUND",
        ),
    ],
)
async def test_resend_errors(api: Api, body: dict[str, object], status: int, code: str) -> None:
    got, _, answer = await api.call("POST", "/api/v1/partners/webhook-logs/resend", json=body)
    assert (got, answer["error"]["code"]) == (status, code)


async def test_retry_errors(api: Api) -> None:
    got, _, answer = await api.call("POST", "/api/v1/partners/webhook-logs/not-a-uuid/retry")
    assert (got, answer["error"]["code"]) == (400, "VALIDATION_ERROR")
    got, _, answer = await api.call(
        "POST", "/api/v1/partners/webhook-logs/11111111-1111-4111-8111-111111111111/retry"
    )
    assert (got, answer["error"]["code"]) == (404, "WEBHOOK_NOT_FOUND")


@pytest.mark.parametrize(
    "query", ["status=done", "event_type=order.lost", "limit=500", "offset=-3"]
)
async def test_bad_log_queries_are_400(api: Api, query: str) -> None:
    status, _, body = await api.call("GET", f"/api/v1/partners/webhook-logs?{query}")
    assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR")


async def test_drift_alias_lists_the_same_logs(api: Api, sb: Sandbox) -> None:
    await _order(api, sb)
    await sb.wait_for_deliveries(timeout=1)
    _, _, canonical = await api.call("GET", "/api/v1/partners/webhook-logs")
    _, _, alias = await api.call("GET", "/api/v1/webhooks/logs")
    assert alias == canonical and canonical["data"]["pagination"]["total"] == 1


async def test_overview_aliases_resend_and_retry_like_the_partner_paths(
    api: Api, sb: Sandbox, receiver: Receiver
) -> None:
    order_id = await _order(api, sb)  # no URL yet: order.created fails
    await sb.wait_for_deliveries(timeout=1)
    (failed,) = sb.webhook_logs()
    sb.set_webhook_url(receiver.url)
    status, _, resent = await api.call(
        "POST", "/api/v1/webhooks/resend", json={"orderId": order_id, "eventType": "order.created"}
    )
    assert status == 200
    assert resent["data"]["message"] == "Webhook queued for delivery"
    assert resent["data"]["webhookLogId"] != failed.id  # a new entry, as resend makes
    status, _, retried = await api.call(
        "POST", "/api/v1/webhooks/retry", json={"webhookLogId": failed.id}
    )
    assert (status, retried["data"]) == (
        200,
        {
            "webhookLogId": failed.id,
            "eventType": "order.created",
            "status": "pending",
            "message": "Webhook queued for retry",
        },
    )
    await sb.wait_for_deliveries(timeout=3)
    assert len(sb.webhook_logs()) == 2 and failed.status.value == "sent"
    assert len(receiver.hits) == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"webhookLogId": "not-a-uuid"}, 400),
        ({"webhookLogId": 7}, 400),
        ({"webhookLogId": "11111111-1111-4111-8111-111111111111"}, 404),
    ],
)
async def test_retry_alias_errors(api: Api, body: dict[str, object], status: int) -> None:
    got, _, answer = await api.call("POST", "/api/v1/webhooks/retry", json=body)
    code = "VALIDATION_ERROR" if status == 400 else "WEBHOOK_NOT_FOUND"
    assert (got, answer["error"]["code"]) == (status, code)


async def test_close_cancels_scheduled_retries_quickly(receiver: Receiver) -> None:
    receiver.script = [500]
    sb = await Sandbox(webhook_url=receiver.url, webhook_time_scale=1.0).start()
    async with aiohttp.ClientSession() as http:
        await _order(Api(http, sb, sb.api_key), sb)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if receiver.hits and sb.webhook_logs()[0].attempt_count:
                break
    with pytest.raises(TimeoutError):
        await sb.wait_for_deliveries(timeout=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await sb.aclose()
    assert loop.time() - started < 1.0
    assert sb.deliverer.pending == 0
