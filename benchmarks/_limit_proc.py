"""A rate-limited sandbox in a child process, for ``bench_limit``: it reports what it saw.

As a script (``python -m benchmarks._limit_proc LIMIT PERIOD ALGORITHM``) it starts a
:class:`~aioprintora.sandbox.Sandbox` enforcing ``LIMIT`` per ``PERIOD`` s, prints one JSON line
``{"base_url", "api_key"}``, serves until its stdin closes, then prints ``{"rejected": n,
"arrivals": [unix times of the requests it accepted]}`` and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["LimitedServer", "limited_server"]


class LimitedServer:
    """The child's address, and after it stopped, what it saw."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.seen: dict[str, Any] = {}


@contextlib.asynccontextmanager
async def limited_server(limit: int, period: float, algorithm: str) -> AsyncIterator[LimitedServer]:
    """Start the child; on exit stop it and fill :attr:`LimitedServer.seen`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks._limit_proc",
        str(limit),
        str(period),
        algorithm,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    info = json.loads(await asyncio.wait_for(proc.stdout.readline(), timeout=60))
    server = LimitedServer(info["base_url"], info["api_key"])
    try:
        yield server
    finally:
        proc.stdin.close()
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        server.seen = json.loads(line) if line else {}
        await asyncio.wait_for(proc.wait(), timeout=10)


async def _serve(limit: int, period: float, algorithm: str) -> None:
    from aioprintora.sandbox import Sandbox

    async with Sandbox(
        rate_limits=[(limit, period)],
        rate_limit_algorithm=algorithm,  # type: ignore[arg-type]
    ) as sb:
        print(json.dumps({"base_url": sb.base_url, "api_key": sb.api_key}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        api = [r for r in sb.requests if r.path.startswith("/api/")]
        seen = {
            "rejected": sum(1 for r in api if r.status == 429),
            "arrivals": sorted(r.at for r in api if r.status == 200),
        }
    print(json.dumps(seen), flush=True)


def main() -> None:
    """Entry point of the child process."""
    limit, period, algorithm = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    asyncio.run(_serve(limit, period, algorithm))


if __name__ == "__main__":
    main()
