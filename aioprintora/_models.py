"""Typed models of the Partner API's resources: frozen, slotted attrs classes.

Attributes are snake_case; the wire's camelCase (and the spec's [drift] spellings) are handled by
the one converter in :mod:`aioprintora._convert`. Status fields are typed ``Enum | str``: a status
the SDK does not know yet arrives as a plain string instead of failing the whole response.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

__all__ = [
    "EventType",
    "Order",
    "OrderStatus",
    "Page",
    "Pagination",
    "Session",
    "SessionStatus",
    "SessionToken",
    "UserData",
    "WebhookDelivery",
    "WebhookLog",
    "WebhookStatus",
]

T = TypeVar("T")


class _StrEnum(str, enum.Enum):
    """A str enum whose ``str()`` is its value (``enum.StrEnum`` is 3.11+)."""

    def __str__(self) -> str:
        return str(self.value)


class OrderStatus(_StrEnum):
    """Where an order is in its life."""

    PENDING = "pending"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class SessionStatus(_StrEnum):
    """Where a partner session is in its life."""

    PENDING = "pending"
    ACTIVE = "active"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class WebhookStatus(_StrEnum):
    """Delivery state of one webhook log entry."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    RETRYING = "retrying"


class EventType(_StrEnum):
    """The webhook events Printora sends."""

    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_SHIPPED = "order.shipped"
    ORDER_DELIVERED = "order.delivered"
    ORDER_CANCELLED = "order.cancelled"


#: The events ``webhook_logs.resend`` accepts: the spec lists four, ``order.cancelled`` is not
#: among them (here, not in the resource, so the command line offers them without loading it).
RESENDABLE_EVENTS = frozenset({"order.created", "order.paid", "order.shipped", "order.delivered"})


def _alias(*names: str) -> dict[str, Any]:
    return {"aliases": names}


# A reference to a partner session: ``session_id`` in Python, whatever the wire calls it.
_SESSION_REF = {
    "aliases": ("partnershipHistoryId", "partnership_history_id"),
    "wire": "partnershipHistoryId",
}


class Model:
    """What every model can do besides holding its fields: turn itself into JSON-safe data."""

    __slots__ = ()

    def to_dict(self, *, wire: bool = False) -> dict[str, Any]:
        """The model as JSON-safe data: ``Decimal`` as a string, datetimes in ISO 8601, enums
        as their values, nested models as dicts.

        Args:
            wire: the API's camelCase keys (optional fields that are ``None`` left out, as the
                API does) instead of every field under its snake_case name.
        """
        from ._convert import to_dict

        return to_dict(self, wire=wire)

    def to_json(self, *, wire: bool = False, indent: int | None = None) -> str:
        """:meth:`to_dict` as a JSON document."""
        import json

        return json.dumps(self.to_dict(wire=wire), indent=indent, ensure_ascii=False)


@attrs.frozen
class UserData(Model):
    """Customer details that pre-fill Printora's checkout (all optional)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None


@attrs.frozen
class Session(Model):
    """A partner session: where to send the customer, and what it was created for."""

    id: str = attrs.field(metadata={"aliases": ("session_id", "sessionId"), "wire": "sessionId"})
    redirect_url: str | None = None
    image_url: str | None = None
    created_at: datetime | None = None
    status: SessionStatus | str | None = None
    success_url: str | None = None
    failed_url: str | None = None
    expires_at: datetime | None = None
    creator_id: str | None = None
    merch_id: str | None = None
    variant_id: str | None = None
    quantity: int | None = None
    user_data: UserData | None = None
    order_id: str | None = None

    @property
    def token(self) -> str | None:
        """The session token: the last path segment of ``redirect_url``."""
        if not self.redirect_url:
            return None
        return self.redirect_url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or None


@attrs.frozen
class SessionToken(Model):
    """Whether a session token can still be used (one token = one order)."""

    is_valid: bool
    is_completed: bool = False
    session_id: str | None = None
    status: SessionStatus | str | None = None
    expires_at: datetime | None = None


@attrs.frozen
class Order(Model):
    """An order placed by a customer through a partner session."""

    id: str = attrs.field(metadata=_alias("order_id", "orderId"))
    status: OrderStatus | str
    order_number: str | None = None
    total_amount: Decimal | None = None
    currency: str | None = None
    source: str | None = None
    #: The partner session the order came from (the API calls it ``partnershipHistoryId``).
    session_id: str | None = attrs.field(default=None, metadata=_SESSION_REF)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class WebhookLog(Model):
    """One webhook delivery, with its attempts so far."""

    id: str = attrs.field(metadata=_alias("webhook_log_id", "webhookLogId"))
    event_type: EventType | str
    status: WebhookStatus | str
    #: The HTTP status your endpoint answered the last attempt with (``httpStatusCode``).
    status_code: int | None = attrs.field(
        default=None,
        metadata={"aliases": ("httpStatusCode", "http_status_code"), "wire": "httpStatusCode"},
    )
    attempt_count: int = 0
    last_attempt_at: datetime | None = None
    next_retry_at: datetime | None = None
    response_data: dict[str, Any] | None = None
    error_message: str | None = None
    order_id: str | None = None
    session_id: str | None = attrs.field(default=None, metadata=_SESSION_REF)
    created_at: datetime | None = None


@attrs.frozen
class WebhookDelivery(Model):
    """The answer to a resend or retry: which log entry, and its state."""

    webhook_log_id: str = attrs.field(metadata=_alias("id"))
    event_type: EventType | str | None = None
    status: WebhookStatus | str | None = None
    message: str | None = None


@attrs.frozen
class Pagination(Model):
    """Where a page sits in the whole listing."""

    total: int
    limit: int
    offset: int
    has_more: bool
    #: False when the server sent no ``total`` and ``total`` is our lower bound.
    total_reported: bool = True


@attrs.frozen
class Page(Model, Generic[T]):
    """One page of a listing: ``for item in page``, ``len(page)``, and the page after it.

    ``await page.next_page()`` asks for the following offset as it is, for a request handler
    walking pages by hand; it does no drift guarding (``iter()`` and ``pages()`` do).
    """

    items: list[T]
    pagination: Pagination
    _fetch_offset: Callable[[int], Awaitable[Page[T]]] | None = attrs.field(
        default=None, eq=False, repr=False, alias="fetch_offset", metadata={"serialize": False}
    )

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def has_next_page(self) -> bool:
        """Whether the server says (or a full page suggests) that more items follow."""
        return bool(self.items) and self.pagination.has_more and self._fetch_offset is not None

    async def next_page(self) -> Page[T] | None:
        """The next page (same filters and page size), or ``None`` when there is none."""
        if not self.has_next_page():
            return None
        assert self._fetch_offset is not None
        return await self._fetch_offset(self.pagination.offset + len(self.items))
