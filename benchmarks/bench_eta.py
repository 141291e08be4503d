"""How wrong the import's ETA is, during a rate-limited import and a mostly-journaled re-run.

The sandbox enforces 20 requests per 2 s (the shape of 60/min, thirty times shorter); the client
keeps the same window. ``create_many`` reports ``Progress.eta`` after each row and every 0.25 s
while none finishes; once the import has ended, each report is compared with the time that was
really left. Two runs:

- a fresh import of ``N`` rows (``concurrency=10``): the ETA follows the limiter's schedule;
- a re-run of ``10 × M`` rows whose first ``9 × M`` are journaled: journaled rows cost nothing.

Run alone: ``python -m benchmarks.bench_eta [--sessions N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from aioprintora import PrintoraClient
from aioprintora.jobs._imports import Progress, SessionRequest
from aioprintora.ratelimit._local import Window
from aioprintora.sandbox import Sandbox

from ._report import table
from .bench_import import requests

LIMIT, PERIOD = 20, 2.0


async def _measure(
    client: PrintoraClient, rows: list[SessionRequest], journal: Path
) -> tuple[float, list[float]]:
    """The import's length, and each report's error (ETA minus the time really left)."""
    reports: list[tuple[float, float]] = []

    def progress(p: Progress) -> None:
        if p.eta is not None and p.done < len(rows):
            reports.append((time.perf_counter(), p.eta))

    started = time.perf_counter()
    await client.sessions.create_many(
        rows, concurrency=10, journal=journal, on_progress=progress, progress_interval=0.25
    )
    ended = time.perf_counter()
    return ended - started, [eta - (ended - at) for at, eta in reports]


def _row(label: str, length: float, errors: list[float]) -> list[str]:
    absolute = sorted(abs(e) for e in errors)
    p90 = absolute[int(0.9 * (len(absolute) - 1))]
    return [
        label,
        f"{length:.1f}",
        str(len(errors)),
        f"{statistics.mean(absolute):.2f}",
        f"{p90:.2f}",
        f"{max(absolute):.2f}",
        f"{100 * statistics.mean(absolute) / length:.1f}%",
        f"{min(errors):+.2f} / {max(errors):+.2f}",
    ]


async def main(n: int) -> None:
    """Both runs; print the table."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        async with Sandbox(rate_limits=((LIMIT, PERIOD),)) as sb:
            limiter = [Window(LIMIT, PERIOD)]
            async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=limiter) as c:
                length, errors = await _measure(c, requests(n, "fresh"), Path(tmp, "fresh.sqlite"))
            rows.append(_row(f"fresh import, {n} rows", length, errors))
            journal = Path(tmp, "rerun.sqlite")
            everything = requests(10 * (n // 10), "rerun")
            async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None) as c:
                await c.sessions.create_many(everything[: 9 * n // 10], journal=journal)
            async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=limiter) as c:
                length, errors = await _measure(c, everything, journal)
            rows.append(_row(f"re-run, {n} rows, 90% journaled", length, errors))
    print(
        table(
            "Import ETA error behind a 20-per-2-s limit",
            [
                "run",
                "length (s)",
                "reports",
                "mean |error| (s)",
                "p90 |error| (s)",
                "max |error| (s)",
                "mean |error| / length",
                "error min / max (s)",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=300)
    asyncio.run(main(parser.parse_args().sessions))
