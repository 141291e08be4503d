"""Webhook events: typed models, and turning a signed body into a :class:`WebhookEvent`.

One event type for every event, with optional fields: Printora sends the same ``data`` shape
for ``order.created`` … ``order.cancelled``, and documents two spellings of it (the collection's
snake_case ``order_id``/``total_amount``, and the example integration's richer camelCase one with
``items``, ``customer``, ``shippingAddress`` and payment details). Whatever an event does not
carry is ``None``. Unknown fields are ignored by the models but kept in ``WebhookEvent.raw``;
unknown event types and statuses are kept as plain strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import cattrs

from aioprintora._convert import structure
from aioprintora._errors import WebhookPayloadError, hide_secrets
from aioprintora._models import EventType, Model, OrderStatus

from ._signature import check_timestamp, verify_signature

__all__ = [
    "Customer",
    "OrderEventData",
    "OrderItem",
    "ShippingAddress",
    "WebhookEvent",
    "construct_event",
    "parse_event",
]


def _alias(*names: str) -> dict[str, Any]:
    return {"aliases": names}


def _finite(_: object, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
    if value is not None and not value.is_finite():
        raise ValueError(f"{attribute.name} must be a finite amount")


@attrs.frozen
class OrderItem(Model):
    """One line of the order (richer payload only)."""

    product_name: str | None = attrs.field(default=None, metadata=_alias("name"))
    price: Decimal | None = attrs.field(default=None, validator=_finite)
    quantity: int | None = None
    image_url: str | None = None
    variant: str | None = None


@attrs.frozen
class Customer(Model):
    """Who placed the order (richer payload only)."""

    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None


@attrs.frozen
class ShippingAddress(Model):
    """Where the order goes (richer payload only)."""

    street: str | None = None
    apartment: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = attrs.field(default=None, metadata=_alias("zip", "postal_code"))
    country: str | None = None
    first_name: str | None = None
    last_name: str | None = None


@attrs.frozen
class OrderEventData(Model):
    """The order an event is about; every field is optional because the payloads differ."""

    order_id: str | None = attrs.field(default=None, metadata=_alias("id"))
    session_id: str | None = attrs.field(default=None, metadata=_alias("partnershipHistoryId"))
    status: OrderStatus | str | None = None
    total_amount: Decimal | None = attrs.field(
        default=None, validator=_finite, metadata=_alias("amount", "total")
    )
    currency: str | None = None
    order_number: str | None = None
    payment_status: str | None = None
    payment_method: str | None = None
    paid_at: datetime | None = None
    payment_url: str | None = None
    partner_image_url: str | None = None
    items: tuple[OrderItem, ...] = ()
    customer: Customer | None = None
    shipping_address: ShippingAddress | None = None


@attrs.frozen
class WebhookEvent(Model):
    """One verified delivery from Printora.

    Attributes:
        session_id: the partner session the order came from (``sessionId``).
        event_type: the event type (``event`` on the wire); an unknown one stays a ``str``.
        timestamp: when Printora emitted the event (aware datetime).
        data: the order details, in either documented shape.
        raw: the decoded JSON body, unknown fields included (not part of equality).
    """

    session_id: str
    event_type: EventType | str = attrs.field(metadata={"aliases": ("event",), "wire": "event"})
    timestamp: datetime
    data: OrderEventData = attrs.Factory(OrderEventData)
    raw: Mapping[str, Any] = attrs.field(
        factory=dict, eq=False, repr=False, metadata={"serialize": False}
    )

    @property
    def dedup_key(self) -> tuple[str, str]:
        """``(session_id, event_type)``: the unique key of an event, as Printora recommends."""
        return (self.session_id, str(self.event_type))

    @property
    def order_id(self) -> str | None:
        """Shortcut for ``data.order_id``."""
        return self.data.order_id


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(payload: bytes) -> Any:
    """JSON with exact Decimal floats; NaN/Infinity (which json accepts) are refused."""
    try:
        return json.loads(payload, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError:
        raise WebhookPayloadError("malformed JSON body: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError and int-size limits
        raise WebhookPayloadError(f"malformed JSON body: {str(exc)[:200]}") from None


def _format_leaf(exc: BaseException, type_: type | None) -> str:
    """cattrs' wording, plus the validator's own reason when it has one."""
    text = cattrs.v.format_exception(exc, type_)
    # A structure hook's ValueError (e.g. a non-finite amount) says why, like a validator's.
    if str(exc) and (type_ is None or type(exc) is ValueError):
        text += f" ({str(exc)[:80]})"
    return text


def _describe(exc: Exception) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        messages = cattrs.transform_error(exc, path="$", format_exception=_format_leaf)
        return "; ".join(messages)[:300]
    return str(exc)[:300]


def parse_event(payload: bytes | bytearray | memoryview | str | Mapping[str, Any]) -> WebhookEvent:
    """Parse an (already verified) body into a :class:`WebhookEvent`. Does not check signatures.

    Args:
        payload: the raw body, or JSON already decoded with ``parse_float=Decimal``.

    Raises:
        WebhookPayloadError: not JSON, not an object, or no ``sessionId``/``event``/``timestamp``.
    """
    if isinstance(payload, (bytes, bytearray, memoryview, str)):
        body = payload.encode() if isinstance(payload, str) else bytes(payload)
        data = _decode(body)
    else:
        data = payload
    if not isinstance(data, Mapping):
        raise WebhookPayloadError(f"webhook body must be a JSON object, not {type(data).__name__}")
    # "raw" is ours, not a wire field: a body that happens to carry one must not clash with it.
    fields = {key: value for key, value in data.items() if key != "raw"}
    # The first non-empty spelling is the session id; an empty one beside it must not win.
    session = next(
        (fields[k] for k in ("sessionId", "session_id") if _text(fields.get(k))), None
    ) or _session_from_data(fields)
    if session is None:
        raise WebhookPayloadError("webhook body has no 'sessionId' string")
    fields.pop("session_id", None)
    fields["sessionId"] = session
    if not _text(fields.get("event")):
        raise WebhookPayloadError("webhook body has no 'event' string")
    try:
        event = structure(fields, WebhookEvent)
    except Exception as exc:  # cattrs raises many types (ClassValidationError, ValueError, ...)
        raise WebhookPayloadError(f"unreadable webhook event: {_describe(exc)}") from None
    return attrs.evolve(event, raw=data)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _session_from_data(fields: Mapping[str, Any]) -> str | None:
    """The collection's shape repeats the session id inside ``data``; use it if the top lacks it."""
    inner = fields.get("data")
    if isinstance(inner, Mapping):
        for name in ("session_id", "sessionId"):
            value = inner.get(name)
            if isinstance(value, str) and value:
                return value
    return None


def construct_event(
    payload: bytes | bytearray | memoryview,
    signature: str | None,
    secret: str | Sequence[str],
    *,
    tolerance: timedelta | float | None = None,
    now: Callable[[], datetime] | None = None,
) -> WebhookEvent:
    """Verify a delivery's signature, then parse it: the one call a webhook endpoint needs.

    Args:
        payload: the raw request body, exactly as received.
        signature: the ``X-Printora-Signature`` header value (None when absent).
        secret: the webhook secret, or a list of them during rotation.
        tolerance: when set, reject events whose ``timestamp`` is further than this (timedelta
            or seconds) from now, in either direction. Printora's retries resend the original
            body for up to ~4.5 hours, so a shorter tolerance rejects late legitimate retries.
        now: the clock for ``tolerance`` (returns an aware datetime); the system's by default.

    Raises:
        WebhookSignatureError: bad or missing signature (``WebhookTimestampError`` for replay).
        WebhookPayloadError: correctly signed, but not an event we can read.
    """
    hide_secrets(*((secret,) if isinstance(secret, str) else secret))  # out of every error text
    verify_signature(payload, signature, secret)
    event = parse_event(payload)
    if tolerance is not None:
        check_timestamp(event.timestamp, tolerance, now=now)
    return event
