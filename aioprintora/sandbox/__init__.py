"""A stateful local Printora Partner API for tests, demos and offline development.

::

    from aioprintora.sandbox import Sandbox

    async with Sandbox() as sb:
        sb.base_url, sb.api_key, sb.webhook_secret
"""

from __future__ import annotations

import importlib
import typing

# Resolved on first use (PEP 562): the pytest plugin in this package is imported by every pytest
# run in an environment that has aioprintora, and should not pay for aiohttp.web there.
if typing.TYPE_CHECKING:
    from .records import OrderRecord, SessionRecord, WebhookLogRecord
    from .server import DEFAULT_RATE_LIMITS, Sandbox
    from .state import Partner

_HOMES: dict[str, str] = {
    "DEFAULT_RATE_LIMITS": "server",
    "OrderRecord": "records",
    "Partner": "state",
    "Sandbox": "server",
    "SessionRecord": "records",
    "WebhookLogRecord": "records",
}


def __getattr__(name: str) -> typing.Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'aioprintora.sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "DEFAULT_RATE_LIMITS",
    "OrderRecord",
    "Partner",
    "Sandbox",
    "SessionRecord",
    "WebhookLogRecord",
]
