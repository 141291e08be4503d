"""Parsing response bodies: JSON with every float as an exact :class:`~decimal.Decimal`.

Two parsers, one result. msgspec (a dependency on CPython) parses a listing page about twice
as fast as :mod:`json`, and is handed each float's text, as ``parse_float`` is; so where it
accepts a body, the value is the one :mod:`json` gives (same ints of any size, the last of
duplicate keys, the same Decimals). What it refuses goes to :mod:`json`, which decides: it reads
the extensions msgspec does not (``NaN``, lone surrogates, a UTF-8 BOM) and raises its own
errors for the rest. Without msgspec (PyPy, or not installed), :mod:`json` parses everything.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = ["loads"]

#: JSON numbers with a fraction or exponent, as exact ``Decimal``. Prices repeat across a
#: listing (and across pages): a small bounded cache of the texts seen parses each once.
_decimal = functools.lru_cache(maxsize=256)(Decimal)
_DECODER = json.JSONDecoder(parse_float=_decimal)  # one decoder: json.loads builds one per call

_Parse = Callable[[Any], Any]


@functools.cache
def _fast() -> tuple[_Parse, tuple[type[BaseException], ...]] | None:
    """msgspec's decoder and the errors that hand a body to :mod:`json` (None: no msgspec).

    Imported at the first body, not with the package: ``import aioprintora`` stays cheap.
    """
    try:
        import msgspec
    except ImportError:
        return None
    decoder = msgspec.json.Decoder(float_hook=_decimal)
    return decoder.decode, (msgspec.DecodeError, RecursionError)


def loads(text: str | bytes) -> Any:
    """Parse JSON (UTF-8 when bytes) with floats as exact :class:`~decimal.Decimal`.

    Raises:
        ValueError: not JSON (``JSONDecodeError``), not UTF-8 (``UnicodeDecodeError``), or
            nested too deeply to parse (a hostile body must not escape as ``RecursionError``).
    """
    fast = _fast()
    if fast is not None:
        parse, refused = fast
        try:
            return parse(text)
        except refused:
            pass  # json decides (see the module docstring)
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8-sig" if text.startswith(b"\xef\xbb\xbf") else "utf-8")
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
