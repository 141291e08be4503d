"""Issue 11's request-path conventions: raw responses, hooks, extra headers, http opt-in, loops."""

from __future__ import annotations

import asyncio
import email.utils
import http.server
import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from aioprintora import NotFoundError, Page, PrintoraClient, ServerError
from aioprintora.hooks import AttemptInfo, CallInfo, Hooks, RateLimitWait, RetryEvent
from aioprintora.ratelimit._local import RateLimiter, Window
from aioprintora.response import RawResponse

from .conftest import API_KEY, FAST_RETRY
from .scripted import ScriptedServer, fail, ok
from .test_public_api import ORDER_WIRE

SESSION_ID = "0b9c3f3e-5a55-4c43-9d2b-9f1a3c1f0a11"
SESSION = {
    "sessionId": SESSION_ID,
    "redirectUrl": "https://printora.ai/editor/tok_abc123",
    "imageUrl": "https://img.example/cat.png",
    "createdAt": "2026-01-30T10:40:00Z",
}
EMPTY_PAGE = {"orders": [], "pagination": {"total": 0, "limit": 20, "offset": 0, "hasMore": False}}
DELIVERY = {"webhookLogId": "wl_1", "status": "pending"}


# -- with_raw_response ---------------------------------------------------------------------------


async def test_raw_orders_list_gives_status_headers_request_id_rate_limit_and_parse(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    reset = int(time.time()) + 3600  # an hour ahead (header waits are clamped to 7 days)
    scripted.add(
        ok(
            EMPTY_PAGE,
            **{
                "X-Request-Id": "req_123",
                "X-RateLimit-Limit": "60",
                "X-RateLimit-Remaining": "41",
                "X-RateLimit-Reset": str(reset),
                "Date": email.utils.formatdate(time.time(), usegmt=True),
            },
        )
    )
    raw = await client.orders.with_raw_response.list(status="paid", limit=20)
    assert isinstance(raw, RawResponse)
    assert raw.status_code == 200
    assert raw.request_id == "req_123"
    assert raw.headers["x-ratelimit-remaining"] == "41"  # case-insensitive
    limits = raw.rate_limit
    assert limits is not None
    assert (limits.limit, limits.remaining) == (60, 41)
    assert limits.reset is not None and limits.reset.tzinfo is not None
    # Read against the server's Date: on our clock, when the window the server named resets.
    gap = limits.reset - datetime.fromtimestamp(reset, timezone.utc)
    assert abs(gap.total_seconds()) < 5
    page = raw.parse()
    assert isinstance(page, Page) and page.items == []
    assert raw.parse() is page
    assert scripted.seen[0].query == {"limit": "20", "offset": "0", "status": "paid"}


async def test_raw_falls_back_to_request_id_and_has_no_rate_limit_without_headers(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(ok(SESSION, **{"Request-Id": "alt_9"}))
    raw = await client.sessions.with_raw_response.get(SESSION_ID)
    assert raw.request_id == "alt_9"
    assert raw.rate_limit is None
    assert raw.parse().id == SESSION_ID


async def test_every_single_request_method_has_a_raw_twin(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(
        ok(SESSION, status=201),
        ok({"isValid": True, "sessionId": SESSION_ID}),
        ok({"logs": [], "pagination": {"total": 0, "hasMore": False}}),
        ok(DELIVERY),
        ok(DELIVERY),
    )
    raws = [
        await client.sessions.with_raw_response.create(
            image_url="https://img.example/cat.png",
            success_url="https://shop.example/ok",
            failed_url="https://shop.example/failed",
        ),
        await client.sessions.with_raw_response.validate_token("tok_abc123"),
        await client.webhook_logs.with_raw_response.list(),
        await client.webhook_logs.with_raw_response.resend(
            event_type="order.paid", order_id="ord_1"
        ),
        await client.webhook_logs.with_raw_response.retry("wl_1"),
    ]
    assert [r.status_code for r in raws] == [201, 200, 200, 200, 200]
    for raw in raws:
        raw.parse()
    assert [s.method for s in scripted.seen] == ["POST", "GET", "GET", "POST", "POST"]


async def test_raw_after_retries_reports_the_final_response_and_errors_carry_request_id(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(fail(503, "BUSY", **{"X-Request-Id": "r1"}), ok(EMPTY_PAGE))
    raw = await client.orders.with_raw_response.list()
    assert (raw.status_code, raw.attempts, raw.request_id) == (200, 2, None)
    scripted.add(fail(404, "NOPE", **{"X-Request-Id": "r404"}))
    with pytest.raises(NotFoundError) as caught:
        await client.sessions.with_raw_response.get(SESSION_ID)
    assert caught.value.request_id == "r404"


async def test_a_raw_page_walks_on_as_a_plain_page(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    items = [{**ORDER_WIRE, "orderId": f"o{i}", "totalAmount": 19.9} for i in range(20)]
    first = {
        "orders": items,
        "pagination": {"total": 40, "limit": 20, "offset": 0, "hasMore": True},
    }
    scripted.add(ok(first), ok({**EMPTY_PAGE, "pagination": {"total": 40, "hasMore": False}}))
    page = (await client.orders.with_raw_response.list()).parse()
    following = await page.next_page()
    assert isinstance(following, Page)  # not a RawResponse: the twin covers one request
    assert len(scripted.seen) == 2 and scripted.seen[1].query["offset"] == "20"


async def test_malformed_body_raises_at_parse_not_before(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(ok({"orders": "nope"}, **{"X-Request-Id": "bad"}))
    raw = await client.orders.with_raw_response.list()
    assert raw.request_id == "bad"
    with pytest.raises(Exception, match="documented shape"):
        raw.parse()


# -- hooks ---------------------------------------------------------------------------------------


class Recorder(Hooks):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_call_start(self, call: CallInfo) -> None:
        self.events.append(("start", call.operation))

    def on_request(self, call: CallInfo, attempt: AttemptInfo) -> None:
        self.events.append(("request", attempt.number))

    def on_response(self, call: CallInfo, attempt: AttemptInfo) -> None:
        self.events.append(("response", attempt.status_code))

    def on_retry(self, call: CallInfo, event: RetryEvent) -> None:
        self.events.append(("retry", event.reason))
        assert event.wait >= 0

    def on_rate_limit_wait(self, call: CallInfo, event: RateLimitWait) -> None:
        self.events.append(("limit", event.reason))
        assert event.wait > 0

    def on_call_end(self, call: CallInfo, error: BaseException | None) -> None:
        self.events.append(("end", type(error).__name__ if error else None))


class Broken(Hooks):
    def on_request(self, call: CallInfo, attempt: AttemptInfo) -> None:
        raise ZeroDivisionError("hook bug")


async def test_hooks_see_every_attempt_retry_and_the_end(scripted: ScriptedServer) -> None:
    recorder = Recorder()
    scripted.add(fail(503, "BUSY"), ok(EMPTY_PAGE), fail(500, "X"), fail(500, "X"))
    async with PrintoraClient(
        API_KEY,
        base_url=scripted.base_url,
        rate_limit=None,
        retry=FAST_RETRY.__class__(max_retries=1, backoff_base=0.01, backoff_cap=0.01),
        hooks=[recorder],
    ) as client:
        await client.orders.list()
        with pytest.raises(ServerError):
            await client.sessions.get(SESSION_ID)
    assert recorder.events == [
        ("start", "orders.list"),
        ("request", 1),
        ("response", 503),
        ("retry", "HTTP 503"),
        ("request", 2),
        ("response", 200),
        ("end", None),
        ("start", "sessions.get"),
        ("request", 1),
        ("response", 500),
        ("retry", "HTTP 500"),
        ("request", 2),
        ("response", 500),
        ("end", "ServerError"),
    ]


class OnlyResponses(Hooks):
    """A metrics hook: one method overridden, the rest left as the base class's no-ops."""

    def __init__(self) -> None:
        self.statuses: list[int | None] = []

    def on_response(self, call: CallInfo, attempt: AttemptInfo) -> None:
        self.statuses.append(attempt.status_code)


async def test_a_hook_of_one_method_is_called_for_it_alone(scripted: ScriptedServer) -> None:
    only, ad_hoc = OnlyResponses(), Hooks()
    calls: list[str] = []
    ad_hoc.on_call_end = lambda call, error: calls.append(call.operation)  # type: ignore[method-assign]
    scripted.add(fail(503, "BUSY"), ok(EMPTY_PAGE))
    async with PrintoraClient(
        API_KEY,
        base_url=scripted.base_url,
        rate_limit=None,
        retry=FAST_RETRY.__class__(max_retries=1, backoff_base=0.01, backoff_cap=0.01),
        hooks=[only, ad_hoc],
    ) as client:
        await client.orders.list()
        dispatch = client._dispatch
    assert only.statuses == [503, 200]
    assert calls == ["orders.list"]  # a callable set on the instance counts as overriding
    assert dispatch is not None
    # The base class's no-ops are not called at all: each event holds only real callbacks.
    assert dispatch.on_response == (only.on_response,)
    assert dispatch.on_call_end == (ad_hoc.on_call_end,)
    assert dispatch.on_request == dispatch.on_retry == dispatch.on_call_start == ()


async def test_a_connect_failure_reaches_the_hooks_as_a_failed_attempt() -> None:
    recorder = Recorder()
    async with PrintoraClient(
        API_KEY, base_url="http://127.0.0.1:9", rate_limit=None, hooks=[recorder], max_retries=0
    ) as client:
        with pytest.raises(Exception, match="connect"):
            await client.orders.list()
    assert recorder.events == [
        ("start", "orders.list"),
        ("request", 1),
        ("response", None),
        ("end", "APIConnectionError"),
    ]


async def test_a_raising_hook_is_logged_and_the_call_still_works(
    scripted: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    scripted.add(ok(EMPTY_PAGE))
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, hooks=[Broken(), recorder]
    ) as client:
        with caplog.at_level(logging.ERROR, logger="aioprintora"):
            page = await client.orders.list()
    assert page.items == []
    assert ("response", 200) in recorder.events  # the next hook still ran
    assert any("Broken.on_request" in r.getMessage() for r in caplog.records)
    assert API_KEY not in caplog.text


async def test_rate_limit_waits_reach_the_hooks(scripted: ScriptedServer) -> None:
    recorder = Recorder()
    scripted.default = lambda _: ok(EMPTY_PAGE)
    limiter = RateLimiter([Window(1, 0.05)])
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=limiter, hooks=[recorder]
    ) as client:
        await client.orders.list()
        await client.orders.list()
    assert ("limit", "window full") in recorder.events
    assert recorder.events.index(("limit", "window full")) < len(recorder.events) - 2


def test_hooks_must_be_hooks() -> None:
    with pytest.raises(TypeError, match="Hooks"):
        PrintoraClient(API_KEY, hooks=[object()])  # type: ignore[list-item]


# -- extra headers -------------------------------------------------------------------------------


async def test_extra_headers_are_sent_on_every_request_of_the_view_only(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.default = lambda _: ok(EMPTY_PAGE)
    tagged = client.with_options(extra_headers={"X-Tenant": "t1", "User-Agent": "shop/1"})
    both = tagged.with_options(extra_headers={"X-Trace": "abc"})
    await tagged.orders.list()
    await both.orders.list()
    await client.orders.list()
    first, second, plain = (s.headers for s in scripted.seen)
    assert first["X-Tenant"] == "t1" and first["User-Agent"] == "shop/1"
    assert first["Authorization"] == f"Bearer {API_KEY}"
    assert second["X-Tenant"] == "t1" and second["X-Trace"] == "abc"
    assert "X-Tenant" not in plain and plain["User-Agent"].startswith("aioprintora/")


@pytest.mark.parametrize("name", ["Authorization", "authorization", "Idempotency-Key", "Host"])
def test_extra_headers_cannot_override_the_sdks_own(name: str) -> None:
    client = PrintoraClient(API_KEY, base_url="http://127.0.0.1:1")
    with pytest.raises(ValueError, match=name):
        client.with_options(extra_headers={name: "Bearer other"})


# -- plain http opt-in ---------------------------------------------------------------------------


def test_plain_http_to_another_host_needs_the_opt_in(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PRINTORA_ALLOW_INSECURE_HTTP", raising=False)
    with pytest.raises(ValueError, match="allow_insecure_http"):
        PrintoraClient(API_KEY, base_url="http://sandbox:8080")
    with caplog.at_level(logging.WARNING, logger="aioprintora"):
        client = PrintoraClient(API_KEY, base_url="http://sandbox:8080", allow_insecure_http=True)
    assert client.base_url.host == "sandbox"
    warned = [r for r in caplog.records if "clear" in r.getMessage()]
    assert len(warned) == 1 and "sandbox" in warned[0].getMessage()
    assert API_KEY not in caplog.text
    monkeypatch.setenv("PRINTORA_ALLOW_INSECURE_HTTP", "1")
    assert PrintoraClient(API_KEY, base_url="http://sandbox:8080").base_url.host == "sandbox"
    with pytest.raises(ValueError, match="plain http"):
        PrintoraClient(API_KEY, base_url="http://sandbox:8080", allow_insecure_http=False)


# -- one loop per client -------------------------------------------------------------------------


def test_a_second_event_loop_gets_a_clear_error(scripted_thread_server: str) -> None:
    client = PrintoraClient(API_KEY, base_url=scripted_thread_server, rate_limit=None)

    async def call() -> int:
        return len((await client.orders.list()).items)

    assert asyncio.run(call()) == 0
    with pytest.raises(RuntimeError, match="another event loop") as caught:
        asyncio.run(call())
    assert "asyncio.run" in str(caught.value)
    asyncio.run(client.aclose())
    assert client.closed


@pytest.fixture
def scripted_thread_server() -> Iterator[str]:
    """A server on a thread of its own, so that it outlives each test's event loops."""
    body = json.dumps({"success": True, "data": EMPTY_PAGE}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            # No kept-alive socket: it would die unclosed with the first loop (a user's too).
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
