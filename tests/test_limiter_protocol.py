"""The limiter as the client calls it: the declared SlotLimiter, an acquire-only limiter adapted,
and the reason a wait is reported with (real HTTP on loopback, waits on a virtual clock)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping

import pytest
from aiohttp import web

from aioprintora import PrintoraClient, RateLimitError, RetryPolicy
from aioprintora.clock import VirtualClock
from aioprintora.hooks import CallInfo, Hooks, RateLimitWait
from aioprintora.ratelimit._bucket import TokenBucket
from aioprintora.ratelimit._local import Limiter, RateLimiter, SlotLimiter, Window
from tests._loopback import serve

pytestmark = pytest.mark.timeout(30)

API_KEY = "sk_test_limiter_protocol_0123"
ORDERS = {"orders": [], "total": 0}


@contextlib.asynccontextmanager
async def server(answer: Callable[[int], web.Response]) -> AsyncIterator[tuple[str, list[int]]]:
    """Loopback server answering request n (0-based) with ``answer(n)``; yields its URL, hits."""
    hits: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(len(hits))
        return answer(hits[-1])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with serve(app) as url:
        yield url, hits


def _ok(n: int) -> web.Response:
    return web.json_response(ORDERS)


class Waits(Hooks):
    def __init__(self) -> None:
        self.events: list[RateLimitWait] = []

    def on_rate_limit_wait(self, call: CallInfo, event: RateLimitWait) -> None:
        self.events.append(event)


def test_our_limiters_declare_the_slot_protocol() -> None:
    assert isinstance(RateLimiter(), SlotLimiter)
    assert isinstance(TokenBucket(), Limiter)
    assert not isinstance(TokenBucket(), SlotLimiter)  # adapted by the client


async def test_a_slot_is_held_until_its_answer_then_charged_a_period() -> None:
    clock = VirtualClock()

    def slow(n: int) -> web.Response:
        clock.advance(10.0)  # each exchange takes 10 virtual seconds
        return _ok(n)

    async with (
        server(slow) as (url, hits),
        PrintoraClient(API_KEY, base_url=url, clock=clock, rate_limit=[Window(2, 60.0)]) as api,
    ):
        for _ in range(3):
            await api.orders.list()
    # Answers at t=10 and t=20 charge the two slots until 70 and 80; the third call, ready
    # at t=20, waits until 70. Charged at the send (t=0), it would wait only until 60.
    assert clock.sleeps == [pytest.approx(50.0, abs=1e-3)]
    assert len(hits) == 3


class AcquireOnly:
    """A limiter of a user's own: one request per call to ``acquire``, observing every answer."""

    def __init__(self) -> None:
        self.log: list[str] = []

    async def acquire(self) -> None:
        self.log.append("acquire")

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        self.log.append(f"observe {status} {headers.get('X-RateLimit-Remaining')}")


async def test_a_limiter_with_only_acquire_is_adapted_and_sees_every_answer() -> None:
    limiter = AcquireOnly()

    def answer(n: int) -> web.Response:
        if n == 0:
            return web.json_response({}, status=503, headers={"X-RateLimit-Remaining": "9"})
        return web.json_response(ORDERS, headers={"X-RateLimit-Remaining": str(9 - n)})

    fast = RetryPolicy(max_retries=1, backoff_base=0.001, backoff_cap=0.001)
    async with (
        server(answer) as (url, hits),
        PrintoraClient(API_KEY, base_url=url, rate_limit=limiter, retry=fast) as api,
    ):
        assert api.limiter is limiter  # the client shows yours, not its adapter
        await api.orders.list()
        await api.orders.list()
    # Each answer is observed before the next request is let go.
    assert limiter.log == [
        "acquire",
        "observe 503 9",
        "acquire",
        "observe 200 8",
        "acquire",
        "observe 200 7",
    ]
    assert len(hits) == 3


def _paused_then_ok(n: int) -> web.Response:
    if n == 0:
        return web.json_response({}, status=429, headers={"Retry-After": "5"})
    return _ok(n)


async def test_a_wait_caused_by_a_429_is_reported_as_a_server_pause() -> None:
    clock = VirtualClock()
    waits = Waits()
    async with (
        server(_paused_then_ok) as (url, hits),
        PrintoraClient(
            API_KEY,
            base_url=url,
            clock=clock,
            rate_limit=[Window(60, 60.0)],
            retry=RetryPolicy(max_retries=0),
            hooks=[waits],
        ) as api,
    ):
        with pytest.raises(RateLimitError):
            await api.orders.list()
        await api.orders.list()  # the limiter holds it for the rest of the server's 5 s
    assert [(e.reason, e.wait) for e in waits.events] == [
        ("server pause", pytest.approx(5.0, abs=1e-3))
    ]
    assert len(hits) == 2


async def test_a_full_window_is_reported_as_such() -> None:
    clock = VirtualClock()
    waits = Waits()
    async with (
        server(_ok) as (url, _),
        PrintoraClient(
            API_KEY, base_url=url, clock=clock, rate_limit=[Window(1, 60.0)], hooks=[waits]
        ) as api,
    ):
        await api.orders.list()
        await api.orders.list()
    assert [(e.reason, e.wait) for e in waits.events] == [
        ("window full", pytest.approx(60.0, abs=1e-3))
    ]


@pytest.mark.parametrize("bound", ["max_server_wait", "max_queue_wait"])
async def test_a_call_the_limiter_refuses_unsent_names_its_request(bound: str) -> None:
    options: dict[str, object] = (
        {"retry": RetryPolicy(max_server_wait=30.0)}
        if bound == "max_server_wait"
        else {"max_queue_wait": 0.05}
    )
    async with (
        server(_ok) as (url, hits),
        PrintoraClient(API_KEY, base_url=url, rate_limit=[Window(1, 60.0)], **options) as api,  # type: ignore[arg-type]
    ):
        await api.orders.list()
        with pytest.raises(RateLimitError, match=bound) as info:
            await api.orders.list(status="paid")
    assert info.value.method == "GET"
    assert info.value.url == f"{url}/api/v1/partners/orders?limit=20&offset=0&status=paid"
    assert len(hits) == 1
