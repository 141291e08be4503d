"""Receiving Printora webhooks: verify, parse, de-duplicate, dispatch.

::

    from aioprintora._errors import WebhookSignatureError
    from aioprintora.webhooks import construct_event

    event = construct_event(body, request.headers.get("X-Printora-Signature"), secret)
    event.session_id, event.event_type, event.timestamp, event.data, event.dedup_key

Ready endpoints: :func:`webhook_handler` (aiohttp, here) and
``aioprintora.webhooks.fastapi_receiver.webhook_router`` (FastAPI, ``aioprintora[fastapi]``).
Duplicate stores: :class:`MemoryDedupStore` (default) and :class:`RedisDedupStore`
(``aioprintora[redis]``; redis itself is only imported by the client you pass it).
"""

from __future__ import annotations

from aioprintora._errors import WebhookPayloadError, WebhookSignatureError
from aioprintora.webhooks._aiohttp_receiver import aiohttp_handler, webhook_app, webhook_handler
from aioprintora.webhooks._dedup import (
    Claim,
    ClaimState,
    DedupStore,
    MemoryDedupStore,
)
from aioprintora.webhooks._events import (
    Customer,
    OrderEventData,
    OrderItem,
    ShippingAddress,
    WebhookEvent,
    construct_event,
    parse_event,
)
from aioprintora.webhooks._receiver import (
    DEFAULT_MAX_BODY_SIZE,
    Outcome,
    WebhookCallback,
    WebhookReceiver,
)
from aioprintora.webhooks._redis_dedup import RedisDedupStore
from aioprintora.webhooks._signature import (
    SIGNATURE_HEADER,
    check_timestamp,
    sign_payload,
    verify_signature,
)
from aioprintora.webhooks._tracker import OrderStatusTracker

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "SIGNATURE_HEADER",
    "Claim",
    "ClaimState",
    "Customer",
    "DedupStore",
    "MemoryDedupStore",
    "OrderEventData",
    "OrderItem",
    "OrderStatusTracker",
    "Outcome",
    "RedisDedupStore",
    "ShippingAddress",
    "WebhookCallback",
    "WebhookEvent",
    "WebhookPayloadError",
    "WebhookReceiver",
    "WebhookSignatureError",
    "aiohttp_handler",
    "check_timestamp",
    "construct_event",
    "parse_event",
    "sign_payload",
    "verify_signature",
    "webhook_app",
    "webhook_handler",
]
