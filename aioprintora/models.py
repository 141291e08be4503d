"""Typed models of the Partner API's resources: frozen, slotted attrs classes.

Attributes are snake_case; the wire's camelCase (and the spec's [drift] spellings) are handled by
the one converter in :mod:`aioprintora._convert`. Status fields are typed ``Enum | str``: a status
the SDK does not know yet arrives as a plain string instead of failing the whole response.
"""

from __future__ import annotations

import enum
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


def _alias(*names: str) -> dict[str, Any]:
    return {"aliases": names}


@attrs.frozen
class UserData:
    """Customer details that pre-fill Printora's checkout (all optional)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None


@attrs.frozen
class Session:
    """A partner session: where to send the customer, and what it was created for."""

    session_id: str = attrs.field(metadata=_alias("id"))
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
class SessionToken:
    """Whether a session token can still be used (one token = one order)."""

    is_valid: bool
    is_completed: bool = False
    session_id: str | None = None
    status: SessionStatus | str | None = None
    expires_at: datetime | None = None


@attrs.frozen
class Order:
    """An order placed by a customer through a partner session."""

    id: str = attrs.field(metadata=_alias("order_id", "orderId"))
    status: OrderStatus | str
    order_number: str | None = None
    total_amount: Decimal | None = None
    currency: str | None = None
    source: str | None = None
    partnership_history_id: str | None = attrs.field(
        default=None, metadata=_alias("session_id", "sessionId")
    )
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def session_id(self) -> str | None:
        """The partner session the order came from (the API calls it partnershipHistoryId)."""
        return self.partnership_history_id


@attrs.frozen
class WebhookLog:
    """One webhook delivery, with its attempts so far."""

    id: str = attrs.field(metadata=_alias("webhook_log_id", "webhookLogId"))
    event_type: EventType | str
    status: WebhookStatus | str
    http_status_code: int | None = None
    attempt_count: int = 0
    last_attempt_at: datetime | None = None
    next_retry_at: datetime | None = None
    response_data: dict[str, Any] | None = None
    error_message: str | None = None
    order_id: str | None = None
    partnership_history_id: str | None = attrs.field(
        default=None, metadata=_alias("session_id", "sessionId")
    )
    created_at: datetime | None = None


@attrs.frozen
class WebhookDelivery:
    """The answer to a resend or retry: which log entry, and its state."""

    webhook_log_id: str = attrs.field(metadata=_alias("id"))
    event_type: EventType | str | None = None
    status: WebhookStatus | str | None = None
    message: str | None = None


@attrs.frozen
class Pagination:
    """Where a page sits in the whole listing."""

    total: int
    limit: int
    offset: int
    has_more: bool
    #: False when the server sent no ``total`` and ``total`` is our lower bound.
    total_reported: bool = True


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing: ``items`` and its ``pagination``."""

    items: list[T]
    pagination: Pagination

    def __len__(self) -> int:
        return len(self.items)
