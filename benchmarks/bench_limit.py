"""Throughput at the limit: 200 concurrent calls through a client whose window is the server's.

``python -m benchmarks.bench_limit [--runs N] [--limit L] [--period P] [--json FILE]``. The
sandbox enforces ``L`` requests per ``P`` seconds with either of its
algorithms, ``fixed`` (windows aligned on multiples of P) and ``sliding``; the client's limiter
has exactly the same window: no slack. Two ways to count a slot:

- **held until the answer** (the client's default with its own limiters): a slot stays occupied
  while its request is in flight and is charged for one period from the arrival of its response;
- **charged at send** (the limiter used through ``acquire`` only, as before): a slot counts for
  one period from the moment the request was let go.

Figures per case: the share of the allowed rate achieved, as the client sees it (the fastest
possible run, one burst per period, ``(calls / L - 1) × P``, divided by the run's wall time from
the first call to the last answer) and as the server sees it (the same over the span from the
first accepted request's arrival to the last's), the 429s the *server* sent, and the calls that
failed. The sandbox runs in a child process (``benchmarks/_limit_proc.py``). Median of
``--runs`` runs with the lowest and highest. With ``redis-server`` installed (a private one is
started) or ``--redis URL``, the ``RedisRateLimiter`` is measured the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import shutil
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

from aioprintora import PrintoraClient, PrintoraError, RetryPolicy
from aioprintora.ratelimit._local import Limiter, RateLimiter, Window

from ._limit_proc import limited_server
from ._report import median, table

CALLS = 200
ALGORITHMS = ("fixed", "sliding")


class ChargedAtSend:
    """A limiter seen through ``acquire``/``observe`` only: slots charged from the send."""

    def __init__(self, inner: Limiter) -> None:
        self._inner = inner

    async def acquire(self) -> None:
        """The inner limiter's acquire."""
        await self._inner.acquire()

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """The inner limiter's observe."""
        await self._inner.observe(status, headers)

    def free_after(self, count: int, now: float) -> float:
        """The inner limiter's schedule."""
        return self._inner.free_after(count, now)


async def one_run(
    algorithm: str, window: Window, make: Callable[[Window], Any]
) -> dict[str, float]:
    """200 concurrent ``orders.list`` calls; rates %, server 429s, failed calls."""
    limiter = await make(window)
    try:
        async with limited_server(window.limit, window.period, algorithm) as server:  # noqa: SIM117 - the client needs the server's address
            async with PrintoraClient(
                server.api_key,
                base_url=server.base_url,
                rate_limit=limiter,
                retry=RetryPolicy(max_retries=10, deadline=None),
            ) as client:
                started = time.monotonic()
                results = await asyncio.gather(
                    *(client.orders.list(limit=1) for _ in range(CALLS)), return_exceptions=True
                )
                elapsed = time.monotonic() - started
    finally:
        aclose = getattr(limiter, "aclose", None) or getattr(
            getattr(limiter, "_inner", None), "aclose", None
        )
        if aclose is not None:
            await aclose()
    bursts = -(-CALLS // window.limit) - 1  # the fastest run: one burst per period
    fastest = bursts * window.period
    arrivals = server.seen["arrivals"]
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else math.inf
    failed = sum(1 for r in results if isinstance(r, PrintoraError))
    return {
        "rate": 100 * fastest / elapsed,
        "server_rate": 100 * fastest / span,
        "server_429s": server.seen["rejected"],
        "failed": failed,
    }


async def _local(window: Window) -> Limiter:
    return RateLimiter([window])


async def _local_at_send(window: Window) -> Limiter:
    return ChargedAtSend(RateLimiter([window]))


def _redis_maker(url: str) -> Callable[[Window], Any] | None:
    try:
        from redis.asyncio import Redis

        from aioprintora.ratelimit._redis import RedisRateLimiter
    except ImportError:
        return None

    async def make(window: Window) -> Limiter:
        redis = Redis.from_url(url, socket_connect_timeout=0.5)
        limiter = RedisRateLimiter(
            redis, key=f"aioprintora-bench:{time.time_ns()}", windows=[window]
        )
        original = limiter.aclose

        async def aclose() -> None:
            await original()
            await redis.aclose()

        limiter.aclose = aclose  # type: ignore[method-assign]
        return limiter

    return make


async def _redis_up(url: str) -> bool:
    try:
        from redis.asyncio import Redis
    except ImportError:
        return False
    client = Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        await client.ping()
    except Exception:
        return False
    finally:
        await client.aclose()
    return True


@contextlib.asynccontextmanager
async def _redis(url: str | None) -> AsyncIterator[str | None]:
    """The Redis at ``url`` if given and it answers, else a private ``redis-server``, else None.

    Not the shared 127.0.0.1:6379 by default: on a shared machine another test run may stop it.
    """
    if url is not None and await _redis_up(url):
        yield url
        return
    server = shutil.which("redis-server")
    if server is None:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        server,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        stdout=asyncio.subprocess.DEVNULL,
    )
    private = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            if await _redis_up(private):
                break
            await asyncio.sleep(0.05)
        yield private
    finally:
        proc.terminate()
        await proc.wait()


async def measure(runs: int, window: Window, redis_url: str | None) -> dict[str, Any]:
    """Samples: ``{"<limiter> / <algorithm>": [{"rate", "server_429s", "failed"}, ...]}``."""
    async with _redis(redis_url) as url:
        return await _measure(runs, window, url)


async def _measure(runs: int, window: Window, redis_url: str | None) -> dict[str, Any]:
    makers: list[tuple[str, Callable[[Window], Any]]] = [
        ("RateLimiter, held until the answer", _local),
        ("RateLimiter, charged at send", _local_at_send),
    ]
    redis = _redis_maker(redis_url) if redis_url else None
    if redis is not None:
        makers.append(("RedisRateLimiter, held until the answer", redis))
    samples: dict[str, list[dict[str, float]]] = {}
    for _ in range(runs):
        for algorithm in ALGORITHMS:
            for label, make in makers:
                result = await one_run(algorithm, window, make)
                samples.setdefault(f"{label} / {algorithm}", []).append(result)
    return {"runs": runs, "limit": window.limit, "period": window.period, "samples": samples}


def report(data: dict[str, Any]) -> str:
    """The Markdown table of :func:`measure`'s samples."""
    rows = []
    for case, results in data["samples"].items():
        limiter, algorithm = case.rsplit(" / ", 1)
        rates = [r["rate"] for r in results]
        at_server = [r["server_rate"] for r in results]
        rejected = [r["server_429s"] for r in results]
        failed = [r["failed"] for r in results]
        if sum(failed):  # a rate over calls that failed means nothing
            rates = at_server = [math.nan]
        rows.append(
            [
                algorithm,
                limiter,
                f"**{median(rates):.1f}%** ({min(rates):.1f}–{max(rates):.1f})",
                f"{median(at_server):.1f}% ({min(at_server):.1f}–{max(at_server):.1f})",
                f"{sum(rejected):g} (max {max(rejected):g} per run)",
                f"{sum(failed):g}",
            ]
        )
    title = (
        f"{CALLS} concurrent calls at {data['limit']} per {data['period']:g} s, client window = "
        f"server window (median of {data['runs']} runs)"
    )
    headers = [
        "server algorithm",
        "client limiter",
        "% of allowed rate (client)",
        "% at the server",
        "server 429s",
        "failed",
    ]
    return table(title, headers, rows)


def main() -> None:
    """Print this benchmark's table (and write its samples with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--period", type=float, default=1.0)
    parser.add_argument("--redis", default=None, help="a Redis URL (default: start one)")
    parser.add_argument("--json", type=Path, default=None, help="write the raw samples here")
    args = parser.parse_args()
    data = asyncio.run(measure(args.runs, Window(args.limit, args.period), args.redis))
    if args.json is not None:
        args.json.write_text(json.dumps(data, indent=1))
    print(report(data))


if __name__ == "__main__":
    main()
