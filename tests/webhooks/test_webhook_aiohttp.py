"""The aiohttp receiver on a real loopback server: status codes, dedup, failure and offloading."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aioprintora.webhooks import (
    SIGNATURE_HEADER,
    Claim,
    MemoryDedupStore,
    WebhookEvent,
    WebhookReceiver,
    aiohttp_handler,
    sign_payload,
    webhook_app,
    webhook_handler,
)

from .conftest import EXAMPLE_EVENT, SECRET, event_body, serve, signed_headers

PATH = "/webhooks/printora"


class Recorder:
    """A callback that records events, optionally failing or blocking."""

    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self.calls = 0
        self.fail_next = 0
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def __call__(self, event: WebhookEvent) -> None:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("partner database is down")
        self.events.append(event)


Post = Callable[..., Coroutine[Any, Any, tuple[int, dict[str, str]]]]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def post(http: aiohttp.ClientSession, recorder: Recorder) -> AsyncIterator[Post]:
    app = web.Application()
    app.router.add_post(PATH, webhook_handler([SECRET, "whsec_old"], recorder, max_body_size=4096))
    async with serve(app) as base:

        async def send(
            body: bytes, headers: dict[str, str] | None = None
        ) -> tuple[int, dict[str, str]]:
            hdrs = signed_headers(body) if headers is None else headers
            async with http.post(base + PATH, data=body, headers=hdrs) as resp:
                return resp.status, await resp.json()

        yield send


async def test_valid_delivery_is_processed(post: Post, recorder: Recorder) -> None:
    body = json.dumps(EXAMPLE_EVENT).encode()
    assert await post(body) == (200, {"status": "processed"})
    (event,) = recorder.events
    assert event.session_id == EXAMPLE_EVENT["sessionId"]
    assert event.data.customer is not None


async def test_rotated_secret_accepted(post: Post, recorder: Recorder) -> None:
    body = event_body()
    status, _ = await post(body, signed_headers(body, "whsec_old"))
    assert status == 200
    assert len(recorder.events) == 1


async def test_raw_bytes_are_verified_not_reserialised(post: Post, recorder: Recorder) -> None:
    # Odd spacing and key order: json.dumps(json.loads(body)) would sign differently.
    body = b'{ "timestamp":"2026-01-30T10:40:00Z" ,"event":"order.paid",  "sessionId":"s-raw"}'
    assert (await post(body))[0] == 200
    assert recorder.events[0].session_id == "s-raw"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: "sha256=" + "0" * 64},
        {SIGNATURE_HEADER: sign_payload(event_body(), "whsec_wrong")},
        {SIGNATURE_HEADER: "sha1=abc"},
    ],
)
async def test_bad_signature_is_401(
    post: Post, recorder: Recorder, headers: dict[str, str]
) -> None:
    status, answer = await post(event_body(), headers)
    assert status == 401
    assert answer["error"] == "invalid_signature"
    assert recorder.calls == 0


async def test_unsigned_garbage_is_401_not_400(post: Post) -> None:
    # Verification comes first: an attacker learns nothing about our parser.
    status, _ = await post(b"{not json", {SIGNATURE_HEADER: "sha256=" + "1" * 64})
    assert status == 401


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"sessionId": "s"}'])
async def test_signed_but_malformed_is_400(post: Post, recorder: Recorder, body: bytes) -> None:
    status, answer = await post(body)
    assert status == 400
    assert answer["error"] == "invalid_payload"
    assert recorder.calls == 0


async def test_duplicate_is_200_without_a_second_call(post: Post, recorder: Recorder) -> None:
    body = event_body(session_id="dup")
    assert (await post(body))[1] == {"status": "processed"}
    # A resend is a new body (new timestamp) with the same (sessionId, event).
    resend = event_body(session_id="dup", timestamp="2026-01-30T11:00:00Z")
    assert await post(resend) == (200, {"status": "duplicate"})
    assert await post(body) == (200, {"status": "duplicate"})
    assert recorder.calls == 1
    # Another event of the same order is not a duplicate.
    assert (await post(event_body("order.paid", session_id="dup")))[1]["status"] == "processed"


async def test_failing_callback_is_500_and_the_retry_is_processed(
    post: Post, recorder: Recorder
) -> None:
    recorder.fail_next = 1
    body = event_body(session_id="flaky")
    assert await post(body) == (500, {"error": "callback_failed"})
    assert recorder.events == []
    assert await post(body) == (200, {"status": "processed"})
    assert await post(body) == (200, {"status": "duplicate"})
    assert recorder.calls == 2
    assert len(recorder.events) == 1


async def test_six_deliveries_two_at_once_side_effect_once(post: Post, recorder: Recorder) -> None:
    """RELIABILITY 23: automatic retry, concurrent pair, manual retry, resend → once."""
    body = event_body(session_id="six")
    recorder.fail_next = 1
    assert (await post(body))[0] == 500  # 1: the first attempt fails
    recorder.gate = asyncio.Event()
    recorder.entered.clear()
    pair = [asyncio.create_task(post(body)) for _ in range(2)]  # 2 and 3, at once
    await recorder.entered.wait()
    done, _ = await asyncio.wait(pair, return_when=asyncio.FIRST_COMPLETED)
    assert [t.result() for t in done] == [(409, {"error": "in_progress"})]
    recorder.gate.set()
    statuses = sorted(status for status, _ in await asyncio.gather(*pair))
    assert statuses == [200, 409]
    for _ in range(3):  # 4-6: the sender's retry of the 409, a manual retry, a resend
        assert (await post(body))[1] == {"status": "duplicate"}
    assert len(recorder.events) == 1


async def test_body_over_the_limit_is_413(
    post: Post, recorder: Recorder, http: aiohttp.ClientSession
) -> None:
    big = event_body(padding="x" * 5000)
    status, answer = await post(big)
    assert (status, answer) == (413, {"error": "payload_too_large"})
    assert recorder.calls == 0


async def test_chunked_body_over_the_limit_is_413(http: aiohttp.ClientSession) -> None:
    recorder = Recorder()
    app = web.Application()
    app.router.add_post(PATH, webhook_handler(SECRET, recorder, max_body_size=1000))

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 500  # no Content-Length: the limit applies while streaming

    async with serve(app) as base:
        async with http.post(base + PATH, data=chunks(), headers=signed_headers(b"")) as resp:
            assert resp.status == 413
        async with http.post(base + PATH, data=b"{}", headers=signed_headers(b"{}")) as resp:
            assert resp.status == 400  # under the limit: read, verified, then parsed
    assert recorder.calls == 0


async def test_offloaded_work_answers_before_the_work_is_done(http: aiohttp.ClientSession) -> None:
    """RELIABILITY 25: with callback=queue.put the sender gets its 2xx while work is pending."""
    queue: asyncio.Queue[WebhookEvent] = asyncio.Queue()
    app = web.Application()
    app.router.add_post(PATH, webhook_handler(SECRET, queue.put))
    body = event_body(session_id="slow-work")
    async with serve(app) as base:
        # The worker has not even started; a handler that waited for it would time out.
        timeout = aiohttp.ClientTimeout(total=1)
        async with http.post(
            base + PATH, data=body, headers=signed_headers(body), timeout=timeout
        ) as resp:
            assert resp.status == 200
    assert queue.get_nowait().session_id == "slow-work"


async def test_replay_window_rejects_stale_events(http: aiohttp.ClientSession) -> None:
    recorder = Recorder()
    sent = datetime(2026, 1, 30, 10, 40, tzinfo=timezone.utc)
    clock = [sent + timedelta(seconds=30)]
    app = web.Application()
    app.router.add_post(PATH, webhook_handler(SECRET, recorder, tolerance=60, now=lambda: clock[0]))
    body = event_body()
    async with serve(app) as base:
        async with http.post(base + PATH, data=body, headers=signed_headers(body)) as resp:
            assert resp.status == 200
        clock[0] = sent + timedelta(minutes=5)
        body = event_body("order.paid")
        async with http.post(base + PATH, data=body, headers=signed_headers(body)) as resp:
            assert resp.status == 401
            assert "tolerance" in (await resp.json())["message"]
    assert recorder.calls == 1


async def test_sub_app_and_method_not_allowed(http: aiohttp.ClientSession) -> None:
    recorder = Recorder()
    app = web.Application()
    app.add_subapp("/hooks", webhook_app(SECRET, recorder))
    body = event_body()
    async with serve(app) as base:
        async with http.post(base + "/hooks/", data=body, headers=signed_headers(body)) as resp:
            assert resp.status == 200
        async with http.get(base + "/hooks/") as resp:
            assert resp.status == 405
    assert recorder.calls == 1


class BrokenStore(MemoryDedupStore):
    def __init__(self, broken: str) -> None:
        super().__init__()
        self.broken = broken

    async def claim(self, key: str) -> Claim:
        if self.broken == "claim":
            raise ConnectionError("redis is down")
        return await super().claim(key)

    async def commit(self, claim: Claim) -> None:
        if self.broken == "commit":
            raise ConnectionError("redis is down")
        await super().commit(claim)

    async def release(self, claim: Claim) -> None:
        if self.broken == "release":
            raise ConnectionError("redis is down")
        await super().release(claim)


@pytest.mark.parametrize(
    ("broken", "fail", "expected"),
    [("claim", 0, 503), ("commit", 0, 200), ("release", 1, 500)],
)
async def test_store_failures(
    http: aiohttp.ClientSession, broken: str, fail: int, expected: int
) -> None:
    recorder = Recorder()
    recorder.fail_next = fail
    receiver = WebhookReceiver(SECRET, recorder, store=BrokenStore(broken))
    app = web.Application()
    app.router.add_post(PATH, aiohttp_handler(receiver))
    body = event_body()
    async with (
        serve(app) as base,
        http.post(base + PATH, data=body, headers=signed_headers(body)) as resp,
    ):
        assert resp.status == expected
    assert recorder.calls == (0 if broken == "claim" else 1)


async def test_cancelled_callback_releases_its_claim() -> None:
    store = MemoryDedupStore()
    started = asyncio.Event()

    async def hangs(event: WebhookEvent) -> None:
        started.set()
        await asyncio.Event().wait()

    receiver = WebhookReceiver(SECRET, hangs, store=store)
    body = event_body()
    task = asyncio.create_task(receiver.process(body, sign_payload(body, SECRET)))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(store) == 0  # the next delivery may run


async def test_secret_stays_out_of_logs_and_reprs(
    post: Post, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aioprintora")
    recorder.fail_next = 1
    body = event_body()
    await post(body)  # callback failure: logged with traceback
    await post(body, {SIGNATURE_HEADER: "sha256=" + "2" * 64})
    await post(b"x", signed_headers(b"x"))
    assert caplog.records
    assert SECRET not in caplog.text
    receiver = WebhookReceiver(SECRET, recorder)
    assert SECRET not in repr(receiver)
    assert SECRET not in repr(vars(receiver).get("store"))


def test_receiver_configuration_errors(recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookReceiver("", recorder)
    with pytest.raises(ValueError, match="max_body_size"):
        WebhookReceiver(SECRET, recorder, max_body_size=0)
