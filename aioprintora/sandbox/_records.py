"""The sandbox's mutable records and their wire (camelCase JSON) forms.

Pure data, no I/O. Records also answer ``record["camelKey"]`` so tests may treat them as dicts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from .._models import EventType, OrderStatus, SessionStatus, WebhookStatus
from ._wire import dumps, iso

__all__ = ["LINK_TTL", "SESSION_TTL", "OrderRecord", "SessionRecord", "WebhookLogRecord"]

#: The redirect link works 15 minutes from creation; a session lives 24 h after its first opening.
LINK_TTL = 15 * 60.0
SESSION_TTL = 24 * 3600.0


class _Wire:
    """Dict-style read access to the wire form."""

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]


@attrs.define(eq=False)
class SessionRecord:
    """A partner session and where its customer got to."""

    session_id: str
    token: str
    partner_id: str
    redirect_url: str
    created_at: float
    image_url: str | None = None
    success_url: str | None = None
    failed_url: str | None = None
    user_data: dict[str, Any] | None = None
    creator_id: str | None = None
    merch_id: str | None = None
    variant_id: str | None = None
    quantity: int | None = None
    opened_at: float | None = None
    order_id: str | None = None
    cancelled_at: float | None = None

    def status(self, now: float) -> SessionStatus:
        """The status at time ``now``: pending → active → completed, or expired / cancelled."""
        if self.order_id is not None:
            return SessionStatus.COMPLETED
        if self.cancelled_at is not None:
            return SessionStatus.CANCELLED
        if now >= self.expires_at():
            return SessionStatus.EXPIRED
        return SessionStatus.ACTIVE if self.opened_at is not None else SessionStatus.PENDING

    def expires_at(self) -> float:
        """When the link (before opening) or the session (after) stops working."""
        if self.opened_at is not None:
            return self.opened_at + SESSION_TTL
        return self.created_at + LINK_TTL

    def created_view(self) -> dict[str, Any]:
        """The ``data`` of the create-session answer."""
        # imageUrl is always there (null for creator and merch sessions), as the reference lists it.
        return {
            "sessionId": self.session_id,
            "redirectUrl": self.redirect_url,
            "imageUrl": self.image_url,
            "createdAt": iso(self.created_at),
        }

    def detail_view(self, now: float) -> dict[str, Any]:
        """The ``data`` of GET /partner-session/{sessionId}."""
        data = self.created_view()
        data["status"] = self.status(now).value
        data["successUrl"] = self.success_url
        data["failedUrl"] = self.failed_url
        data["expiresAt"] = iso(self.expires_at())
        optional = {
            "userData": self.user_data,
            "creatorId": self.creator_id,
            "merchId": self.merch_id,
            "variantId": self.variant_id,
            "quantity": self.quantity,
            "orderId": self.order_id,
        }
        data.update((k, v) for k, v in optional.items() if v is not None)
        return data

    def token_view(self, now: float) -> dict[str, Any]:
        """The ``data`` of GET /partner-session/by-token/{token}."""
        status = self.status(now)
        return {
            "isValid": status in (SessionStatus.PENDING, SessionStatus.ACTIVE),
            "isCompleted": status is SessionStatus.COMPLETED,
            "sessionId": self.session_id,
            "status": status.value,
            "expiresAt": iso(self.expires_at()),
        }


@attrs.define(eq=False)
class OrderRecord(_Wire):
    """An order, as the listing shows it, plus what webhook payloads need."""

    id: str
    partner_id: str
    session_id: str
    order_number: str
    status: OrderStatus
    total_amount: Decimal
    created_at: float
    updated_at: float
    seq: int
    currency: str = "USD"
    paid_at: float | None = None
    image_url: str | None = None
    customer: dict[str, Any] | None = None
    #: Every status the order has been in, with the time it got there, oldest first.
    history: list[tuple[OrderStatus, float]] = attrs.field(factory=list, repr=False)
    # The serialised order, kept until it changes: listing 100 orders is then a string join.
    _json: str | None = attrs.field(default=None, init=False, repr=False)

    @property
    def key(self) -> tuple[float, int]:
        """The listing key: newest first by ``createdAt``, ties by creation sequence."""
        return (self.created_at, self.seq)

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text (cached; :meth:`touch` drops the cache)."""
        if self._json is None:
            self._json = dumps(self.to_dict())
        return self._json

    def touch(self) -> None:
        """Forget the cached JSON after a change."""
        self._json = None

    def to_dict(self) -> dict[str, Any]:
        """The order as GET /partners/orders lists it."""
        return {
            "id": self.id,
            "orderNumber": self.order_number,
            "status": self.status.value,
            "totalAmount": self.total_amount,
            "currency": self.currency,
            "source": "partner",
            "partnershipHistoryId": self.session_id,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        }


@attrs.define(eq=False)
class WebhookLogRecord(_Wire):
    """One webhook delivery and its attempts; ``payload`` is the exact signed body."""

    id: str
    partner_id: str
    event_type: EventType
    order_id: str
    session_id: str
    created_at: float
    seq: int
    payload: bytes = attrs.field(repr=False)
    status: WebhookStatus = WebhookStatus.PENDING
    http_status_code: int | None = None
    attempt_count: int = 0
    auto_retries: int = 0
    last_attempt_at: float | None = None
    next_retry_at: float | None = None
    response_data: dict[str, Any] | None = None
    error_message: str | None = None

    @property
    def key(self) -> tuple[float, int]:
        """The listing key."""
        return (self.created_at, self.seq)

    @property
    def tags(self) -> tuple[Any, ...]:
        """The filter values this log is listed under."""
        return (self.status, self.event_type, (self.status, self.event_type))

    def to_dict(self) -> dict[str, Any]:
        """The log entry as GET /partners/webhook-logs lists it."""
        return {
            "id": self.id,
            "eventType": self.event_type.value,
            "status": self.status.value,
            "httpStatusCode": self.http_status_code,
            "attemptCount": self.attempt_count,
            "lastAttemptAt": None if self.last_attempt_at is None else iso(self.last_attempt_at),
            "nextRetryAt": None if self.next_retry_at is None else iso(self.next_retry_at),
            "responseData": self.response_data,
            "errorMessage": self.error_message,
            "orderId": self.order_id,
            "partnershipHistoryId": self.session_id,
            "createdAt": iso(self.created_at),
        }
