"""Profile the SDK's hot path with pyinstrument: ``orders.list`` against the static server.

``python -m benchmarks.profile_client [--calls N] [--concurrency C] [--limit L]`` prints
pyinstrument's text report of the client process (``pip install 'aioprintora[bench]'``). The
summary of a before/after pair is on docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio

from aioprintora import PrintoraClient

from ._static_proc import static_server


async def run(calls: int, concurrency: int, limit: int) -> str:
    """Profile ``calls`` calls of ``orders.list(limit=limit)``, ``concurrency`` at a time."""
    from pyinstrument import Profiler

    async with (
        static_server() as server,
        PrintoraClient(server.api_key, base_url=server.base_url, rate_limit=None) as client,
    ):
        for _ in range(20):
            await client.orders.list(limit=limit)
        todo = iter(range(calls))

        async def worker() -> None:
            for _ in todo:
                await client.orders.list(limit=limit)

        profiler = Profiler(interval=0.0002, async_mode="disabled")
        profiler.start()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        profiler.stop()
    return str(profiler.output_text(unicode=False, color=False, show_all=False))


def main() -> None:
    """Print the profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    print(asyncio.run(run(args.calls, args.concurrency, args.limit)))


if __name__ == "__main__":
    main()
