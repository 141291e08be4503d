"""Webhook payloads in the two shapes the vendor documents. Pure functions, no I/O.

- ``"example"`` (default): camelCase ``data``, richer, as the vendor's example integration shows.
- ``"collection"``: snake_case ``data``, as the Postman collection's example shows.
"""

from __future__ import annotations

from typing import Any, Literal

from .._models import EventType, OrderStatus
from ._records import OrderRecord
from ._wire import dumps, iso

__all__ = ["PayloadStyle", "build_payload"]

PayloadStyle = Literal["example", "collection"]

#: The order status an event reports (a resent event reports the status it was about).
_STATUS_OF: dict[EventType, OrderStatus] = {
    EventType.ORDER_CREATED: OrderStatus.PENDING,
    EventType.ORDER_PAID: OrderStatus.PAID,
    EventType.ORDER_SHIPPED: OrderStatus.SHIPPED,
    EventType.ORDER_DELIVERED: OrderStatus.DELIVERED,
    EventType.ORDER_CANCELLED: OrderStatus.CANCELLED,
}


def _payment_status(order: OrderRecord, status: OrderStatus) -> str:
    if status is OrderStatus.PENDING:
        return "pending"
    if status is OrderStatus.CANCELLED:
        return "refunded" if order.paid_at is not None else "failed"
    return "paid"


def _example_data(order: OrderRecord, status: OrderStatus) -> dict[str, Any]:
    data: dict[str, Any] = {
        "orderId": order.id,
        "orderNumber": order.order_number,
        "status": status.value,
        "currency": order.currency,
        "totalAmount": order.total_amount,
        "paymentStatus": _payment_status(order, status),
    }
    if order.paid_at is not None and status is not OrderStatus.PENDING:
        data["paymentMethod"] = "card"
        data["paidAt"] = iso(order.paid_at)
    if order.image_url is not None:
        data["partnerImageUrl"] = order.image_url
    item: dict[str, Any] = {
        "productName": "Custom print",
        "price": order.total_amount,
        "quantity": 1,
    }
    if order.image_url is not None:
        item["imageUrl"] = order.image_url
    data["items"] = [item]
    if order.customer:
        data["customer"] = {
            k: order.customer[k] for k in ("email", "firstName", "lastName") if k in order.customer
        }
    return data


def _collection_data(order: OrderRecord, status: OrderStatus) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "session_id": order.session_id,
        "status": status.value,
        "total_amount": order.total_amount,
        "currency": order.currency,
    }


def build_payload(order: OrderRecord, event: EventType, now: float, style: PayloadStyle) -> bytes:
    """The exact body to sign and send for ``event`` about ``order``."""
    status = _STATUS_OF[event]
    data = (
        _collection_data(order, status) if style == "collection" else _example_data(order, status)
    )
    body = {
        "sessionId": order.session_id,
        "event": event.value,
        "data": data,
        "timestamp": iso(now),
    }
    return dumps(body).encode()
