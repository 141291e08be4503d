"""Body parsing (aioprintora._http._json): msgspec and json give one result, or json decides."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from aioprintora._http import _json
from aioprintora._http._json import loads

BODIES = [
    b'{"data": {"orders": [{"totalAmount": 34.50, "n": 3}]}, "success": true}',
    b"123456789012345678901234567890",  # ints of any size
    b"-9223372036854775809",
    b'{"a": 1, "a": 2}',  # duplicate keys: the last one
    b"[1.0, 1E+3, -0.0, 1e400, 2]",  # floats as their exact text, however large
    b'"\\ud83d\\ude00 \\u0000"',
    b' {"k": [true, false, null]} ',
    b"NaN",  # json's extensions, which msgspec refuses: json reads them
    b"[Infinity, -Infinity]",
    b'"\\ud800"',  # a lone surrogate
    b'\xef\xbb\xbf{"bom": 1}',  # a UTF-8 BOM
    '{"text": "caf\u00e9"}'.encode(),
]


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 and 1.0 and Decimal(1) differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:  # noqa: PLR0124 - NaN
        return b != b  # noqa: PLR0124
    return bool(a == b) and (not isinstance(a, Decimal) or str(a) == str(b))


def _reference(body: bytes) -> Any:
    text = body.decode("utf-8-sig")
    return json.loads(text, parse_float=Decimal)


@pytest.fixture(params=["msgspec", "json only"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "json only":  # as on PyPy, or without msgspec installed
        monkeypatch.setattr(_json, "_fast", lambda: None)
    else:
        assert _json._fast() is not None, "msgspec is a dependency on CPython"
    return str(request.param)


@pytest.mark.parametrize("body", BODIES)
def test_every_body_parses_as_json_with_exact_decimals_does(parser: str, body: bytes) -> None:
    assert _same(loads(body), _reference(body))
    assert _same(loads(body.decode("utf-8-sig")), _reference(body))


def test_money_keeps_its_text(parser: str) -> None:
    amount = loads(b'{"totalAmount": 19.90}')["totalAmount"]
    assert isinstance(amount, Decimal) and str(amount) == "19.90"


@pytest.mark.parametrize(
    "body", [b"", b"{", b'{"a": 1} x', b'"\xff"', b"[" * 100_000 + b"]" * 100_000, b'{"k": "\x01"}']
)
def test_what_no_parser_reads_is_a_value_error(parser: str, body: bytes) -> None:
    with pytest.raises(ValueError):
        loads(body)
