"""Client CPU per request: ``client.orders.list(...)`` beside raw aiohttp and httpx, same run.

The server is static (``benchmarks/_static_proc.py``: the sandbox's own pages served as fixed
bytes from a child process), so the client process's CPU time (``time.process_time``) is the
client's alone. Two scenarios: concurrency 50 with pages of 20, concurrency 1 with pages of 100.
Variants, interleaved in every round, same URL, headers and pool size (10):

- baseline: a raw aiohttp GET that reads the body and ``json.loads`` it;
- ``httpx.AsyncClient`` GET + ``json.loads`` (skipped when httpx is not installed);
- the SDK's ``orders.list``, ``rate_limit=None``: every field of every order decoded into typed
  models (exact ``Decimal``, aware datetimes, open enums), errors mapped, retries armed;
- the same with the rate limiter on (windows it never fills);
- the first SDK row with hooks on (one hook counting attempts and adding up their durations,
  as a metrics hook does);
- the same as the first SDK row with every body parsed by :mod:`json` alone (as where msgspec
  is not installed, e.g. PyPy).

Each round runs every variant for ``--seconds`` (in an order rotated from round to round); the
figure is client CPU µs per request. Ratios are taken within a round (the same few seconds of
a loaded machine) and reported as the median over ``--rounds`` rounds with the lowest and
highest. Wall-clock requests per second are shown too,
but on a shared machine they move with the load; read the CPU column.

Run alone: ``python -m benchmarks.bench_client [--seconds S] [--rounds N] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from aioprintora import PrintoraClient, __version__
from aioprintora.hooks import AttemptInfo, CallInfo, Hooks
from aioprintora.ratelimit._local import Window

from ._parsers import stdlib_json
from ._report import fmt, median, table
from ._sandbox_proc import RemoteSandbox
from ._static_proc import ORDERS_PATH, static_server

POOL = 10
SCENARIOS = ((50, 20), (1, 100))  # (concurrency, page size)
Call = Callable[[], Awaitable[object]]
Make = Callable[[RemoteSandbox, int], AbstractAsyncContextManager[Call]]


def _headers(server: RemoteSandbox) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {server.api_key}",
        "User-Agent": f"aioprintora/{__version__}",
        "Accept": "application/json",
    }


@asynccontextmanager
async def raw_aiohttp(server: RemoteSandbox, limit: int) -> AsyncIterator[Call]:
    """A raw aiohttp GET with the SDK's headers, then ``json.loads`` of the body."""
    connector = aiohttp.TCPConnector(limit=POOL, limit_per_host=POOL)
    url = f"{server.base_url}{ORDERS_PATH}?limit={limit}&offset=0"
    async with aiohttp.ClientSession(connector=connector, headers=_headers(server)) as http:

        async def call() -> object:
            async with http.get(url) as response:
                return json.loads(await response.read())

        yield call


@asynccontextmanager
async def raw_httpx(server: RemoteSandbox, limit: int) -> AsyncIterator[Call]:
    """An ``httpx.AsyncClient`` GET, then ``json.loads`` of the body."""
    import httpx

    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    url = f"{server.base_url}{ORDERS_PATH}?limit={limit}&offset=0"
    async with httpx.AsyncClient(headers=_headers(server), limits=limits) as http:

        async def call() -> object:
            response = await http.get(url)
            return json.loads(response.content)

        yield call


class CountingHooks(Hooks):
    """What a metrics hook does: count the attempts and add up their durations."""

    def __init__(self) -> None:
        self.attempts = 0
        self.seconds = 0.0

    def on_response(self, call: CallInfo, attempt: AttemptInfo) -> None:
        """Count one attempt."""
        self.attempts += 1
        self.seconds += attempt.duration or 0.0


@asynccontextmanager
async def sdk(
    server: RemoteSandbox, limit: int, limiter: bool, hooks: bool = False
) -> AsyncIterator[Call]:
    """``client.orders.list(limit=...)``; with a limiter whose windows never fill, or none;
    with a counting hook, or none."""
    rate_limit = [Window(10**9, 60.0), Window(10**9, 86_400.0)] if limiter else None
    async with PrintoraClient(
        server.api_key,
        base_url=server.base_url,
        rate_limit=rate_limit,
        pool_size=POOL,
        hooks=[CountingHooks()] if hooks else (),
    ) as client:

        async def call() -> object:
            return await client.orders.list(limit=limit)

        yield call


@asynccontextmanager
async def sdk_stdlib_json(server: RemoteSandbox, limit: int) -> AsyncIterator[Call]:
    """``sdk(limiter=False)`` with every body parsed by :mod:`json` (no msgspec)."""
    with stdlib_json():
        async with sdk(server, limit, limiter=False) as call:
            yield call


def _variants() -> list[tuple[str, Make]]:
    variants: list[tuple[str, Make]] = [("raw aiohttp GET + `json.loads`", raw_aiohttp)]
    try:
        import httpx  # noqa: F401
    except ImportError:  # pragma: no cover - httpx is in the test extra
        pass
    else:
        variants.append(("`httpx.AsyncClient` GET + `json.loads`", raw_httpx))
    variants.append(("SDK `orders.list`, `rate_limit=None`", lambda s, n: sdk(s, n, limiter=False)))
    variants.append(("SDK `orders.list`, limiter on", lambda s, n: sdk(s, n, limiter=True)))
    variants.append(
        (
            "SDK `orders.list`, `rate_limit=None`, hooks on",
            lambda s, n: sdk(s, n, limiter=False, hooks=True),
        )
    )
    variants.append(("SDK `orders.list`, `rate_limit=None`, `json` only", sdk_stdlib_json))
    return variants


async def hammer(call: Call, concurrency: int, seconds: float) -> tuple[float, float]:
    """Run ``concurrency`` workers for ``seconds``; (requests/s, client CPU µs per request)."""
    for _ in range(20):  # warm-up: connections open, code paths touched, shapes generated
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


async def measure(seconds: float, rounds: int) -> dict[str, Any]:
    """Samples per scenario and variant: ``{"c50/p20": {label: [[req/s, cpu µs], ...]}}``.

    Every round runs each variant once, in an order rotated from round to round, so that no
    variant always follows the same one (nor always meets the same minute of the machine).
    """
    variants = _variants()
    samples: dict[str, dict[str, list[list[float]]]] = {}
    async with static_server() as server:
        for round_ in range(rounds):
            for concurrency, limit in SCENARIOS:
                scenario = samples.setdefault(f"c{concurrency}/p{limit}", {})
                for label, _ in variants:
                    scenario.setdefault(label, [])
                shift = round_ % len(variants)
                for label, make in variants[shift:] + variants[:shift]:
                    async with make(server, limit) as call:
                        rate, cpu = await hammer(call, concurrency, seconds)
                    scenario[label].append([rate, cpu])
    return {"seconds": seconds, "rounds": rounds, "samples": samples}


def report(data: dict[str, Any]) -> str:
    """The Markdown table of :func:`measure`'s samples."""
    rows = []
    for scenario, by_variant in data["samples"].items():
        labels = list(by_variant)
        base = [cpu for _, cpu in by_variant[labels[0]]]
        for label in labels:
            rates = [rate for rate, _ in by_variant[label]]
            cpus = [cpu for _, cpu in by_variant[label]]
            ratios = sorted(c / b for c, b in zip(cpus, base, strict=True))
            rows.append(
                [
                    scenario,
                    label,
                    fmt(median(rates)),
                    f"{fmt(median(cpus))} ({fmt(min(cpus))}–{fmt(max(cpus))})",
                    f"**{median(ratios):.2f}x** ({ratios[0]:.2f}–{ratios[-1]:.2f})",
                ]
            )
    headers = ["scenario", "variant", "req/s", "client CPU µs/req (min–max)", "CPU ratio"]
    title = (
        "Client CPU per request (baseline: raw aiohttp + `json.loads`; "
        f"median of {data['rounds']} rounds × {data['seconds']:g} s)"
    )
    return table(title, headers, rows)


def main() -> None:
    """Print this benchmark's table (and write its samples with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.4)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", type=Path, default=None, help="write the raw samples here")
    args = parser.parse_args()
    data = asyncio.run(measure(args.seconds, args.rounds))
    if args.json is not None:
        args.json.write_text(json.dumps(data, indent=1))
    print(report(data))


if __name__ == "__main__":
    main()
