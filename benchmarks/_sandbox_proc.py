"""A sandbox in a child process, so its CPU and memory are not charged to the client measured.

As a script (``python -m benchmarks._sandbox_proc --orders 100000``) it starts a
:class:`~aioprintora.sandbox.Sandbox` on 127.0.0.1 without rate limits, seeds the orders, prints
one JSON line ``{"base_url", "api_key"}`` and serves until its stdin closes. The parent side is
:func:`remote_sandbox`; :func:`set_latency` injects a per-request delay over the sandbox's
HTTP controls.
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
import attrs

__all__ = ["RemoteSandbox", "remote_sandbox", "set_latency"]


@attrs.frozen
class RemoteSandbox:
    """Where the child's sandbox listens, and the default partner's key."""

    base_url: str
    api_key: str = attrs.field(repr=False)
    orders: int


@contextlib.asynccontextmanager
async def remote_sandbox(orders: int = 0) -> AsyncIterator[RemoteSandbox]:
    """Start a seeded sandbox in a child process; stop it on exit.

    Args:
        orders: how many orders to seed for the default partner.
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks._sandbox_proc",
        "--orders",
        str(orders),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
        if not line:
            raise RuntimeError("the sandbox process exited before it was ready")
        info = json.loads(line)
        yield RemoteSandbox(info["base_url"], info["api_key"], orders)
    finally:
        # Closing stdin is the child's signal to shut down cleanly.
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), timeout=10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


async def set_latency(sandbox: RemoteSandbox, seconds: float) -> None:
    """Delay every Partner API answer by ``seconds`` (0 removes the delay).

    Args:
        sandbox: the child sandbox.
        seconds: the delay, served by the sandbox's ``delay:<s>`` fault on every request.
    """
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        if seconds > 0:
            body = {"rate": 1.0, "kinds": [f"delay:{seconds}"]}
            async with http.put(f"{sandbox.base_url}/_sandbox/faults/random", json=body) as r:
                r.raise_for_status()
        else:
            async with http.delete(f"{sandbox.base_url}/_sandbox/faults") as r:
                r.raise_for_status()


async def _serve(orders: int) -> None:
    from aioprintora.sandbox import Sandbox

    async with Sandbox(rate_limits=None) as sb:
        if orders:
            await sb.seed_orders(orders)
        print(json.dumps({"base_url": sb.base_url, "api_key": sb.api_key}), flush=True)
        # Serve until the parent closes our stdin (or dies, which closes it too).
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def main() -> None:
    """Entry point of the child process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=0)
    asyncio.run(_serve(parser.parse_args().orders))


if __name__ == "__main__":
    main()
