"""End to end: the sandbox delivers signed webhooks to our receivers over real HTTP.

Session → checkout → paid → shipped → delivered, with a failed first delivery (automatic retry),
a delivery that never left (manual ``retry``), and a ``resend`` the dedup store suppresses.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

import aiohttp
import pytest
from aiohttp import web

from aioprintora._models import EventType, OrderStatus
from aioprintora.sandbox import Sandbox
from aioprintora.webhooks import OrderStatusTracker, WebhookEvent, webhook_handler

from .conftest import serve, serve_asgi

LIFECYCLE = ["order.created", "order.paid", "order.shipped", "order.delivered"]


class Recorder:
    """The partner's callback: records events; can fail the next N calls."""

    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self.calls = 0
        self.fail_next = 0
        self.tracker = OrderStatusTracker()

    async def __call__(self, event: WebhookEvent) -> None:
        self.calls += 1
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("first delivery fails")
        self.events.append(event)
        self.tracker.apply(event)


class Api:
    """Plain HTTP calls to the sandbox's Partner API."""

    def __init__(self, http: aiohttp.ClientSession, sb: Sandbox) -> None:
        self.http, self.sb = http, sb
        self.auth = {"Authorization": f"Bearer {sb.api_key}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = self.sb.base_url + path
        async with self.http.request(method, url, headers=self.auth, **kwargs) as resp:
            body = await resp.json()
            assert resp.status in (200, 201), body
            data: dict[str, Any] = body["data"]
            return data

    async def create_session(self) -> str:
        headers = {**self.auth, "Idempotency-Key": str(uuid.uuid4())}
        payload = {
            "imageUrl": "https://partner.example/design.png",
            "successUrl": "https://partner.example/ok",
            "failedUrl": "https://partner.example/failed",
        }
        url = self.sb.base_url + "/api/v1/partner-session"
        async with self.http.post(url, json=payload, headers=headers) as resp:
            assert resp.status == 201
            session_id: str = (await resp.json())["data"]["sessionId"]
            return session_id

    async def logs(self) -> list[dict[str, Any]]:
        logs: list[dict[str, Any]] = (
            await self.call("GET", "/api/v1/partners/webhook-logs?limit=100")
        )["logs"]
        return logs


def aiohttp_server(handler: Any) -> AbstractAsyncContextManager[str]:
    app = web.Application()
    app.router.add_post("/webhooks/printora", handler)
    return serve(app)


def fastapi_server(recorder: Recorder, secret: str) -> AbstractAsyncContextManager[str]:
    from fastapi import FastAPI

    from aioprintora.webhooks.fastapi_receiver import webhook_router

    app = FastAPI()
    app.include_router(webhook_router(secret, recorder, path="/webhooks/printora"))
    return serve_asgi(app)


async def _scenario(
    http: aiohttp.ClientSession,
    style: Literal["example", "collection"],
    start: Callable[[Recorder, str], AbstractAsyncContextManager[str]],
) -> None:
    recorder = Recorder()
    async with Sandbox(webhook_time_scale=0.001, webhook_payload_style=style) as sb:
        api = Api(http, sb)
        async with start(recorder, sb.webhook_secret) as base:
            url = base + "/webhooks/printora"
            sb.set_webhook_url(url)
            session_id = await api.create_session()

            recorder.fail_next = 1  # order.created: answered 500, retried after 60 ms
            order = await sb.simulate_checkout(session_id)
            await sb.wait_for_deliveries(timeout=5)
            await sb.advance_order(order.id, "paid")
            await sb.advance_order(order.id, "shipped")
            await sb.wait_for_deliveries(timeout=5)

            sb.set_webhook_url(None)  # order.delivered never leaves: its log says failed
            await sb.advance_order(order.id, "delivered")
            await sb.wait_for_deliveries(timeout=5)
            failed = next(log for log in await api.logs() if log["eventType"] == "order.delivered")
            assert failed["status"] == "failed"
            assert [e.event_type for e in recorder.events].count(EventType.ORDER_DELIVERED) == 0

            sb.set_webhook_url(url)
            answer = await api.call("POST", f"/api/v1/partners/webhook-logs/{failed['id']}/retry")
            assert answer["status"] == "pending"
            await sb.wait_for_deliveries(timeout=5)

            resend = {"orderId": order.id, "eventType": "order.paid"}
            answer = await api.call("POST", "/api/v1/partners/webhook-logs/resend", json=resend)
            resend_id = answer["webhookLogId"]
            await sb.wait_for_deliveries(timeout=5)
            logs = await api.logs()
            created = next(log for log in logs if log["eventType"] == "order.created")
            answer = await api.call("POST", f"/api/v1/partners/webhook-logs/{created['id']}/retry")
            assert answer["status"] == "sent"  # already delivered: nothing is sent again
            await sb.wait_for_deliveries(timeout=5)

    # Every event exactly once, verified and parsed, though 6 deliveries reached the endpoint.
    assert [str(e.event_type) for e in recorder.events] == LIFECYCLE
    assert recorder.calls == 5  # 4 events + the failed first attempt
    for event in recorder.events:
        assert event.session_id == session_id
        assert event.order_id == order.id
        assert event.data.total_amount == order.total_amount
        assert event.timestamp.tzinfo is not None
    assert recorder.tracker.status(session_id) is OrderStatus.DELIVERED

    by_id = {log["id"]: log for log in logs}
    assert len(logs) == 5  # 4 events + the resend's new entry
    assert created["attemptCount"] == 2  # the log shows the retry
    assert created["status"] == "sent"
    assert created["httpStatusCode"] == 200
    assert by_id[failed["id"]]["status"] == "sent"  # the manual retry delivered it
    assert by_id[resend_id]["status"] == "sent"
    assert by_id[resend_id]["responseData"] == {"status": "duplicate"}


async def test_sandbox_to_aiohttp_receiver(http: aiohttp.ClientSession) -> None:
    def start(recorder: Recorder, secret: str) -> AbstractAsyncContextManager[str]:
        return aiohttp_server(webhook_handler(secret, recorder))

    await _scenario(http, "example", start)


async def test_sandbox_to_fastapi_receiver(http: aiohttp.ClientSession) -> None:
    pytest.importorskip("fastapi")
    await _scenario(http, "collection", fastapi_server)


async def test_first_attempt_log_entry_records_the_failure(http: aiohttp.ClientSession) -> None:
    """RELIABILITY 26 from the receiver's side: a 500 makes the sandbox retry, and logs it."""
    recorder = Recorder()
    recorder.fail_next = 10  # every attempt fails: the log keeps retrying
    sandbox = Sandbox(webhook_time_scale=1.0)  # the first retry is a minute away
    async with sandbox as sb, aiohttp_server(webhook_handler(sb.webhook_secret, recorder)) as base:
        sb.set_webhook_url(base + "/webhooks/printora")
        session_id = await Api(http, sb).create_session()
        await sb.simulate_checkout(session_id)
        for _ in range(200):
            if sb.webhook_logs()[0].attempt_count:
                break
            await asyncio.sleep(0.01)
        api_log = (await Api(http, sb).logs())[0]
    assert api_log["status"] == "retrying"
    assert api_log["httpStatusCode"] == 500
    assert api_log["responseData"] == {"error": "callback_failed"}
    assert api_log["nextRetryAt"] is not None
    assert recorder.events == []
