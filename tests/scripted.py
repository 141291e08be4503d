"""A tiny loopback HTTP server that answers from a script: precise faults for transport tests."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web


@attrs.define
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@attrs.define
class Reply:
    """A scripted answer: a status and body, a delay, or a dropped connection."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = attrs.Factory(dict)
    delay: float = 0.0
    drop: bool = False


def ok(data: Any, status: int = 200, **headers: str) -> Reply:
    """A success envelope."""
    return Reply(status, {"success": True, "data": data}, headers=headers)


def fail(status: int, code: str = "ERR", message: str = "failed", **headers: str) -> Reply:
    """An error envelope."""
    return Reply(
        status, {"success": False, "error": {"code": code, "message": message}}, headers=headers
    )


class ScriptedServer:
    """Answers each request with the next scripted reply, then with ``default``."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.seen: list[Seen] = []
        self.default: Callable[[Seen], Reply] = lambda _: fail(404, "NOT_SCRIPTED")
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def add(self, *replies: Reply) -> None:
        self.script.extend(replies)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(
            request.method,
            request.path,
            dict(request.query),
            dict(request.headers),
            await request.read(),
        )
        self.seen.append(seen)
        reply = self.script.popleft() if self.script else self.default(seen)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            assert request.transport is not None
            request.transport.close()
            return web.Response()  # never written: the transport is gone
        body = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        ctype = "application/json" if reply.raw is None else "text/html"
        return web.Response(
            status=reply.status, body=body, headers=reply.headers, content_type=ctype
        )

    async def start(self) -> ScriptedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.1
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
