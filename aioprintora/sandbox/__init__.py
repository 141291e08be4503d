"""A stateful local Printora Partner API for tests, demos and offline development.

::

    from aioprintora.sandbox import Sandbox

    async with Sandbox() as sb:
        sb.base_url, sb.api_key, sb.webhook_secret
"""

from __future__ import annotations

import typing

from .._lazy import exports as _exports

# Resolved on first use (PEP 562): the pytest plugin in this package is imported by every pytest
# run in an environment that has aioprintora, and should not pay for aiohttp.web there.
if typing.TYPE_CHECKING:
    from ._controls import openapi_document
    from ._middleware import RequestRecord
    from ._records import OrderRecord, SessionRecord, WebhookLogRecord
    from ._server import DEFAULT_RATE_LIMITS, Sandbox
    from ._state import Partner

_HOMES: dict[str, str] = {
    "DEFAULT_RATE_LIMITS": "_server",
    "OrderRecord": "_records",
    "Partner": "_state",
    "RequestRecord": "_middleware",
    "Sandbox": "_server",
    "SessionRecord": "_records",
    "WebhookLogRecord": "_records",
    "openapi_document": "_controls",
}


__getattr__, __dir__ = _exports(__name__, _HOMES, globals())

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "OrderRecord",
    "Partner",
    "RequestRecord",
    "Sandbox",
    "SessionRecord",
    "WebhookLogRecord",
    "openapi_document",
]
