"""The SDK's JSON parser, switched for a benchmark row: msgspec (the default on CPython) or json.

``stdlib_json()`` runs the SDK as it runs where msgspec is not installed (PyPy): every body
parsed by :mod:`json` with exact ``Decimal`` floats. Benchmarks only; the SDK has no switch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aioprintora._http import _json

__all__ = ["stdlib_json"]


@contextmanager
def stdlib_json() -> Iterator[None]:
    """Within the block, the SDK parses every body with :mod:`json`."""
    saved = _json._fast
    _json._fast = lambda: None  # type: ignore[assignment]
    try:
        yield
    finally:
        _json._fast = saved
