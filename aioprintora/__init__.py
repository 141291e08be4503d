"""aioprintora: the asyncio-first SDK for the Printora Partner API."""

from __future__ import annotations

import typing

from ._lazy import exports as _exports

# Names resolve on first use (PEP 562), so ``import aioprintora`` costs next to nothing: the
# pytest plugin this package registers is imported by every pytest run in your environment.
if typing.TYPE_CHECKING:
    from ._client import DEFAULT_RATE_LIMIT, PrintoraClient
    from ._errors import (
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
        RateLimiterUnavailableError,
        ResponseTooLargeError,
        ServerError,
        WebhookError,
        WebhookPayloadError,
        WebhookSignatureError,
        WebhookTimestampError,
    )
    from ._http.retry import RetryPolicy
    from ._models import (
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
    from .jobs import (
        AccountMismatchError,
        JournalConflictError,
        OrderSync,
        SessionRequest,
        stops_job,
    )

#: Where each public name lives.
_HOMES: dict[str, str] = {
    "DEFAULT_RATE_LIMIT": "_client",
    "PrintoraClient": "_client",
    "RetryPolicy": "_http.retry",
    "APIConnectionError": "_errors",
    "APIError": "_errors",
    "APITimeoutError": "_errors",
    "AuthenticationError": "_errors",
    "BadRequestError": "_errors",
    "ConflictError": "_errors",
    "IdempotencyKeyError": "_errors",
    "MalformedResponseError": "_errors",
    "NotFoundError": "_errors",
    "PaginationError": "_errors",
    "PermissionDeniedError": "_errors",
    "PrintoraError": "_errors",
    "RateLimitError": "_errors",
    "RateLimiterUnavailableError": "_errors",
    "ResponseTooLargeError": "_errors",
    "ServerError": "_errors",
    "WebhookError": "_errors",
    "WebhookPayloadError": "_errors",
    "WebhookSignatureError": "_errors",
    "WebhookTimestampError": "_errors",
    "EventType": "_models",
    "Order": "_models",
    "OrderStatus": "_models",
    "Page": "_models",
    "Pagination": "_models",
    "Session": "_models",
    "SessionStatus": "_models",
    "SessionToken": "_models",
    "UserData": "_models",
    "WebhookDelivery": "_models",
    "WebhookLog": "_models",
    "WebhookStatus": "_models",
    "AccountMismatchError": "jobs",
    "JournalConflictError": "jobs",
    "OrderSync": "jobs",
    "SessionRequest": "jobs",
    "stops_job": "jobs",
}


_lookup, __dir__ = _exports(__name__, {**_HOMES, "__version__": ""}, globals())


def __getattr__(name: str) -> typing.Any:
    if name != "__version__":
        return _lookup(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("aioprintora")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        value = "0.0.0"
    globals()[name] = value  # resolved once
    return value


__all__ = [
    "DEFAULT_RATE_LIMIT",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AccountMismatchError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EventType",
    "IdempotencyKeyError",
    "JournalConflictError",
    "MalformedResponseError",
    "NotFoundError",
    "Order",
    "OrderStatus",
    "OrderSync",
    "Page",
    "Pagination",
    "PaginationError",
    "PermissionDeniedError",
    "PrintoraClient",
    "PrintoraError",
    "RateLimitError",
    "RateLimiterUnavailableError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "Session",
    "SessionRequest",
    "SessionStatus",
    "SessionToken",
    "UserData",
    "WebhookDelivery",
    "WebhookError",
    "WebhookLog",
    "WebhookPayloadError",
    "WebhookSignatureError",
    "WebhookStatus",
    "WebhookTimestampError",
    "__version__",
    "stops_job",
]
