"""``python -m benchmarks [NAME ...] [--plots DIR]``: run the benchmarks, print Markdown.

Each benchmark runs in a fresh interpreter (``python -m benchmarks.bench_<name>``) so one's
memory, event loop and caches cannot colour another's figures, and a failing one does not hide
the rest. With ``--plots DIR`` the benchmarks that keep raw samples write them to
``DIR/<name>.json`` and a chart of each goes to ``DIR/<name>.png`` (``pip install
'aioprintora[bench]'`` for matplotlib). The whole run takes about eight minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time
from pathlib import Path

from ._report import machine

#: In the order they run: the cheap ones first.
BENCHMARKS = (
    "ratelimit",
    "decode",
    "client",
    "limit",
    "memory",
    "pagination",
    "throughput",
    "sync",
    "import",
    "eta",
)
#: The ones that write raw samples with ``--json FILE`` (and so get a chart).
SAMPLED = frozenset({"decode", "client", "limit"})


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; the exit status is the number that failed.

    Args:
        argv: benchmark names (all when empty).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--plots", type=Path, default=None, metavar="DIR", help="charts here")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# aioprintora benchmarks, {today}\n\n{machine()}; sandbox on 127.0.0.1.\n", flush=True)
    if args.plots is not None:
        args.plots.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in names:
        command = [sys.executable, "-m", f"benchmarks.bench_{name}"]
        if args.plots is not None and name in SAMPLED:
            command += ["--json", str(args.plots / f"{name}.json")]
        started = time.perf_counter()
        done = subprocess.run(command, check=False)  # noqa: S603 - our own interpreter and module
        took = time.perf_counter() - started
        status = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        print(f"_bench_{name}: {status} in {took:.0f} s_\n", flush=True)
        failed += done.returncode != 0
    if args.plots is not None:
        from ._plots import plot_all

        for path in plot_all(args.plots, f"{today}, {machine()}"):
            print(f"_chart: {path}_", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
