"""``python -m benchmarks [NAME ...]``: run every benchmark (or the named ones), print Markdown.

Each benchmark runs in a fresh interpreter (``python -m benchmarks.bench_<name>``) so one's
memory, event loop and caches cannot colour another's figures, and a failing one does not hide
the rest. The whole run takes about two and a half minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time

from ._report import machine

#: In the order they run: the cheap ones first.
BENCHMARKS = ("ratelimit", "client", "memory", "pagination", "throughput", "sync", "import")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; the exit status is the number that failed.

    Args:
        argv: benchmark names (all when empty).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    names = parser.parse_args(argv).names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# aioprintora benchmarks, {today}\n\n{machine()}; sandbox on 127.0.0.1.\n", flush=True)
    failed = 0
    for name in names:
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", f"benchmarks.bench_{name}"], check=False
        )
        took = time.perf_counter() - started
        status = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        print(f"_bench_{name}: {status} in {took:.0f} s_\n", flush=True)
        failed += done.returncode != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
