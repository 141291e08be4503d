"""How the sandbox writes JSON: timestamps, money with two decimals, and the two envelopes.

Pure functions, no I/O.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "error_body", "iso", "ok_body"]

# Money must come out as a JSON *number* with exactly two decimals (29.90, not 29.9), which the json
# module cannot write from a float. Decimals go out as a marker string that is then unquoted; the
# nonce makes a client-supplied string that looks like a marker impossible to hit by accident.
_NONCE = secrets.token_hex(8)
_MARK = f"\x00{_NONCE}:"
_MARKED = re.compile(r'"\\u0000' + _NONCE + r':(-?[0-9]+(?:\.[0-9]+)?)"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{value:.2f}"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data: Any) -> str:
    """Serialise ``data``; :class:`~decimal.Decimal` values become numbers with two decimals."""
    # ASCII output: a lone surrogate echoed from a request body must not break the encoding.
    text = json.dumps(data, default=_default, separators=(",", ":"))
    if _NONCE in text:
        text = _MARKED.sub(r"\1", text)
    return text


def iso(ts: float) -> str:
    """Unix seconds -> ``2026-01-31T10:00:00.000Z`` (milliseconds, UTC), as the API writes them."""
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ok_body(data: Any) -> dict[str, Any]:
    """The success envelope."""
    return {"success": True, "data": data}


def error_body(code: str, message: str) -> dict[str, Any]:
    """The error envelope."""
    return {"success": False, "error": {"code": code, "message": message}}
