"""Client overhead: ``client.orders.list(limit=1)`` against a raw aiohttp GET of the same URL.

Same sandbox (a child process, so the client process's CPU time is the client's alone), same
URL, same headers, same pool size (10), concurrency 1 and 10. The baseline is the raw GET that
reads the body; a second raw row adds ``json.loads`` to show what plain decoding costs. The SDK
rows add its middlewares (retry, attempt clock), error mapping, the cattrs models, and in the
last row the client-side rate limiter with windows too large to ever wait.

Two figures per row: requests per second (wall clock, which includes the sandbox's own time),
and client CPU microseconds per request (``time.process_time`` of this process), the overhead
proper. Rounds are interleaved and the median of 6 is reported.

Run alone: ``python -m benchmarks.bench_client [--seconds S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import aiohttp

from aioprintora import PrintoraClient, __version__
from aioprintora.ratelimit import Window

from ._report import fmt, median, ratio, table
from ._sandbox_proc import RemoteSandbox, remote_sandbox

PATH = "/api/v1/partners/orders?limit=1&offset=0"
POOL = 10
ROUNDS = 6
Call = Callable[[], Awaitable[object]]


@asynccontextmanager
async def raw_get(sandbox: RemoteSandbox, decode: bool) -> AsyncIterator[Call]:
    """A raw aiohttp GET with the SDK's headers; optionally ``json.loads`` of the body."""
    headers = {
        "Authorization": f"Bearer {sandbox.api_key}",
        "User-Agent": f"aioprintora/{__version__}",
        "Accept": "application/json",
    }
    connector = aiohttp.TCPConnector(limit=POOL, limit_per_host=POOL)
    url = sandbox.base_url + PATH
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:

        async def call() -> object:
            async with http.get(url) as response:
                body = await response.read()
                return json.loads(body) if decode else body

        yield call


@asynccontextmanager
async def sdk_list(sandbox: RemoteSandbox, limiter: bool) -> AsyncIterator[Call]:
    """``client.orders.list(limit=1)``; with a limiter whose windows never fill, or none."""
    rate_limit = [Window(10**9, 60.0), Window(10**9, 86_400.0)] if limiter else None
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=rate_limit, pool_size=POOL
    ) as client:

        async def call() -> object:
            return await client.orders.list(limit=1)

        yield call


#: (label, how to make the call); the first is the baseline.
VARIANTS: tuple[tuple[str, Callable[[RemoteSandbox], AbstractAsyncContextManager[Call]]], ...] = (
    ("raw aiohttp GET + read", lambda sb: raw_get(sb, decode=False)),
    ("raw aiohttp GET + read + json.loads", lambda sb: raw_get(sb, decode=True)),
    ("SDK `orders.list(limit=1)`, rate_limit=None", lambda sb: sdk_list(sb, limiter=False)),
    ("SDK `orders.list(limit=1)`, limiter on (never full)", lambda sb: sdk_list(sb, limiter=True)),
)


async def hammer(call: Call, concurrency: int, seconds: float) -> tuple[float, float]:
    """Run ``concurrency`` workers for ``seconds``; (requests/s, client CPU µs per request)."""
    for _ in range(20):  # warm-up: connections open, code paths touched
        await call()
    count = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < stop:
            await call()
            count += 1

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return count / wall, cpu / count * 1e6


async def run(seconds: float = 0.5) -> str:
    """This benchmark's table, as Markdown.

    Args:
        seconds: how long each variant runs per round and concurrency.
    """
    samples: dict[tuple[int, int], list[tuple[float, float]]] = {}
    async with remote_sandbox(orders=100) as sandbox:
        for _ in range(ROUNDS):
            for concurrency in (1, 10):
                for index, (_label, make) in enumerate(VARIANTS):
                    async with make(sandbox) as call:
                        result = await hammer(call, concurrency, seconds)
                    samples.setdefault((concurrency, index), []).append(result)
    rows = []
    for concurrency in (1, 10):
        rates = [median([s[0] for s in samples[concurrency, i]]) for i in range(len(VARIANTS))]
        cpus = [median([s[1] for s in samples[concurrency, i]]) for i in range(len(VARIANTS))]
        for index, (label, _make) in enumerate(VARIANTS):
            rows.append(
                [
                    concurrency,
                    label,
                    fmt(rates[index]),
                    ratio(rates[index], rates[0]),
                    fmt(cpus[index]),
                    ratio(cpus[index], cpus[0]),
                ]
            )
    headers = ["concurrency", "variant", "req/s", "ratio", "client CPU µs/req", "ratio"]
    title = f"Client overhead (baseline: raw aiohttp GET; median of {ROUNDS} x {seconds:g} s)"
    return table(title, headers, rows)


def main() -> None:
    """Print this benchmark's table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.5)
    print(asyncio.run(run(parser.parse_args().seconds)))


if __name__ == "__main__":
    main()
