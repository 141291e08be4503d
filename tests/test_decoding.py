"""Page decoding by shape (_http/_shapes.py): the same models as the general path, always."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioprintora import Order, OrderStatus, WebhookLog
from aioprintora._convert import camel, loads, structure, unstructure
from aioprintora._http._shapes import _shape_fn, structure_list
from aioprintora._http.sansio import Undecodable
from aioprintora.resources._base import decode

from .test_models import _orders

#: Every spelling the general path accepts for each Order field.
SPELLINGS: dict[str, tuple[str, ...]] = {
    f.name: (f.name, camel(f.name), *f.metadata.get("aliases", ())) for f in attrs.fields(Order)
}


def _wire(obj: Any) -> Any:
    return loads(json.dumps(obj, default=str))


_spelling = st.fixed_dictionaries({f: st.sampled_from(names) for f, names in SPELLINGS.items()})
# unstructure() writes each field under its wire name (a declared ``wire``, else camelCase).
_FIELD_OF = {f.metadata.get("wire", camel(f.name)): f.name for f in attrs.fields(Order)}


def _spell(order: Order, spelling: dict[str, str], extra: bool) -> dict[str, Any]:
    """The order on the wire, each field under the name ``spelling`` picks for it."""
    wire = {spelling[_FIELD_OF[key]]: value for key, value in unstructure(order).items()}
    if extra:
        wire["xExtra"] = 1
    return _wire(wire)


@settings(max_examples=300, deadline=None)
@given(
    orders=st.lists(_orders, max_size=8),
    spellings=st.lists(_spelling, min_size=8, max_size=8),
    extras=st.lists(st.booleans(), min_size=8, max_size=8),
    uniform=st.booleans(),
)
def test_mixed_spellings_in_one_page_decode_like_the_general_path(
    orders: list[Order], spellings: list[dict[str, str]], extras: list[bool], uniform: bool
) -> None:
    # uniform: one spelling for the page (the generated function serves every item);
    # otherwise each item has its own, and only those spelled like the first use it.
    items = [
        _spell(o, spellings[0] if uniform else spellings[i], extras[0] if uniform else extras[i])
        for i, o in enumerate(orders)
    ]
    decoded = structure_list(items, Order)
    assert decoded == [structure(item, Order) for item in items]
    assert decoded == orders


def test_one_spelling_per_page_uses_one_generated_function() -> None:
    items = [_wire({"id": f"o{i}", "status": "paid", "totalAmount": 1.10}) for i in range(3)]
    orders = structure_list(items, Order)
    assert [o.id for o in orders] == ["o0", "o1", "o2"]
    assert orders[0].total_amount == Decimal("1.10")
    assert _shape_fn(Order, tuple(items[0])) is not None


def test_items_of_another_shape_fall_back_per_item() -> None:
    items = _wire(
        [
            {"id": "a", "status": "paid", "createdAt": "2026-01-30T10:40:00Z"},
            {"order_id": "b", "status": "refunded", "created_at": "2026-01-30T10:40:00"},
            {"id": "c", "status": "paid", "createdAt": 1769769600},  # a unix time
            {"id": "d", "status": "paid", "sessionId": "s"},  # same length, an alias of its own
        ]
    )
    orders = structure_list(items, Order)
    assert [o.id for o in orders] == ["a", "b", "c", "d"]
    assert orders[1].status == "refunded"  # unknown status kept as a str
    assert orders[1].created_at == datetime(2026, 1, 30, 10, 40, tzinfo=timezone.utc)
    assert orders[2].created_at == datetime(2026, 1, 30, 10, 40, tzinfo=timezone.utc)
    assert orders[3].session_id == "s"
    assert orders == [structure(i, Order) for i in items]


def test_values_of_other_types_are_converted_as_the_converter_does() -> None:
    items = _wire([{"id": 7, "status": "paid", "totalAmount": "12.50"}] * 2)
    orders = structure_list(items, Order)
    assert orders[0].id == "7"
    assert orders[0].total_amount == Decimal("12.50")
    assert orders[0].status is OrderStatus.PAID


def test_datetimes_on_the_fast_path_match_the_general_path() -> None:
    # Same shape for every item, so each goes through one generated function (or, for text
    # fromisoformat refuses, falls back to the general path for that item alone).
    texts = [
        ("2026-01-30T10:40:00Z", "2026-01-30T10:40:00Z"),  # updatedAt is createdAt: reused
        ("2026-01-30T10:40:00Z", "2026-01-31T08:00:00.500+02:00"),
        (None, "2026-01-30T10:40:00"),  # naive: UTC
        ("2026-01-30T10:40:00", None),
        (" 2026-01-30T10:40:00Z ", "2026-01-30T10:40:00z"),  # only the general path reads these
    ]
    items = _wire(
        [
            {"id": f"o{i}", "status": "paid", "createdAt": c, "updatedAt": u}
            for i, (c, u) in enumerate(texts)
        ]
    )
    orders = structure_list(items, Order)
    assert orders == [structure(item, Order) for item in items]
    utc = datetime(2026, 1, 30, 10, 40, tzinfo=timezone.utc)
    assert orders[0].created_at == orders[0].updated_at == utc
    assert orders[1].updated_at == datetime(2026, 1, 31, 6, 0, 0, 500000, tzinfo=timezone.utc)
    assert orders[2].created_at is None and orders[2].updated_at == utc
    assert orders[3].created_at == utc and orders[3].updated_at is None
    assert orders[4].created_at == orders[4].updated_at == utc
    assert all(o.created_at is None or o.created_at.tzinfo is not None for o in orders)


def test_amounts_as_text_and_numbers_on_the_fast_path() -> None:
    amounts = ["12.50", "12.50", "0", "1E+3", "-0.01"]
    items = _wire(
        [{"id": f"o{i}", "status": "paid", "totalAmount": a} for i, a in enumerate(amounts)]
    )
    orders = structure_list(items, Order)
    assert [o.total_amount for o in orders] == [Decimal(a) for a in amounts]
    assert str(orders[0].total_amount) == "12.50"  # exact to the text, trailing zero kept
    assert orders == [structure(item, Order) for item in items]
    numbers = loads(b'[{"id": "n", "status": "paid", "totalAmount": 19.90}]')
    assert str(structure_list(numbers, Order)[0].total_amount) == "19.90"


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1e5000", "12,50", ""])
def test_amount_texts_that_are_no_amount_fail_the_page(amount: str) -> None:
    items = _wire([{"id": "a", "status": "paid", "totalAmount": "1.00"}] * 2)
    items.append({"id": "b", "status": "paid", "totalAmount": amount})
    # The client tells it as a MalformedResponseError with the answer (tests/test_decode_errors).
    with pytest.raises(Undecodable):
        decode(items, lambda d: structure_list(d, Order))


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "b", "status": None},
        {"id": "b", "status": "paid", "createdAt": "yesterday"},
        {"id": "b", "status": "paid", "totalAmount": "lots"},
        {"status": "paid", "currency": "USD"},  # no id at all
    ],
)
def test_a_bad_item_anywhere_fails_the_whole_page(bad: dict[str, Any]) -> None:
    items = _wire([{"id": "a", "status": "paid", "currency": "USD"}, bad])
    # The client tells it as a MalformedResponseError with the answer (tests/test_decode_errors).
    with pytest.raises(Undecodable):
        decode(items, lambda d: structure_list(d, Order))


def test_camel_and_snake_of_one_field_in_one_item_are_left_to_the_general_path() -> None:
    item = _wire({"id": "a", "status": "paid", "orderNumber": "N1", "order_number": "N2"})
    assert _shape_fn(Order, tuple(item)) is None
    assert structure_list([item, item], Order) == [structure(item, Order)] * 2


def test_webhook_logs_decode_by_shape_too() -> None:
    wire = {
        "id": "w1",
        "eventType": "order.paid",
        "status": "sent",
        "httpStatusCode": 200,
        "attemptCount": 2,
        "responseData": {"ok": True},
        "createdAt": "2026-01-30T10:40:00+02:00",
    }
    items = _wire([wire, {**wire, "id": "w2", "eventType": "order.weird"}])
    logs = structure_list(items, WebhookLog)
    assert logs == [structure(i, WebhookLog) for i in items]
    assert logs[1].event_type == "order.weird"
    assert logs[0].created_at is not None and logs[0].created_at.utcoffset() is not None
