"""Hostile servers written from scratch (never the sandbox): one small aiohttp app per misbehaviour.

Each test counts the requests its server saw, so "within N requests" and "without sending" are
asserted, not assumed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from aioprintora import PrintoraClient
from aioprintora._http.retry import RetryPolicy
from tests._loopback import serve
from tests._redis_server import redis_server_factory, redis_url  # noqa: F401

API_KEY = "sk_test_hostile_5f3a9c2e7b1d4086"
FAST = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_cap=0.02, deadline=10.0)

Handler = Callable[[web.Request, int], Awaitable[web.StreamResponse]]


class Hostile:
    """The requests one hostile server saw (``requests[i]`` is the i-th request's query)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.url = ""


@contextlib.asynccontextmanager
async def hostile(handler: Handler) -> AsyncIterator[Hostile]:
    """Serve ``handler(request, n)`` (n = 0 for the first request) on every path."""
    seen = Hostile()

    async def route(request: web.Request) -> web.StreamResponse:
        seen.requests.append(dict(request.query))
        return await handler(request, len(seen.requests) - 1)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", route)
    async with serve(app) as url:
        seen.url = url
        yield seen


def client(url: str, **options: Any) -> PrintoraClient:
    """A client on a hostile server: no limiter and fast retries unless the test says so."""
    options.setdefault("rate_limit", None)
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 5.0)
    return PrintoraClient(API_KEY, base_url=url, **options)


def order(n: int, created_at: str | None = "2026-01-30T10:40:00Z") -> dict[str, Any]:
    """One order of a listing; ``created_at=None`` leaves the field out."""
    item: dict[str, Any] = {"id": f"ord_{n}", "status": "paid", "totalAmount": "10.50"}
    if created_at is not None:
        item["createdAt"] = created_at
    return item
