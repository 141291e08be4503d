"""A stateful local Printora Partner API for tests, demos and offline development.

::

    from aioprintora.sandbox import Sandbox

    async with Sandbox() as sb:
        sb.base_url, sb.api_key, sb.webhook_secret
"""

from __future__ import annotations

from .records import OrderRecord, SessionRecord, WebhookLogRecord
from .server import DEFAULT_RATE_LIMITS, Sandbox
from .state import Partner

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "OrderRecord",
    "Partner",
    "Sandbox",
    "SessionRecord",
    "WebhookLogRecord",
]
