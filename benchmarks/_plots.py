"""Charts of the benchmarks' samples (``python -m benchmarks --plots DIR``; needs matplotlib).

Each benchmark that supports it writes its raw samples as ``DIR/<name>.json``; this module
turns those into ``DIR/<name>.png``: the spread of every measurement, not just its median.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["plot_all"]


def _client(data: dict[str, Any], ax: Any) -> None:
    labels, series = [], []
    for scenario, by_variant in data["samples"].items():
        base = [cpu for _, cpu in next(iter(by_variant.values()))]
        for label, samples in by_variant.items():
            labels.append(f"{scenario}\n{label.replace('`', '')}")
            series.append([cpu / b for (_, cpu), b in zip(samples, base, strict=True)])
    ax.boxplot(series, vert=False)
    ax.set_yticks(range(1, len(labels) + 1), labels, fontsize=7)
    ax.axvline(1.3, color="tab:red", linestyle=":", label="1.30x target (c50/p20)")
    ax.axvline(1.5, color="tab:orange", linestyle=":", label="1.5x target (c1/p100)")
    ax.set_xlabel("client CPU per request / raw aiohttp + json.loads (same round)")
    ax.set_xscale("log")
    ax.legend(fontsize=7)


def _decode(data: dict[str, Any], ax: Any) -> None:
    samples = data["samples"]
    labels = [label.replace("`", "").replace("*", "") for label in samples]
    ax.boxplot(list(samples.values()), vert=False)
    ax.set_yticks(range(1, len(labels) + 1), labels, fontsize=7)
    ax.set_xlabel("CPU µs per order (100-order page)")


def _limit(data: dict[str, Any], ax: Any) -> None:
    samples = data["samples"]
    labels = list(samples)
    ax.boxplot([[r["rate"] for r in runs] for runs in samples.values()], vert=False)
    ax.set_yticks(range(1, len(labels) + 1), labels, fontsize=7)
    for i, runs in enumerate(samples.values(), start=1):
        ax.annotate(f"{sum(r['server_429s'] for r in runs):g} × 429", (101, i), fontsize=7)
    ax.axvline(98, color="tab:red", linestyle=":", label="98% target")
    ax.set_xlim(right=108)
    ax.set_xlabel(f"% of the allowed rate ({data['limit']} per {data['period']:g} s), client side")
    ax.legend(fontsize=7)


_PLOTTERS = {"client": _client, "decode": _decode, "limit": _limit}


def plot_all(directory: Path, caption: str) -> list[Path]:
    """Draw a PNG for every ``<name>.json`` found in ``directory``; the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for name, plot in _PLOTTERS.items():
        source = directory / f"{name}.json"
        if not source.exists():
            continue
        fig, ax = plt.subplots(figsize=(9, 4.5))
        plot(json.loads(source.read_text()), ax)
        fig.suptitle(f"bench_{name}: {caption}", fontsize=8)
        fig.tight_layout()
        target = directory / f"{name}.png"
        fig.savefig(target, dpi=110)
        plt.close(fig)
        written.append(target)
    return written
