"""Shared by the benchmarks: Markdown tables, the machine line, and robust repeat timing."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence

__all__ = ["fmt", "machine", "median", "ratio", "table"]


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table under a ``###`` title.

    Args:
        title: the heading line.
        headers: column names.
        rows: cells; each is turned into text with ``str``.
    """
    lines = [f"### {title}", "", "| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def fmt(value: float, digits: int = 3) -> str:
    """A number with ``digits`` significant figures, thousands separated."""
    if value == 0:
        return "0"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def ratio(value: float, baseline: float) -> str:
    """``value / baseline`` as ``1.23x`` (``n/a`` when the baseline is zero)."""
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def median(values: Sequence[float]) -> float:
    """The median of repeated measurements (robust to one noisy run)."""
    return statistics.median(values)


def machine() -> str:
    """One line: CPUs, Python, platform."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    impl = platform.python_implementation()
    version = sys.version.split()[0]
    return f"{cpus} CPUs, {impl} {version}, {platform.system()} {platform.machine()}"
