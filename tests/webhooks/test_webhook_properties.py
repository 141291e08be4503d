"""Property tests: no edit of a signed delivery verifies; no JSON escapes the SDK's error type."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioprintora.webhooks import (
    WebhookEvent,
    WebhookPayloadError,
    WebhookSignatureError,
    parse_event,
    sign_payload,
    verify_signature,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = "whsec_property"

bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda sid, kind, amount: json.dumps(
            {"sessionId": sid, "event": kind, "data": {"total_amount": amount}}
        ).encode(),
        st.text(max_size=20),
        st.sampled_from(["order.created", "order.paid", "order.unknown"]),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
)


@st.composite
def mutated(draw: st.DrawFn, original: bytes | str) -> Any:
    """``original`` with one edit: flip, replace, insert, delete, truncate or append."""
    data = bytearray(original.encode() if isinstance(original, str) else original)
    kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "append", "replace"]))
    if not data and kind in {"flip", "delete", "truncate", "replace"}:
        kind = "insert"
    if kind == "flip":
        i = draw(st.integers(0, len(data) - 1))
        data[i] ^= 1 << draw(st.integers(0, 7))
    elif kind == "replace":
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255).filter(lambda b: b != data[i]))
    elif kind == "insert":
        data.insert(draw(st.integers(0, len(data))), draw(st.integers(0, 255)))
    elif kind == "delete":
        del data[draw(st.integers(0, len(data) - 1))]
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data) - 1)) :]
    else:
        data += draw(st.binary(min_size=1, max_size=8))
    if isinstance(original, str):
        return bytes(data).decode("latin-1")
    return bytes(data)


@SETTINGS
@given(body=bodies, data=st.data())
def test_any_body_mutation_is_rejected(body: bytes, data: st.DataObject) -> None:
    signature = sign_payload(body, SECRET)
    verify_signature(body, signature, SECRET)
    changed = data.draw(mutated(body))
    if changed != body:
        try:
            verify_signature(changed, signature, SECRET)
        except WebhookSignatureError:
            return
        raise AssertionError("a mutated body verified")


@SETTINGS
@given(body=bodies, data=st.data())
def test_any_signature_mutation_is_rejected(body: bytes, data: st.DataObject) -> None:
    signature = sign_payload(body, SECRET)
    changed = data.draw(mutated(signature))
    if changed != signature:
        try:
            verify_signature(body, changed, SECRET)
        except WebhookSignatureError:
            return
        raise AssertionError("a mutated signature verified")


@SETTINGS
@given(body=bodies, other=st.text(min_size=1, max_size=40))
def test_any_other_secret_is_rejected(body: bytes, other: str) -> None:
    if other == SECRET:
        return
    try:
        verify_signature(body, sign_payload(body, SECRET), other)
    except WebhookSignatureError:
        return
    raise AssertionError("a signature verified under another secret")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
field_values = st.one_of(
    json_values,
    st.sampled_from(["2026-01-30T10:40:00Z", "order.paid", "12.50", "pending", "", "NaN", "1e999"]),
)
data_keys = st.sampled_from(
    [
        "order_id",
        "orderId",
        "total_amount",
        "totalAmount",
        "status",
        "paidAt",
        "items",
        "customer",
        "shippingAddress",
        "currency",
        "session_id",
        "unknownField",
    ]
)
near_events = st.fixed_dictionaries(
    {},
    optional={
        "sessionId": field_values,
        "session_id": field_values,
        "event": field_values,
        "timestamp": field_values,
        "raw": field_values,
        "data": st.one_of(field_values, st.dictionaries(data_keys, field_values, max_size=6)),
    },
)


def _parses_or_payload_error(body: bytes) -> None:
    try:
        event = parse_event(body)
    except WebhookPayloadError:
        return
    assert isinstance(event, WebhookEvent)
    assert event.timestamp.tzinfo is not None
    assert isinstance(event.session_id, str)
    assert event.session_id
    if event.data.total_amount is not None:
        assert isinstance(event.data.total_amount, Decimal)


@SETTINGS
@given(value=json_values)
def test_any_json_value_parses_or_raises_payload_error(value: object) -> None:
    _parses_or_payload_error(json.dumps(value).encode())


@SETTINGS
@given(value=near_events)
def test_near_miss_events_parse_or_raise_payload_error(value: dict[str, Any]) -> None:
    _parses_or_payload_error(json.dumps(value).encode())


@SETTINGS
@given(body=st.binary(max_size=200))
def test_any_bytes_parse_or_raise_payload_error(body: bytes) -> None:
    _parses_or_payload_error(body)


@SETTINGS
@given(
    session_id=st.text(min_size=1, max_size=30),
    kind=st.text(min_size=1, max_size=20),
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=2),
    extra=st.dictionaries(st.text(min_size=1, max_size=8).map(lambda k: "x_" + k), json_values),
    camel=st.booleans(),
)
def test_valid_events_round_trip_with_unknown_fields(
    session_id: str, kind: str, amount: Decimal, extra: dict[str, Any], camel: bool
) -> None:
    data = {("totalAmount" if camel else "total_amount"): str(amount), **extra}
    payload = {"sessionId": session_id, "event": kind, "data": data, "timestamp": 1_700_000_000}
    event = parse_event(json.dumps({**payload, **extra}).encode())
    assert event.dedup_key == (session_id, kind)
    assert event.data.total_amount == amount
    assert event.raw["data"] == json.loads(json.dumps(data), parse_float=Decimal)
