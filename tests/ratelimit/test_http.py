"""RateLimiter in an aiohttp client middleware against a rate-limiting server on loopback.

The server counts with the sandbox's own limiter (fixed or sliding windows) on the same virtual
clock as the client's limiter, so minutes pass in milliseconds while every request is real HTTP.
Each request carries the virtual time it was let go at: the virtual clock jumps whenever a waiter
sleeps, and a request still on the wire must not be counted a minute late.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from email.utils import formatdate

import aiohttp
import pytest
from aiohttp import web

from aioprintora.ratelimit._local import DEFAULT_WINDOWS, RateLimiter, Window
from aioprintora.sandbox._ratelimit import QuotaCounter as ServerLimiter
from tests._loopback import serve as loopback

from .helpers import VirtualTime

EPOCH = 1_738_000_000.0  # the virtual clock's zero, as a unix time for Date and Reset headers


class Server:
    """Answers 200 or 429 with the X-RateLimit-* headers of a real server."""

    def __init__(self, time_: VirtualTime, algorithm: str, windows: tuple[Window, ...]) -> None:
        pairs = [(w.limit, w.period) for w in windows]
        self.limits = ServerLimiter(pairs, algorithm=algorithm)  # type: ignore[arg-type]
        self.time = time_
        self.arrivals: list[tuple[float, int]] = []
        self.script: list[web.Response] = []  # canned answers served first

    def foreign(self, count: int) -> None:
        """Requests made with the same key by someone else."""
        for _ in range(count):
            self.limits.hit("key", EPOCH + self.time.now)

    async def handle(self, request: web.Request) -> web.Response:
        sent_at = float(request.headers["X-Virtual-Time"])
        now = EPOCH + sent_at
        if self.script:
            response = self.script.pop(0)
            self.arrivals.append((sent_at, response.status))
            return response
        decision = self.limits.hit("key", now)
        status = 200 if decision.allowed else 429
        self.arrivals.append((sent_at, status))
        headers = {**decision.headers(), "Date": formatdate(now, usegmt=True)}
        return web.Response(status=status, headers=headers)

    def count(self, status: int) -> int:
        return sum(1 for _, s in self.arrivals if s == status)


@contextlib.asynccontextmanager
async def serve(server: Server) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/", server.handle)
    async with loopback(app) as base:
        yield base + "/"


def throttled_session(limiter: RateLimiter, time_: VirtualTime) -> aiohttp.ClientSession:
    """A session whose middleware keeps the client's contract: acquire, send, observe."""

    async def throttle(
        req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        await limiter.acquire()
        req.headers["X-Virtual-Time"] = repr(time_.now)
        response = await handler(req)
        await limiter.observe(response.status, response.headers)
        return response

    return aiohttp.ClientSession(middlewares=(throttle,))


def virtual_limiter(time_: VirtualTime, windows: tuple[Window, ...]) -> RateLimiter:
    return RateLimiter(
        windows, clock=time_.clock, wall_clock=lambda: EPOCH + time_.now, sleep=time_.sleep
    )


async def call(session: aiohttp.ClientSession, url: str, times: int) -> None:
    for _ in range(times):
        async with session.get(url) as response:
            await response.read()


@pytest.mark.parametrize("algorithm", ["fixed", "sliding"])
async def test_200_calls_over_four_virtual_minutes_draw_no_429(algorithm: str) -> None:
    time_ = VirtualTime(start=30.5)  # mid-minute, so a fixed window boundary falls inside
    server = Server(time_, algorithm, DEFAULT_WINDOWS)
    limiter = virtual_limiter(time_, DEFAULT_WINDOWS)
    async with serve(server) as url, throttled_session(limiter, time_) as session:
        await asyncio.gather(*(call(session, url, 50) for _ in range(4)))
    assert server.count(200) == 200
    assert server.count(429) == 0
    assert time_.now - 30.5 >= 180.0  # 200 calls at 60/min need three refills


@pytest.mark.parametrize("algorithm", ["fixed", "sliding"])
async def test_another_user_of_the_key_slows_us_down(algorithm: str) -> None:
    windows = (Window(60, 60.0),)
    time_ = VirtualTime(start=0.0)
    server = Server(time_, algorithm, windows)
    server.foreign(40)  # another process spent 40 of this minute's 60
    async with serve(server) as url, throttled_session(virtual_limiter(time_, windows), time_) as s:
        await call(s, url, 90)
    assert server.count(429) == 0
    assert server.count(200) == 90

    blind = ServerLimiter([(60, 60.0)], algorithm=algorithm)  # type: ignore[arg-type]
    for _ in range(40):
        blind.hit("key", EPOCH)
    control = RateLimiter(windows)  # the same client without reconciliation would be refused
    refused = sum(
        not blind.hit("key", EPOCH + 0.001 * i).allowed
        for i in range(60)
        if control.try_acquire(0.001 * i) == 0.0
    )
    assert refused == 40


async def test_a_429_pauses_every_consumer_until_retry_after() -> None:
    windows = (Window(60, 60.0),)
    time_ = VirtualTime(start=0.0)
    server = Server(time_, "sliding", windows)
    server.script.append(web.Response(status=429, headers={"Retry-After": "7"}))
    limiter = virtual_limiter(time_, windows)
    async with serve(server) as url, throttled_session(limiter, time_) as session:
        await asyncio.gather(*(call(session, url, 5) for _ in range(3)))
    assert server.arrivals[0] == (0.0, 429)
    later = [t for t, _ in server.arrivals[1:] if t > 0.0]
    assert later  # the others went on afterwards...
    assert min(later) >= 7.0  # ... but none before the pause ended
    assert server.count(429) == 1
