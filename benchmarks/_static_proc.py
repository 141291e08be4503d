"""A static server in a child process: the sandbox's own order pages, served as fixed bytes.

As a script (``python -m benchmarks._static_proc``) it seeds a sandbox with 100 orders, keeps
the bodies of ``GET /api/v1/partners/orders`` for ``limit=20`` and ``limit=100``, stops the
sandbox and serves those bytes from a bare ``aiohttp.web`` app on 127.0.0.1, printing one JSON
line ``{"base_url", "api_key"}``; it serves until its stdin closes. A server that does no work
per request keeps the client's figures (the client process's CPU time) free of the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from ._sandbox_proc import RemoteSandbox

__all__ = ["ORDERS_PATH", "static_server"]

ORDERS_PATH = "/api/v1/partners/orders"


@contextlib.asynccontextmanager
async def static_server() -> AsyncIterator[RemoteSandbox]:
    """Start the static server in a child process; stop it on exit."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks._static_proc",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
        if not line:
            raise RuntimeError("the static server exited before it was ready")
        info = json.loads(line)
        yield RemoteSandbox(info["base_url"], info["api_key"], 100)
    finally:
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), timeout=10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


async def _bodies() -> tuple[str, dict[str, bytes]]:
    from aioprintora.sandbox import Sandbox

    async with Sandbox(rate_limits=None) as sb:
        await sb.seed_orders(100)
        headers = {"Authorization": f"Bearer {sb.api_key}"}
        bodies = {}
        async with aiohttp.ClientSession(headers=headers) as http:
            for limit in ("20", "100"):
                url = f"{sb.base_url}{ORDERS_PATH}?limit={limit}&offset=0"
                async with http.get(url) as response:
                    bodies[limit] = await response.read()
        return sb.api_key, bodies


async def _serve() -> None:
    api_key, bodies = await _bodies()

    async def orders(request: web.Request) -> web.Response:
        body = bodies.get(request.query.get("limit", "20"), bodies["20"])
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get(ORDERS_PATH, orders)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(json.dumps({"base_url": f"http://127.0.0.1:{port}", "api_key": api_key}), flush=True)
    try:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await runner.cleanup()


def main() -> None:
    """Entry point of the child process."""
    argparse.ArgumentParser(description=__doc__).parse_args()
    asyncio.run(_serve())


if __name__ == "__main__":
    main()
