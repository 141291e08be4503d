"""Every model survives unstructure → JSON → structure unchanged (RELIABILITY 14).

The strategies are derived from the models' own type hints, so a field added to a model is
generated here without anyone remembering to: only the scalar kinds are spelt out.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioprintora import Order, Session, SessionToken, WebhookDelivery, WebhookLog
from aioprintora._convert import loads, structure, unstructure
from aioprintora._http.sansio import dumps
from aioprintora.webhooks import WebhookEvent, parse_event

_text = st.text(min_size=1, max_size=12)
_json_scalar = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
_SCALARS: dict[Any, st.SearchStrategy[Any]] = {
    str: _text,
    int: st.integers(-(2**31), 2**31),
    bool: st.booleans(),
    # Aware, whole microseconds, in the range the API uses.
    datetime: st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(timezone.utc),
    ),
    Decimal: st.decimals(allow_nan=False, allow_infinity=False, places=2),
    dict[str, Any]: st.dictionaries(st.text(max_size=8), _json_scalar, max_size=3),
}


def strategy_for(hint: Any) -> st.SearchStrategy[Any]:
    """Values of a model field's type; enums also as unknown strings (kept as plain str)."""
    if hint in _SCALARS:
        return _SCALARS[hint]
    if hint is type(None):
        return st.none()
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        enums = [a for a in args if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums and str in args:
            (kind,) = enums
            known = {m.value for m in kind}
            unknown = _text.filter(lambda s: s not in known)
            rest = [strategy_for(a) for a in args if a not in (kind, str)]
            return st.one_of(st.sampled_from(list(kind)), unknown, *rest)
        return st.one_of(*(strategy_for(a) for a in args))
    if origin is tuple:
        (item, _ellipsis) = typing.get_args(hint)
        return st.lists(strategy_for(item), max_size=3).map(tuple)
    if attrs.has(hint):
        return model(hint)
    raise TypeError(f"no strategy for {hint!r}: add it to _SCALARS")


def model(cls: type) -> st.SearchStrategy[Any]:
    """Instances of an attrs model, every field drawn from its type hint."""
    hints = typing.get_type_hints(cls)
    # WebhookEvent.raw is the decoded body, not a model field.
    fields = {f.name: strategy_for(hints[f.name]) for f in attrs.fields(cls) if f.init and f.eq}
    return st.builds(cls, **fields)


def _wire(instance: Any) -> bytes:
    """What a server would send: the unstructured model as JSON bytes."""
    return dumps(unstructure(instance))


API_MODELS = [Order, Session, SessionToken, WebhookLog, WebhookDelivery]
EXTRA = st.dictionaries(st.text(min_size=1, max_size=8).map(lambda s: "x" + s), _json_scalar)


@pytest.mark.parametrize("cls", API_MODELS, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_api_models_round_trip_through_json(cls: type, data: st.DataObject) -> None:
    instance = data.draw(model(cls))
    extra = data.draw(EXTRA)  # fields a newer server sends are ignored, not fatal
    wire = {**extra, **json.loads(_wire(instance))}
    assert structure(loads(dumps(wire)), cls) == instance


@settings(max_examples=60, deadline=None)
@given(
    event=model(WebhookEvent).filter(lambda e: e.session_id.strip() and str(e.event_type).strip())
)
def test_webhook_events_round_trip_through_a_signed_body(event: WebhookEvent) -> None:
    body = _wire(event)
    parsed = parse_event(body)
    assert parsed == event
    assert parsed.raw == json.loads(body, parse_float=Decimal)  # unknown fields stay readable


def test_a_session_s_expiry_round_trips_as_an_aware_datetime() -> None:
    # One example, no search: the property test above finds a wrong field type too, but its
    # shrinking can take a minute from a cold example database.
    expires = datetime(2026, 1, 31, 10, 15, tzinfo=timezone.utc)
    session = Session(id="0b9c3f3e-5a55-4c43-9d2b-9f1a3c1f0a11", expires_at=expires)
    again = structure(loads(_wire(session)), Session)
    assert again == session
    assert again.expires_at == expires and isinstance(again.expires_at, datetime)
