"""Retries, timeouts and cancellation (RELIABILITY 4, 6, 8, 9, 11, 12, 19) on a scripted server."""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import aiohttp
import attrs
import pytest

from aioprintora import (
    APIConnectionError,
    APITimeoutError,
    IdempotencyKeyError,
    PrintoraClient,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from aioprintora._http import transport
from aioprintora._http.retry import is_idempotent, should_retry
from aioprintora._http.transport import attempt_timeout
from aioprintora.clock import SystemClock, VirtualClock

from ._wait import until
from .conftest import API_KEY, FAST_RETRY, assert_no_acquired
from .scripted import Reply, ScriptedServer, fail, ok

ORDERS = {"orders": [], "pagination": {"total": 0, "limit": 20, "offset": 0, "hasMore": False}}
SESSION = {"sessionId": "0b9c3f3e-5a55-4c43-9d2b-9f1a3c1f0a11", "redirectUrl": "https://x/e/t"}
CREATE = {
    "image_url": "https://img.example/cat.png",
    "success_url": "https://shop.example/ok",
    "failed_url": "https://shop.example/failed",
}


class ReadingClock(SystemClock):
    """The real clock, noting each reading the SDK takes of it and each sleep it starts."""

    def __init__(self) -> None:
        self.readings: list[float] = []
        #: Every sleep: (the reading it was decided on, its seconds).
        self.sleeps: list[tuple[float, float]] = []
        self.sleeping = asyncio.Event()

    def monotonic(self) -> float:
        self.readings.append(time.monotonic())
        return self.readings[-1]

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append((self.readings[-1], seconds))
        self.sleeping.set()
        await asyncio.sleep(seconds)


class NotedBudgets:
    """Every attempt budget the SDK hands aiohttp (observed, not changed)."""

    def __init__(self, clock: ReadingClock | None = None) -> None:
        self.clock = clock
        #: Every budget: (the clock reading it was computed on, or NaN, its seconds, the
        #: timeout given to aiohttp).
        self.budgets: list[tuple[float, float, aiohttp.ClientTimeout]] = []

    def __call__(self, seconds: float) -> aiohttp.ClientTimeout:
        made = attempt_timeout(seconds)
        reading = self.clock.readings[-1] if self.clock is not None else math.nan
        self.budgets.append((reading, seconds, made))
        return made


def note_budgets(
    monkeypatch: pytest.MonkeyPatch, clock: ReadingClock | None = None
) -> NotedBudgets:
    """Observe the attempt budgets the SDK schedules from now on."""
    noted = NotedBudgets(clock)
    monkeypatch.setattr(transport, "attempt_timeout", noted)
    return noted


async def ticks_until_done(tasks: list[asyncio.Task[object]], most: int = 50) -> int:
    """Event-loop iterations until every task is done; fails past ``most``.

    A count of iterations, not of seconds: it is the same on a busy machine, and any real wait
    (a timer, a network round trip) takes far more than a handful of them.
    """
    for tick in range(most):
        if all(task.done() for task in tasks):
            return tick
        await asyncio.sleep(0)
    raise AssertionError(f"not done within {most} loop iterations")


FAULTS = {
    "500": lambda: fail(500),
    "502": lambda: Reply(502, raw=b"<html>502 Bad Gateway</html>"),
    "503": lambda: fail(503),
    "drop": lambda: Reply(drop=True),
}


@pytest.mark.parametrize("kind", sorted(FAULTS))
@pytest.mark.parametrize("k", [0, 1, 2, 3])
async def test_k_failures_then_success_takes_k_plus_one_requests(
    client: PrintoraClient, scripted: ScriptedServer, kind: str, k: int
) -> None:
    scripted.add(*[FAULTS[kind]() for _ in range(k)], ok(ORDERS))
    page = await client.orders.list()
    assert page.items == []
    assert len(scripted.seen) == k + 1


@pytest.mark.parametrize("kind", sorted(FAULTS))
async def test_four_failures_give_the_typed_error_after_four_requests(
    client: PrintoraClient, scripted: ScriptedServer, kind: str
) -> None:
    scripted.add(*[FAULTS[kind]() for _ in range(4)], ok(ORDERS))
    expected = APIConnectionError if kind == "drop" else ServerError
    with pytest.raises(expected) as info:
        await client.orders.list()
    assert len(scripted.seen) == 4
    assert info.value.attempts == 4


async def test_create_retries_with_the_byte_identical_key_and_body(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(fail(500), Reply(drop=True), fail(503), ok(SESSION, status=201))
    session = await client.sessions.create(**CREATE)
    assert session.id == SESSION["sessionId"]
    keys = {seen.headers["Idempotency-Key"] for seen in scripted.seen}
    bodies = {seen.body for seen in scripted.seen}
    assert len(scripted.seen) == 4
    assert len(keys) == 1
    assert len(bodies) == 1


async def test_idempotency_key_reuse_is_not_retried(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(fail(422, "IDEMPOTENCY_KEY_REUSED"))
    with pytest.raises(IdempotencyKeyError):
        await client.sessions.create(**CREATE, idempotency_key="k1")
    assert len(scripted.seen) == 1


@pytest.mark.parametrize("fault", ["500", "502", "drop"])
async def test_resend_is_not_retried_after_an_ambiguous_failure(
    client: PrintoraClient, scripted: ScriptedServer, fault: str
) -> None:
    scripted.add(FAULTS[fault](), ok({"webhookLogId": "w1"}))
    with pytest.raises((ServerError, APIConnectionError)):
        await client.webhook_logs.resend(order_id="o1", event_type="order.paid")
    assert len(scripted.seen) == 1


async def test_retry_call_is_not_retried_after_a_read_timeout(scripted: ScriptedServer) -> None:
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, timeout=0.2, retry=FAST_RETRY
    ) as client:
        scripted.add(Reply(delay=1.0, body={"success": True, "data": {"webhookLogId": "w1"}}))
        with pytest.raises(APITimeoutError):
            await client.webhook_logs.retry("w1")
        assert len(scripted.seen) == 1
        assert_no_acquired(client)


@pytest.mark.parametrize("status", [429, 503])
async def test_resend_is_retried_when_the_server_certainly_did_nothing(
    client: PrintoraClient, scripted: ScriptedServer, status: int
) -> None:
    scripted.add(
        fail(status, **{"Retry-After": "0"}), ok({"webhookLogId": "w2", "status": "pending"})
    )
    delivery = await client.webhook_logs.resend(session_id="s1", event_type="order.created")
    assert delivery.webhook_log_id == "w2"
    assert len(scripted.seen) == 2


async def test_resend_is_retried_on_connect_failure() -> None:
    # Nothing listens on this port: the request certainly never arrived, so retrying is safe.
    async with PrintoraClient(
        API_KEY, base_url="http://127.0.0.1:9", rate_limit=None, retry=FAST_RETRY
    ) as client:
        with pytest.raises(APIConnectionError, match="connect") as info:
            await client.webhook_logs.resend(order_id="o1", event_type="order.paid")
    assert info.value.attempts == 4


async def test_retry_after_is_honoured_without_jitter(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(fail(503, **{"Retry-After": "1"}), ok(ORDERS))
    started = time.monotonic()
    await client.orders.list()
    waited = time.monotonic() - started
    assert 0.9 <= waited < 2.0


async def test_retry_after_as_http_date(scripted: ScriptedServer) -> None:
    # The wait counts from the server's Date header (whole seconds, like the Retry-After date):
    # this answer says "now" and "retry 2 s from now".
    now = datetime.now(timezone.utc).replace(microsecond=0)
    headers = {
        "Date": format_datetime(now, usegmt=True),
        "Retry-After": format_datetime(now + timedelta(seconds=2), usegmt=True),
    }
    scripted.add(fail(429, **headers), ok(ORDERS))
    clock = VirtualClock()
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, retry=FAST_RETRY, clock=clock
    ) as client:
        await client.orders.list()
    # Exactly the date's wait: ignoring it would sleep FAST_RETRY's jittered 0-10 ms instead.
    assert clock.sleeps == [2.0]
    assert len(scripted.seen) == 2


async def test_429_without_retry_after_uses_rate_limit_reset(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(fail(429, **{"X-RateLimit-Reset": "1"}), ok(ORDERS))  # < 1e9: seconds from now
    started = time.monotonic()
    await client.orders.list()
    assert 0.5 <= time.monotonic() - started < 2.5


async def test_a_server_wait_above_the_cap_raises_at_once(scripted: ScriptedServer) -> None:
    policy = RetryPolicy(max_retries=3, max_server_wait=5.0)
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, retry=policy
    ) as client:
        scripted.add(fail(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "3600"}), ok(ORDERS))
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            await client.orders.list()
    assert time.monotonic() - started < 1.0
    assert info.value.retry_after == pytest.approx(3600, abs=2)
    assert info.value.reset_at is not None
    assert len(scripted.seen) == 1


async def test_deadline_is_never_exceeded(
    scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Measured against what the SDK scheduled, from its own readings of its clock: every attempt
    # budget and every backoff sleep it starts must end by the deadline. (How late a busy loop
    # then runs them is the machine's doing, not the SDK's.)
    policy = RetryPolicy(max_retries=10, backoff_base=0.2, backoff_cap=0.2, deadline=0.5)
    clock = ReadingClock()
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, retry=policy, timeout=5.0,
        clock=clock,
    ) as client:  # fmt: skip
        timers = note_budgets(monkeypatch, clock)
        scripted.default = lambda _: Reply(delay=0.15, status=500, body={"success": False})
        with pytest.raises((ServerError, APITimeoutError)) as info:
            await client.orders.list()
        assert_no_acquired(client)
    started = clock.readings[0]  # the call's start: its first reading of the clock
    assert info.value.attempts == len(timers.budgets) == len(clock.sleeps) + 1
    assert len(timers.budgets) >= 2
    ends = [read + seconds for read, seconds, _ in timers.budgets]
    ends += [read + seconds for read, seconds in clock.sleeps]
    assert max(ends) <= started + 0.5, (started, ends)


async def test_timeout_is_raised_within_timeout_plus_100ms(
    scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # aiohttp's total timeout for the attempt is the client's 0.3 s, and it is what ended the
    # call: never before it was due, and long before the answer (2 s later) would have.
    async with PrintoraClient(
        API_KEY,
        base_url=scripted.base_url,
        rate_limit=None,
        timeout=0.3,
        retry=RetryPolicy(max_retries=0),
    ) as client:
        timers = note_budgets(monkeypatch)
        scripted.add(Reply(delay=2.0, body={"success": True, "data": ORDERS}))
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(APITimeoutError):
            await client.orders.list()
        ((_, seconds, timeout),) = timers.budgets
        assert seconds == timeout.total == 0.3
        assert started + 0.3 - 0.001 <= loop.time() < started + 2.0
        assert_no_acquired(client)


async def test_a_body_that_stalls_after_its_headers_is_cut_at_the_attempt_s_budget() -> None:
    # The budget covers the body read too: the headers and half the body come at once, the rest
    # never (the server holds the connection open until the test ends).
    release = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(_http(b'{"success": true, "da', 200))
        await writer.drain()
        await release.wait()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with PrintoraClient(
            API_KEY,
            base_url=f"http://127.0.0.1:{port}",
            rate_limit=None,
            timeout=0.3,
            retry=RetryPolicy(max_retries=0),
        ) as client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(APITimeoutError):
                await asyncio.wait_for(client.orders.list(), 10)
            assert started + 0.3 - 0.001 <= loop.time()
            assert_no_acquired(client)
    finally:
        release.set()
        server.close()
        await server.wait_closed()


async def _truncating_server(
    answers: list[bytes],
) -> tuple[asyncio.Server, str, list[bytes]]:
    """A raw server: each connection reads a request, writes the next answer as is, closes."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(answers.pop(0))
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}", seen


def _http(body: bytes, length: int) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


@pytest.mark.parametrize("retries", [0, 1])
async def test_truncated_body_is_a_transport_error_and_gets_retried(retries: int) -> None:
    # Content-Length promises 500 bytes; the server sends 16 and closes: a dropped connection.
    short = _http(b'{"success": true', 500)
    whole = json.dumps({"success": True, "data": ORDERS}).encode()
    server, url, seen = await _truncating_server([short, _http(whole, len(whole))])
    policy = attrs.evolve(FAST_RETRY, max_retries=retries)
    async with (
        server,
        PrintoraClient(API_KEY, base_url=url, rate_limit=None, timeout=5.0, retry=policy) as client,
    ):
        started = time.monotonic()
        if retries:
            page = await client.orders.list()
            assert page.items == []
        else:
            with pytest.raises(APIConnectionError) as info:
                await client.orders.list()
            # The exact kind: a read timeout (APITimeoutError) would be a different fault.
            assert type(info.value) is APIConnectionError, repr(info.value)
        # Seen at once when the connection closes, not after the 5 s attempt timeout.
        assert time.monotonic() - started < 2.0
        assert_no_acquired(client)
    assert len(seen) == retries + 1


async def test_cancellation_is_prompt_and_leaks_nothing(scripted: ScriptedServer) -> None:
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, pool_size=5, timeout=10.0
    ) as client:
        scripted.default = lambda _: Reply(delay=5.0, body={"success": True, "data": ORDERS})
        tasks = [asyncio.create_task(client.orders.list()) for _ in range(20)]
        # The pool holds 5: exactly 5 reach the server, the other 15 wait for a connection.
        await until(lambda: len(scripted.seen) == 5, what="the pool's 5 calls in flight")
        in_flight = len(scripted.seen)
        for task in tasks:
            task.cancel()
        # "Within 100 ms" as the loop counts it: done in a few iterations, waiting on nothing.
        await ticks_until_done(tasks)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        await asyncio.sleep(0.1)
        assert len(scripted.seen) == in_flight  # nothing reached the server after the cancel
        assert_no_acquired(client)


async def test_cancel_during_backoff_sleep(scripted: ScriptedServer) -> None:
    clock = ReadingClock()
    async with PrintoraClient(
        API_KEY,
        base_url=scripted.base_url,
        rate_limit=None,
        retry=RetryPolicy(max_retries=3),
        clock=clock,
    ) as client:
        # A server-directed wait: exactly 5 s of sleep, no jitter to make it short.
        scripted.default = lambda _: fail(503, **{"Retry-After": "5"})
        task = asyncio.create_task(client.orders.list())
        await asyncio.wait_for(clock.sleeping.wait(), 5.0)  # its 5 s backoff sleep under way
        assert [seconds for _, seconds in clock.sleeps] == [5.0]
        task.cancel()
        await ticks_until_done([task])  # "within 100 ms": a few loop iterations, no waiting
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(scripted.seen) == 1
        assert_no_acquired(client)


# -- the pure decisions --------------------------------------------------------------------------


async def test_backoff_delays_stay_within_documented_bounds(scripted: ScriptedServer) -> None:
    # The path every call takes: PrintoraClient's retries against a failing server, each sleep
    # on the virtual clock. 50 calls of 8 retries: 400 samples, 50 for each step of the backoff.
    random.seed(20)  # backoff's full_jitter draws from the module's generator: a fixed sample
    policy = RetryPolicy(max_retries=8, backoff_base=0.5, backoff_cap=8.0, deadline=None)
    clock = VirtualClock()
    scripted.default = lambda _: fail(500)
    calls = 50
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, retry=policy, clock=clock
    ) as client:
        for _ in range(calls):
            with pytest.raises(ServerError):
                await client.orders.list()
    assert len(clock.sleeps) == calls * 8
    for retry in range(1, 9):
        ceiling = min(8.0, 0.5 * 2 ** (retry - 1))  # uniform(0, min(cap, base * 2**(n-1)))
        delays = clock.sleeps[retry - 1 :: 8]
        assert len(delays) == calls
        assert all(0 <= d <= ceiling for d in delays), (retry, max(delays))
        # Full jitter spreads over the whole range: near both ends, and around the middle.
        assert min(delays) < 0.1 * ceiling and max(delays) > 0.9 * ceiling, (retry, delays)
        assert 0.35 * ceiling < sum(delays) / calls < 0.65 * ceiling


def test_what_is_retried() -> None:
    policy = RetryPolicy()
    assert is_idempotent("GET", {})
    assert is_idempotent("POST", {"Idempotency-Key": "k"})
    assert not is_idempotent("POST", {})
    for status in (429, 500, 502, 503, 504):
        assert should_retry(policy, idempotent=True, status=status)
    for status in (400, 401, 404, 409, 422):
        assert not should_retry(policy, idempotent=True, status=status)
    assert should_retry(policy, idempotent=False, status=503)
    assert not should_retry(policy, idempotent=False, status=500)
    assert should_retry(policy, idempotent=False, failure="connect failure")
    assert not should_retry(policy, idempotent=False, failure="read timeout")
