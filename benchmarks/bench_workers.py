"""Queued imports: the rate 1, 3 and 6 ``aioprintora worker`` processes achieve against the limit.

``python -m benchmarks.bench_workers [--workers 1 3 6] [--rate 120/min] [--pace 10/5s]
[--minutes 2]`` (needs the ``workers`` extra and ``redis-server``; not in the default run).
Each run starts its own redis-server, the sandbox (``--rate-limit RATE``) and the workers as
subprocesses, queues ``minutes`` worth of rows with ``sessions import --queue``, and measures
the session creations the sandbox received (through a recording proxy), replays included, from
the first to the last: achieved rate = (requests - 1) / span.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from aioprintora.workers import import_status
from tests._redis_server import RedisServer, _redis_binary
from tests.workers._stack import rows_file, stack, wait_until

_PER_MINUTE = {"s": 60.0, "10s": 6.0, "min": 1.0}


def _per_minute(rate: str) -> float:
    limit, _, period = rate.partition("/")
    return int(limit) * _PER_MINUTE[period]


async def _one(workers: int, rate: str, pace: str, minutes: float, tmp: Path) -> dict[str, float]:
    binary = _redis_binary()
    assert binary is not None, "redis-server not found"
    allowed = _per_minute(rate)
    rows = rows_file(tmp / f"rows-{workers}.csv", int(allowed * minutes))
    client_rate = f"{rate} {pace}" if pace else rate
    async with stack(
        lambda: RedisServer(binary, tmp).start(), tmp, sandbox_rate=rate, client_rate=client_rate
    ) as s:
        for _ in range(workers):
            await s.start_worker()
        done = await s.cli("sessions", "import", str(rows), "--queue", "--chunk-size", "20")
        assert done.code == 0, done.err
        import_id = done.out.strip()

        async def finished() -> bool:
            return (await import_status(s.redis_url, import_id)).finished

        await wait_until(finished, timeout=minutes * 60 * 3 + 60, every=1.0, what="the import")
        counts = await s.counts()
    span = s.hits[-1].at - s.hits[0].at
    achieved = (len(s.hits) - 1) / span * 60
    return {
        "workers": workers,
        "requests": len(s.hits),
        "sessions": counts["sessions"],
        "too_many": sum(1 for h in s.hits if h.status == 429),
        "span": span,
        "achieved": achieved,
        "share": achieved / allowed,
        "max_gap": s.max_gap(),
    }


async def main(workers: list[int], rate: str, pace: str, minutes: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = [await _one(n, rate, pace, minutes, Path(tmp)) for n in workers]
    print(f"Sandbox {rate}; PRINTORA_RATE_LIMIT={rate} {pace}; {minutes:g} min of rows per run\n")
    print(
        "| workers | requests | sessions | 429s | first → last | achieved | of allowed | max gap |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['workers']:.0f} | {r['requests']:.0f} | {r['sessions']:.0f} |"
            f" {r['too_many']:.0f} | {r['span']:.1f} s | {r['achieved']:.1f}/min |"
            f" {r['share']:.1%} | {r['max_gap']:.1f} s |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3, 6])
    parser.add_argument("--rate", default="120/min")
    parser.add_argument("--pace", default="10/5s", help="the client's pacing window ('' for none)")
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()
    asyncio.run(main(args.workers, args.rate, args.pace, args.minutes))
