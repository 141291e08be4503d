"""Decoding a page of orders: µs per order, typed models beside ``json.loads`` of the same bytes.

``python -m benchmarks.bench_decode [--rounds N] [--json FILE]``. The bytes are a real page of
the sandbox (100 orders, every field set). Rows, interleaved in every round, each timed by
``time.process_time``, the best of 5 chunks of about 40 ms each:

- baseline: ``json.loads(body)`` (floats as ``float``);
- ``orjson.loads(body)`` for reference, when orjson is installed;
- ``aioprintora._convert.loads``: JSON with exact ``Decimal`` amounts (msgspec, the default on
  CPython), and the same through :mod:`json` alone (as without msgspec, e.g. on PyPy);
- the SDK's whole decoding of a page: ``decipher_response`` (status, envelope, one parse) and
  ``parse_page`` into ``Page[Order]`` (every field: ``Decimal``, aware datetimes, open enums);
- the same through the general path (the converter per item), which pages of mixed spellings
  fall back to;
- the same page with each item's keys in snake_case (the [drift] spelling);
- the typed page with every body parsed by :mod:`json` alone.

Ratios are taken within a round and reported as the median with the lowest and highest.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aioprintora._convert import loads, snake, structure
from aioprintora._http.sansio import decipher_response
from aioprintora._models import Order, Pagination
from aioprintora.pagination import parse_page

from ._parsers import stdlib_json
from ._report import fmt, median, table

ORDERS = 100


def _page_body() -> bytes:
    """A 100-order page as the sandbox sends it (made in process: no server needed)."""
    import asyncio

    from ._static_proc import _bodies

    _, bodies = asyncio.run(_bodies())
    return bodies["100"]


def _typed(body: bytes) -> Callable[[], object]:
    def decode() -> object:
        answer = decipher_response(200, {}, body, method="GET", url="/", now=0.0)
        return parse_page(answer.data, "orders", Order, limit=100, offset=0)

    return decode


def _stdlib(fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        with stdlib_json():
            return fn()

    return run


def _general(body: bytes) -> Callable[[], object]:
    def decode() -> object:
        data = decipher_response(200, {}, body, method="GET", url="/", now=0.0).data
        items = [structure(item, Order) for item in data["orders"]]
        return items, structure(data["pagination"], Pagination)

    return decode


def _snake_body(body: bytes) -> bytes:
    page = json.loads(body)
    page["data"]["orders"] = [{snake(k): v for k, v in o.items()} for o in page["data"]["orders"]]
    return json.dumps(page).encode()


def rows(body: bytes) -> list[tuple[str, Callable[[], object]]]:
    """(label, callable) per row; the first is the baseline."""
    out: list[tuple[str, Callable[[], object]]] = [("`json.loads`", lambda: json.loads(body))]
    try:
        import orjson
    except ImportError:
        pass
    else:
        out.append(("`orjson.loads` (reference)", lambda: orjson.loads(body)))
    out += [
        ("`_convert.loads` (exact `Decimal`)", lambda: loads(body)),
        ("`_convert.loads`, `json` only (no msgspec)", _stdlib(lambda: loads(body))),
        ("**SDK: typed `Page[Order]`** (by shape)", _typed(body)),
        ("SDK: general path (converter per item)", _general(body)),
        ("SDK: typed, snake_case keys", _typed(_snake_body(body))),
        ("SDK: typed, `json` only (no msgspec)", _stdlib(_typed(body))),
    ]
    return out


def _per_order_us(fn: Callable[[], object]) -> float:
    """The best of 5 chunks of about 40 ms: the least disturbed by other processes."""
    fn()  # warm: shapes generated, hooks built
    best = float("inf")
    for _ in range(5):
        count, started = 0, time.process_time()
        while (elapsed := time.process_time() - started) < 0.04:
            fn()
            count += 1
        best = min(best, elapsed / count)
    return best / ORDERS * 1e6


def measure(rounds: int) -> dict[str, Any]:
    """Samples: ``{label: [µs per order per round]}``."""
    body = _page_body()
    typed = _typed(body)()
    assert len(typed.items) == ORDERS  # type: ignore[attr-defined]
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        for label, fn in rows(body):
            samples.setdefault(label, []).append(_per_order_us(fn))
    return {"rounds": rounds, "bytes": len(body), "samples": samples}


def report(data: dict[str, Any]) -> str:
    """The Markdown table of :func:`measure`'s samples."""
    samples: dict[str, list[float]] = data["samples"]
    base = next(iter(samples.values()))
    out = []
    for label, values in samples.items():
        ratios = sorted(v / b for v, b in zip(values, base, strict=True))
        out.append(
            [
                label,
                f"{fmt(median(values))} ({fmt(min(values))}–{fmt(max(values))})",
                f"{median(ratios):.2f}x ({ratios[0]:.2f}–{ratios[-1]:.2f})",
            ]
        )
    title = (
        f"Decoding a {ORDERS}-order page ({data['bytes']:,} bytes; CPU time, "
        f"median of {data['rounds']} rounds)"
    )
    return table(title, ["decoder", "µs per order (min–max)", "vs `json.loads`"], out)


def main() -> None:
    """Print this benchmark's table (and write its samples with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="write the raw samples here")
    args = parser.parse_args()
    data = measure(args.rounds)
    if args.json is not None:
        args.json.write_text(json.dumps(data, indent=1))
    print(report(data))


if __name__ == "__main__":
    main()
