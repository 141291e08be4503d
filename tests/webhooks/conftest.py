"""Shared fixtures for the webhook tests: signed bodies and real loopback servers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any, Literal

import aiohttp
import pytest

from aioprintora.webhooks import SIGNATURE_HEADER, sign_payload
from tests._loopback import serve  # noqa: F401  (re-exported for the webhook tests)

# The project's shared Redis fixture (127.0.0.1:6379, or a private redis-server).
from tests._redis_server import redis_url  # noqa: F401

SECRET = "whsec_test_0123456789abcdef"

COLLECTION_EVENT: dict[str, Any] = {
    "sessionId": "cc8930e4-621a-4b6e-9d3c-0a1b2c3d4e5f",
    "event": "order.created",
    "data": {
        "order_id": "ord_abc123",
        "session_id": "sess_x1y2z3",
        "status": "pending",
        "total_amount": 29.99,
        "currency": "USD",
    },
    "timestamp": "2026-01-30T10:40:00Z",
}

EXAMPLE_EVENT: dict[str, Any] = {
    "sessionId": "7f1e2d3c-4b5a-4697-8877-665544332211",
    "event": "order.paid",
    "data": {
        "orderId": "84a3e710-c532-4d09-9b89-e41e80337eab",
        "status": "paid",
        "currency": "USD",
        "totalAmount": 59.98,
        "paymentStatus": "paid",
        "paymentMethod": "card",
        "paidAt": "2026-01-30T10:45:00Z",
        "partnerImageUrl": "https://partner.example/design.png",
        "items": [
            {"productName": "T-shirt", "price": 29.99, "quantity": 2, "variant": "L / black"}
        ],
        "customer": {"email": "ada@example.com", "phone": "+100", "firstName": "Ada"},
        "shippingAddress": {
            "street": "1 Loop Rd",
            "city": "Localhost",
            "zipCode": "12700",
            "country": "US",
            "firstName": "Ada",
            "lastName": "Lovelace",
        },
        "somethingNew": {"nested": True},
    },
    "timestamp": "2026-01-30T10:45:01Z",
}


def event_body(event: str = "order.created", session_id: str = "sess-1", **extra: Any) -> bytes:
    """A compact signed-able body in the collection's shape."""
    payload = {
        "sessionId": session_id,
        "event": event,
        "data": {"order_id": f"ord-{session_id}", "status": "pending", "total_amount": 10.5},
        "timestamp": "2026-01-30T10:40:00Z",
        **extra,
    }
    return json.dumps(payload).encode()


def signed_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    """Headers Printora would send with ``body``."""
    return {SIGNATURE_HEADER: sign_payload(body, secret), "Content-Type": "application/json"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@contextlib.asynccontextmanager
async def serve_asgi(
    app: Any, *, lifespan: Literal["auto", "on", "off"] = "off"
) -> AsyncIterator[str]:
    """Serve an ASGI app on 127.0.0.1 on a free port: uvicorn, in this event loop, if installed.

    Without uvicorn (it is not in the ``test`` extra yet), a small ASGI bridge on an aiohttp
    server stands in: still a real HTTP server on a loopback socket.
    """
    try:
        import uvicorn
    except ImportError:
        from ._asgi_bridge import serve_asgi_with_aiohttp

        async with serve_asgi_with_aiohttp(app, lifespan=lifespan == "on") as base:
            yield base
        return

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # startup failed: raise its error
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
