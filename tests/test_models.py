"""The one converter: both key styles, envelopes, drift shapes, open enums, exact money,
aware timestamps, forward compatibility and round-trips (RELIABILITY 14)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioprintora import Order, OrderStatus, Session, SessionToken, WebhookLog, WebhookStatus
from aioprintora._convert import camel, loads, snake, structure, unstructure
from aioprintora._http.sansio import decode_success
from aioprintora.pagination import parse_page

CAMEL_ORDER = {
    "id": "5c1f7e52-3a0e-4a43-8f6f-7c2a4f0e9b11",
    "orderNumber": "PRT-1738234567890-ABC123",
    "status": "paid",
    "totalAmount": 29.99,
    "currency": "USD",
    "source": "partner",
    "partnershipHistoryId": "cc8930e4-0000-4000-8000-000000000001",
    "createdAt": "2026-01-30T10:40:00Z",
    "updatedAt": "2026-01-30T10:45:00.123+02:00",
}
SNAKE_ORDER = {
    "order_id": CAMEL_ORDER["id"],
    "order_number": CAMEL_ORDER["orderNumber"],
    "status": "paid",
    "total_amount": 29.99,
    "currency": "USD",
    "source": "partner",
    "session_id": CAMEL_ORDER["partnershipHistoryId"],
    "created_at": "2026-01-30T10:40:00Z",
    "updated_at": "2026-01-30T08:45:00.123Z",
}


def _wire(obj: dict[str, Any]) -> Any:
    import json

    return loads(json.dumps(obj))


def test_camel_and_snake_keys_decode_to_the_same_order() -> None:
    a, b = structure(_wire(CAMEL_ORDER), Order), structure(_wire(SNAKE_ORDER), Order)
    assert a == b
    assert a.status is OrderStatus.PAID
    assert a.session_id == CAMEL_ORDER["partnershipHistoryId"]


def test_money_is_exact_to_the_json_text() -> None:
    order = structure(
        loads('{"id": "x", "status": "paid", "totalAmount": 0.30000000000000004}'), Order
    )
    assert order.total_amount == Decimal("0.30000000000000004")
    assert (
        structure(loads('{"id": "x", "status": "paid", "totalAmount": 10}'), Order).total_amount
        == 10
    )


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-30T10:40:00Z",
        "2026-01-30T10:40:00+00:00",
        "2026-01-30T10:40:00",
        "2026-01-30T12:40:00+02:00",
    ],
)
@pytest.mark.usefixtures("local_tz")
def test_timestamps_are_aware(text: str) -> None:
    order = structure({"id": "x", "status": "paid", "createdAt": text}, Order)
    assert order.created_at == datetime(2026, 1, 30, 10, 40, tzinfo=timezone.utc)
    assert order.created_at is not None and order.created_at.tzinfo is not None


def test_unknown_fields_are_ignored_and_unknown_statuses_kept() -> None:
    order = structure({**CAMEL_ORDER, "status": "on_hold", "newField": {"x": 1}}, Order)
    assert order.status == "on_hold"
    assert not isinstance(order.status, OrderStatus)
    log = structure({"id": "w", "eventType": "order.refunded", "status": "bouncing"}, WebhookLog)
    assert (log.event_type, log.status) == ("order.refunded", "bouncing")


def test_missing_optional_fields_parse() -> None:
    order = structure({"id": "x", "status": "pending"}, Order)
    assert order.total_amount is None and order.created_at is None


def test_enveloped_and_flat_bodies() -> None:
    enveloped = b'{"success": true, "data": {"sessionId": "s", "redirectUrl": "https://p/e/t"}}'
    flat = b'{"session_id": "s", "redirect_url": "https://p/e/t"}'
    for body in (enveloped, flat):
        data = decode_success(200, body, method="GET", url="/")
        assert structure(data, Session).token == "t"
    token = structure({"isValid": False, "is_completed": True}, SessionToken)
    assert (token.is_valid, token.is_completed) == (False, True)


def test_page_shapes() -> None:
    nested = {
        "orders": [CAMEL_ORDER],
        "pagination": {"total": 3, "limit": 1, "offset": 0, "hasMore": True},
    }
    flat = {"orders": [SNAKE_ORDER], "total": 3, "limit": 1, "offset": 0}
    for body in (nested, flat):
        page = parse_page(_wire(body), "orders", Order, limit=1, offset=0)
        assert page.pagination.has_more and page.pagination.total == 3
        assert len(page) == 1
    bare = parse_page(
        {"logs": [{"id": "w", "eventType": "order.paid", "status": "sent"}]},
        "logs",
        WebhookLog,
        limit=20,
        offset=0,
    )
    assert not bare.pagination.has_more  # one item on a page of 20: the end
    assert bare.items[0].status is WebhookStatus.SENT


def test_key_case_helpers() -> None:
    assert camel("partnership_history_id") == "partnershipHistoryId"
    assert snake("partnershipHistoryId") == "partnership_history_id"


_text = st.text(min_size=1, max_size=20)
_dt = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
)
_orders = st.builds(
    Order,
    id=_text,
    status=st.sampled_from(list(OrderStatus))
    | _text.filter(lambda s: s not in {m.value for m in OrderStatus}),
    order_number=st.none() | _text,
    total_amount=st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=2),
    currency=st.none() | _text,
    source=st.none() | _text,
    session_id=st.none() | _text,
    created_at=st.none() | _dt,
    updated_at=st.none() | _dt,
)


@settings(max_examples=500, deadline=None)
@given(
    order=_orders, extra=st.dictionaries(st.text(min_size=1).map(lambda s: "x" + s), st.integers())
)
def test_round_trip_with_extra_fields(order: Order, extra: dict[str, int]) -> None:
    wire = {**extra, **unstructure(order)}
    assert structure(wire, Order) == order
