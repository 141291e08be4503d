"""Peak client memory while streaming 100,000 orders, against 10,000 and against ``collect()``.

Flat streaming means the peak does not grow with the listing: streaming 100,000 orders should
peak about where streaming 10,000 does, while ``collect()`` (which holds every order) grows ten
times. The sandbox (100,000 seeded orders) runs in one child process and each measurement in a
fresh client process of its own, so neither the sandbox's memory nor an earlier run's is
counted. Two measures, in separate runs because tracing inflates RSS:

- tracemalloc peak: Python allocations made after a warm-up (pool, converter, first page);
- RSS peak delta: the process's resident-set high-water mark minus its RSS after the warm-up
  (Linux ``/proc/self/status``; ``n/a`` elsewhere). Streaming moves it by a few pages of 4 KB,
  too little for a meaningful ratio, so the table gives its difference from the baseline.

Run alone: ``python -m benchmarks.bench_memory``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from aioprintora import PrintoraClient

from ._report import fmt, ratio, table
from ._sandbox_proc import RemoteSandbox, remote_sandbox

SEEDED = 100_000
#: (action, orders): the first row is the baseline.
SCENARIOS = (("stream", 10_000), ("stream", 100_000), ("collect", 100_000))
_STATUS = Path("/proc/self/status")


def _status_kb(field: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` (VmRSS, VmHWM), or None off Linux."""
    with contextlib.suppress(OSError):
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def _reset_rss_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if this system cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def _consume(client: PrintoraClient, action: str, count: int) -> int:
    pager = client.orders.iter(max_items=count)
    if action == "collect":
        return len(await pager.collect())
    seen = 0
    async for _order in pager:
        seen += 1
    return seen


async def child(action: str, count: int, mode: str) -> dict[str, float | None]:
    """Measure one scenario in this process (the client side only)."""
    async with PrintoraClient(rate_limit=None) as client:  # key and URL from the environment
        # Warm-up: open the connection, generate the converter's code, touch every code path.
        await _consume(client, action, 300)
        gc.collect()
        peak: float | None
        if mode == "tracemalloc":
            tracemalloc.start()
            start = tracemalloc.get_traced_memory()[0]
        else:
            start = _status_kb("VmRSS") or 0
            resettable = _reset_rss_peak()
        began = time.perf_counter()
        seen = await _consume(client, action, count)
        seconds = time.perf_counter() - began
        if mode == "tracemalloc":
            peak = tracemalloc.get_traced_memory()[1] - start
            tracemalloc.stop()
        else:
            hwm = _status_kb("VmHWM")
            peak = (hwm - start) * 1024 if hwm is not None and resettable else None
    if seen != count:
        raise RuntimeError(f"{action} gave {seen} orders, expected {count}")
    return {"peak": peak, "seconds": seconds}


def _run_child(
    sandbox: RemoteSandbox, action: str, count: int, mode: str
) -> dict[str, float | None]:
    env = dict(os.environ, PRINTORA_API_KEY=sandbox.api_key, PRINTORA_BASE_URL=sandbox.base_url)
    args = [sys.executable, "-m", "benchmarks.bench_memory", "--child", action, str(count), mode]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[2:])} failed:\n{done.stderr}")
    result: dict[str, float | None] = json.loads(done.stdout.splitlines()[-1])
    return result


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1e6:.2f} MB"


async def run() -> str:
    """This benchmark's table, as Markdown."""
    rows = []
    async with remote_sandbox(SEEDED) as sandbox:
        results: dict[tuple[str, int], tuple[float, float | None, float]] = {}
        for action, count in SCENARIOS:
            # subprocess.run blocks: keep it off the loop that owns the sandbox child.
            traced = await asyncio.to_thread(_run_child, sandbox, action, count, "tracemalloc")
            plain = await asyncio.to_thread(_run_child, sandbox, action, count, "rss")
            results[action, count] = (traced["peak"] or 0.0, plain["peak"], plain["seconds"] or 0.0)
    base_traced, base_rss, _ = results[SCENARIOS[0]]
    for (action, count), (traced_peak, rss, seconds) in results.items():
        rows.append(
            [
                f"`{action}` {count:,} orders",
                _mb(traced_peak),
                ratio(traced_peak, base_traced),
                _mb(rss),
                "n/a" if rss is None or base_rss is None else f"{(rss - base_rss) / 1e6:+.2f} MB",
                fmt(seconds),
            ]
        )
    headers = [
        "scenario",
        "tracemalloc peak",
        "ratio",
        "RSS peak delta",
        "RSS vs baseline",
        "seconds (untraced)",
    ]
    title = "Client memory, sandbox in another process (baseline: `stream` 10,000 orders)"
    return table(title, headers, rows)


def main() -> None:
    """Print this benchmark's table (or, with ``--child``, measure one scenario)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=3, metavar=("ACTION", "COUNT", "MODE"))
    args = parser.parse_args()
    if args.child:
        action, count, mode = args.child
        print(json.dumps(asyncio.run(child(action, int(count), mode))))
    else:
        print(asyncio.run(run()))


if __name__ == "__main__":
    main()
