"""parse_event / construct_event: both documented payload shapes, drift, and clear errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from aioprintora._errors import WebhookTimestampError
from aioprintora._models import EventType, OrderStatus
from aioprintora.webhooks import (
    WebhookEvent,
    WebhookPayloadError,
    WebhookSignatureError,
    construct_event,
    parse_event,
    sign_payload,
)

from .conftest import COLLECTION_EVENT, EXAMPLE_EVENT, SECRET


def _body(payload: object) -> bytes:
    return json.dumps(payload).encode()


def test_collection_shape_snake_case() -> None:
    event = parse_event(_body(COLLECTION_EVENT))
    assert event.session_id == "cc8930e4-621a-4b6e-9d3c-0a1b2c3d4e5f"
    assert event.event_type is EventType.ORDER_CREATED
    assert event.timestamp == datetime(2026, 1, 30, 10, 40, tzinfo=timezone.utc)
    assert event.timestamp.tzinfo is not None
    assert event.data.order_id == event.order_id == "ord_abc123"
    assert event.data.session_id == "sess_x1y2z3"
    assert event.data.status == OrderStatus.PENDING
    assert event.data.total_amount == Decimal("29.99")
    assert isinstance(event.data.total_amount, Decimal)
    assert event.data.currency == "USD"
    assert event.dedup_key == ("cc8930e4-621a-4b6e-9d3c-0a1b2c3d4e5f", "order.created")


def test_example_shape_camel_case_with_details() -> None:
    event = parse_event(_body(EXAMPLE_EVENT))
    data = event.data
    assert event.event_type is EventType.ORDER_PAID
    assert data.order_id == "84a3e710-c532-4d09-9b89-e41e80337eab"
    assert data.total_amount == Decimal("59.98")
    assert data.payment_status == "paid"
    assert data.payment_method == "card"
    assert data.paid_at == datetime(2026, 1, 30, 10, 45, tzinfo=timezone.utc)
    assert data.partner_image_url == "https://partner.example/design.png"
    (item,) = data.items
    assert (item.product_name, item.price, item.quantity) == ("T-shirt", Decimal("29.99"), 2)
    assert data.customer is not None
    assert data.customer.email == "ada@example.com"
    assert data.shipping_address is not None
    assert data.shipping_address.zip_code == "12700"
    # Unknown fields are not modelled, but nothing is lost.
    assert event.raw["data"]["somethingNew"] == {"nested": True}


def test_money_is_exact_decimal_from_the_json_text() -> None:
    payload = {**COLLECTION_EVENT, "data": {"total_amount": 0.1}}
    assert parse_event(_body(payload)).data.total_amount == Decimal("0.1")
    payload = {**COLLECTION_EVENT, "data": {"totalAmount": "12.30"}}
    assert str(parse_event(_body(payload)).data.total_amount) == "12.30"


def test_unknown_event_type_and_status_are_kept_as_strings() -> None:
    payload = {**COLLECTION_EVENT, "event": "order.refunded", "data": {"status": "on_hold"}}
    event = parse_event(_body(payload))
    assert event.event_type == "order.refunded"
    assert not isinstance(event.event_type, EventType)
    assert event.data.status == "on_hold"
    assert event.dedup_key[1] == "order.refunded"


def test_session_id_falls_back_to_the_one_inside_data() -> None:
    payload = {k: v for k, v in COLLECTION_EVENT.items() if k != "sessionId"}
    assert parse_event(_body(payload)).session_id == "sess_x1y2z3"
    payload["session_id"] = "top-level-snake"
    assert parse_event(_body(payload)).session_id == "top-level-snake"


def test_missing_data_and_a_wire_field_named_raw_are_fine() -> None:
    event = parse_event(
        _body({"sessionId": "s", "event": "order.shipped", "timestamp": 0, "raw": 1})
    )
    assert event.data.order_id is None
    assert event.timestamp == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert event.raw["raw"] == 1


@pytest.mark.usefixtures("local_tz")
def test_naive_timestamp_is_taken_as_utc() -> None:
    event = parse_event(_body({**COLLECTION_EVENT, "timestamp": "2026-01-30T10:40:00"}))
    assert event.timestamp.utcoffset() == timedelta(0)
    # The same instant, not local 10:40 converted to UTC.
    assert event.timestamp == datetime(2026, 1, 30, 10, 40, tzinfo=timezone.utc)


def test_parse_accepts_text_and_decoded_mappings() -> None:
    as_bytes = parse_event(_body(COLLECTION_EVENT))
    assert parse_event(json.dumps(COLLECTION_EVENT)) == as_bytes
    assert isinstance(parse_event(dict(COLLECTION_EVENT)), WebhookEvent)


def test_event_is_frozen_and_hashable() -> None:
    event = parse_event(_body(EXAMPLE_EVENT))
    with pytest.raises(AttributeError):
        event.session_id = "other"  # type: ignore[misc]
    assert hash(event) == hash(parse_event(_body(EXAMPLE_EVENT)))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "malformed JSON body"),
        (b"{", "malformed JSON body"),
        (b"\xff\xfe", "malformed JSON body"),
        (b'{"total": NaN}', "NaN is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON|nested too deeply"),
        (b"[]", "must be a JSON object, not list"),
        (b'"text"', "must be a JSON object, not str"),
        (b'{"event": "order.paid", "timestamp": "2026-01-30T10:40:00Z"}', "no 'sessionId'"),
        (b'{"sessionId": 5, "event": "order.paid"}', "no 'sessionId'"),
        (b'{"sessionId": "s", "timestamp": "2026-01-30T10:40:00Z"}', "no 'event'"),
        (b'{"sessionId": "s", "event": "order.paid"}', "timestamp"),
        (b'{"sessionId": "s", "event": "order.paid", "timestamp": "yesterday"}', "timestamp"),
        (b'{"sessionId": "s", "event": "e", "timestamp": 0, "data": []}', "data"),
        (
            b'{"sessionId": "s", "event": "e", "timestamp": 0, "data": {"totalAmount": "ten"}}',
            "total_amount",
        ),
        (
            b'{"sessionId": "s", "event": "e", "timestamp": 0, "data": {"totalAmount": "Inf"}}',
            "finite",
        ),
    ],
)
def test_malformed_bodies_raise_payload_error(body: bytes, message: str) -> None:
    with pytest.raises(WebhookPayloadError, match=message) as info:
        parse_event(body)
    assert info.value.__cause__ is None  # no bare JSONDecodeError/cattrs error leaks through


def test_construct_event_verifies_before_parsing() -> None:
    garbage = b"not json at all"
    with pytest.raises(WebhookSignatureError):
        construct_event(garbage, "sha256=" + "0" * 64, SECRET)
    with pytest.raises(WebhookPayloadError):
        construct_event(garbage, sign_payload(garbage, SECRET), SECRET)
    body = _body(COLLECTION_EVENT)
    assert construct_event(body, sign_payload(body, SECRET), SECRET).order_id == "ord_abc123"


def test_construct_event_replay_window() -> None:
    body = _body(COLLECTION_EVENT)
    sig = sign_payload(body, SECRET)
    sent = datetime(2026, 1, 30, 10, 40, tzinfo=timezone.utc)
    event = construct_event(
        body, sig, SECRET, tolerance=60, now=lambda: sent + timedelta(seconds=59)
    )
    assert event.event_type is EventType.ORDER_CREATED
    with pytest.raises(WebhookTimestampError, match="old"):
        construct_event(body, sig, SECRET, tolerance=60, now=lambda: sent + timedelta(minutes=2))
    with pytest.raises(WebhookTimestampError, match="future"):
        construct_event(body, sig, SECRET, tolerance=60, now=lambda: sent - timedelta(minutes=2))
    # Off by default: a years-old event still parses.
    assert construct_event(body, sig, SECRET).timestamp == sent


def test_an_empty_spelling_beside_a_real_session_id_does_not_win() -> None:
    # Found by the near-miss property test: {"session_id": "x", "sessionId": ""} gave ''.
    for payload in (
        {
            "session_id": "x",
            "sessionId": "",
            "event": "order.paid",
            "timestamp": "2026-01-30T10:40:00Z",
        },
        {
            "sessionId": "x",
            "session_id": "",
            "event": "order.paid",
            "timestamp": "2026-01-30T10:40:00Z",
        },
    ):
        assert parse_event(json.dumps(payload).encode()).session_id == "x"
