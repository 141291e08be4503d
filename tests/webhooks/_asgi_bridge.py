"""Serve an ASGI app (FastAPI) from an aiohttp server on loopback, for when uvicorn is absent.

Enough of ASGI 3 for request/response apps: one ``http.request`` message with the whole body,
the response collected and sent by aiohttp, and the lifespan protocol when asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

Message = dict[str, Any]


@contextlib.asynccontextmanager
async def _lifespan(app: Any, state: dict[str, Any]) -> AsyncIterator[None]:
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        stopped = await outbox.get()
        assert stopped["type"] == "lifespan.shutdown.complete", stopped
        await task


def _handler(app: Any, state: dict[str, Any]) -> Any:
    async def asgi_bridge(request: web.Request) -> web.Response:
        body = await request.read()
        finished = asyncio.Event()
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> Message:
            if pending:
                return pending.pop()
            await finished.wait()
            return {"type": "http.disconnect"}

        start: Message = {}
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        host, port = request.transport.get_extra_info("sockname")[:2]  # type: ignore[union-attr]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": "http",
            "path": request.path,
            "raw_path": request.raw_path.split("?", 1)[0].encode(),
            "query_string": request.query_string.encode(),
            "root_path": "",
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in request.headers.items()
            ],
            "client": request.transport.get_extra_info("peername")[:2],  # type: ignore[union-attr]
            "server": (host, port),
            "state": dict(state),
        }
        try:
            await app(scope, receive, send)
        finally:
            finished.set()
        response = web.Response(status=start["status"], body=b"".join(chunks))
        for key, value in start.get("headers", []):
            name = key.decode("latin-1")
            if name.lower() not in {"content-length", "transfer-encoding"}:
                response.headers.add(name, value.decode("latin-1"))
        return response

    return asgi_bridge


@contextlib.asynccontextmanager
async def serve_asgi_with_aiohttp(app: Any, *, lifespan: bool) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1 on a free port; yields its base URL."""
    state: dict[str, Any] = {}
    server = web.Application()
    server.router.add_route("*", "/{tail:.*}", _handler(app, state))
    runner = web.AppRunner(server)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        if lifespan:
            async with _lifespan(app, state):
                yield f"http://{host}:{port}"
        else:
            yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
