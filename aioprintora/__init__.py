"""aioprintora: the asyncio-first SDK for the Printora Partner API."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .client import DEFAULT_RATE_LIMIT, PrintoraClient
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IdempotencyKeyError,
    MalformedResponseError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    PrintoraError,
    RateLimitError,
    ServerError,
)
from .models import (
    EventType,
    Order,
    OrderStatus,
    Page,
    Pagination,
    Session,
    SessionStatus,
    SessionToken,
    UserData,
    WebhookDelivery,
    WebhookLog,
    WebhookStatus,
)
from .retry import RetryPolicy

try:
    __version__ = version("aioprintora")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EventType",
    "IdempotencyKeyError",
    "MalformedResponseError",
    "NotFoundError",
    "Order",
    "OrderStatus",
    "Page",
    "Pagination",
    "PaginationError",
    "PermissionDeniedError",
    "PrintoraClient",
    "PrintoraError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "Session",
    "SessionStatus",
    "SessionToken",
    "UserData",
    "WebhookDelivery",
    "WebhookLog",
    "WebhookStatus",
    "__version__",
]
