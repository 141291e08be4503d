"""The exceptions aioprintora raises: catch the level you can act on.

::

    PrintoraError                      every error this SDK raises on purpose
    ├── APIError                       the server answered, and not with success
    │   ├── BadRequestError            400  VALIDATION_ERROR, INVALID_IMAGE_URL, ...
    │   ├── AuthenticationError        401  INVALID_API_KEY
    │   ├── PermissionDeniedError      403
    │   ├── NotFoundError              404  ORDER_NOT_FOUND, WEBHOOK_NOT_FOUND, ...
    │   ├── ConflictError              409  other than the duplicate-session replay
    │   ├── IdempotencyKeyError        422  the key was already used with another body
    │   ├── RateLimitError             429  RATE_LIMIT_EXCEEDED (``retry_after``, ``reset_at``)
    │   ├── ServerError                5xx
    │   └── MalformedResponseError     a 2xx whose body is not the JSON we expect
    │       └── ResponseTooLargeError  any answer longer than ``max_response_size`` (decoded)
    ├── APIConnectionError             the request did not get a complete answer
    │   ├── APITimeoutError            ... because a timeout or the call's deadline ran out
    │   └── RateLimiterUnavailableError  Redis down and the shared limiter fails closed
    ├── PaginationError                the server's pages do not add up (e.g. it repeats a page)
    └── WebhookError                   a webhook delivery we cannot accept
        ├── WebhookSignatureError      bad or missing ``X-Printora-Signature``
        │   └── WebhookTimestampError  outside the replay window you set
        └── WebhookPayloadError        signed, but not a webhook event we can read

Every :class:`APIError` carries ``status_code``, ``code``, ``message``, a short ``body``
excerpt, the response ``headers``, ``request_id``, ``method`` and ``url``. No exception text
ever contains the API key or the webhook secret, even when a server or proxy echoes them back:
the client registers its key (and :func:`~aioprintora.webhooks.construct_event` its secrets)
with ``hide_secrets``, and every exception replaces them with ``<redacted>`` in its message,
body excerpt, headers and url as it is built, before any log line or traceback can show them.
A secret cut off at the end of the body excerpt is redacted too.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from datetime import datetime

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "IdempotencyKeyError",
    "MalformedResponseError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "PrintoraError",
    "RateLimitError",
    "RateLimiterUnavailableError",
    "ResponseTooLargeError",
    "ServerError",
    "WebhookError",
    "WebhookPayloadError",
    "WebhookSignatureError",
    "WebhookTimestampError",
]

REDACTED = "<redacted>"
_MAX_SECRETS = 8  # per task context: the keys of the clients it used most recently
_SECRETS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "aioprintora_secrets", default=()
)


def hide_secrets(*values: str) -> None:
    """Redact ``values`` from every SDK exception built later in this task (and its children).

    Args:
        values: API keys or webhook secrets; empty strings are ignored.
    """
    current = _SECRETS.get()
    if len(values) == 1 and values[0] in current:  # every call of a client: already hidden
        return
    fresh = tuple(v for v in values if v and v not in current)
    if fresh:
        _SECRETS.set((*fresh, *current)[:_MAX_SECRETS])


def scrub(text: str) -> str:
    """``text`` with every secret in play replaced, including one cut off at its very end."""
    for secret in _SECRETS.get():
        if secret in text:
            text = text.replace(secret, REDACTED)
        # An excerpt cut inside a secret: only its first 3 characters (a public prefix
        # such as "sk_") may remain.
        for size in range(min(len(secret) - 1, len(text)), 3, -1):
            if text.endswith(secret[:size]):
                text = text[:-size] + REDACTED
                break
    return text


class PrintoraError(Exception):
    """Base class of every exception raised by aioprintora."""

    #: How many HTTP attempts the call made before giving up (set by the call loop).
    attempts: int = 1

    def __init__(self, *args: object) -> None:
        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))


class APIError(PrintoraError):
    """The API answered with an error status, or with a body we could not read.

    Args:
        message: the server's message, or our description of what was wrong.
        status_code: the HTTP status code.
        code: the API's error code (``INVALID_IMAGE_URL``...), when it sent one.
        body: at most :data:`BODY_EXCERPT` characters of the raw response body.
        headers: the response headers.
        method: the request's HTTP method.
        url: the request's URL (it never contains credentials).
    """

    #: How many characters of the response body ``body`` keeps.
    BODY_EXCERPT = 500

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        body: str = "",
        headers: Mapping[str, str] | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.message = scrub(message)
        self.status_code = status_code
        self.code = None if code is None else scrub(code)
        self.body = scrub(body[: self.BODY_EXCERPT])
        # Case-insensitive, like the response's own: err.headers["x-request-id"] works.
        self.headers: Mapping[str, str] = CIMultiDictProxy(
            CIMultiDict((k, scrub(v)) for k, v in (headers or {}).items())
        )
        self.method = method
        self.url = scrub(url)

    @property
    def request_id(self) -> str | None:
        """The server's id of the failed request (``X-Request-Id``, else ``Request-Id``)."""
        return self.headers.get("X-Request-Id") or self.headers.get("Request-Id") or None

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method else ""
        code = f" {self.code}" if self.code else ""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{self.status_code}{code}: {self.message}{where}{tries}"


class BadRequestError(APIError):
    """400: the request was invalid (``VALIDATION_ERROR``, ``INVALID_IMAGE_URL``...)."""


class AuthenticationError(APIError):
    """401: the API key is missing, malformed or revoked (``INVALID_API_KEY``)."""


class PermissionDeniedError(APIError):
    """403: the key is valid but may not do this."""


class NotFoundError(APIError):
    """404: no such session, order or webhook log (``ORDER_NOT_FOUND``, ``WEBHOOK_NOT_FOUND``)."""


class ConflictError(APIError):
    """409 other than the duplicate-session replay, which the SDK returns as a success."""


class IdempotencyKeyError(APIError):
    """422: this ``Idempotency-Key`` was already used with a different request body.

    Never retried: resending the same body under a fresh key is the caller's decision.
    """


class RateLimitError(APIError):
    """429, or a server-directed wait longer than the client's cap.

    Attributes:
        retry_after: seconds the server asked us to wait, when known.
        reset_at: when the server's window resets (aware UTC datetime), when known.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        reset_at: datetime | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after
        self.reset_at = reset_at


class ServerError(APIError):
    """5xx: the server failed; an HTML page from a proxy lands here too, with its excerpt."""


class MalformedResponseError(APIError):
    """A success status whose body is not the JSON the endpoint documents."""


class ResponseTooLargeError(MalformedResponseError):
    """The answer's body (after decompression) exceeded the client's ``max_response_size``.

    Never retried: the same request would get the same answer. ``status_code`` is the answer's.
    """


class APIConnectionError(PrintoraError):
    """The request could not be sent, or its response was cut off.

    Args:
        message: what went wrong.
        method: the request's HTTP method.
        url: the request's URL.
    """

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.message = scrub(message)
        self.method = method
        self.url = scrub(url)

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method else ""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{self.message}{where}{tries}"


class APITimeoutError(APIConnectionError):
    """A per-attempt timeout or the call's total deadline ran out."""


class RateLimiterUnavailableError(APIConnectionError):
    """The shared limiter's Redis could not be reached, so the request was not sent."""


class PaginationError(PrintoraError):
    """A listing that cannot be walked safely: the server repeated a page, for instance."""


class WebhookError(PrintoraError):
    """A webhook delivery that must not be processed."""


class WebhookSignatureError(WebhookError):
    """The ``X-Printora-Signature`` header is missing, malformed or does not match the body."""


class WebhookTimestampError(WebhookSignatureError):
    """The event's signed ``timestamp`` lies outside the replay tolerance (past or future)."""


class WebhookPayloadError(WebhookError):
    """The body is correctly signed but is not a webhook event we can parse."""
