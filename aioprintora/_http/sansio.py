"""Pure request/response logic, free of I/O: body decoding, envelopes, status -> exception.

The transport hands in status, headers and raw bytes; everything here is synchronous and is
tested with plain bytes and dicts. :func:`decipher_response` is the one seam every response
goes through, once: the body is parsed once, success is decided once, and an unsuccessful
answer becomes the SDK's exception together with the wait the server asked for.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from yarl import URL

from .. import _errors as errors
from .._convert import loads
from ..ratelimit._headers import reset_delay_seconds, retry_after_seconds

__all__ = [
    "ENVIRONMENTS",
    "Answer",
    "Undecodable",
    "decipher_response",
    "decode_success",
    "dumps",
    "is_loopback",
    "result",
    "server_wait",
]

T = TypeVar("T")

ENVIRONMENTS: Mapping[str, str] = {
    "production": "https://api.printora.ai",
    "staging": "https://api-staging.printora.ai",
}

_STATUS_ERRORS: Mapping[int, type[errors.APIError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    422: errors.IdempotencyKeyError,
    429: errors.RateLimitError,
}


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value) if value == value.to_integral_value() else str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(payload: Any) -> bytes:
    """Encode a request body once, as bytes, so every retry replays the very same bytes."""
    return json.dumps(payload, separators=(",", ":"), default=_default).encode()


def is_loopback(url: URL) -> bool:
    """Whether ``url`` points at this machine (where plain http cannot leak the key)."""
    host = url.host or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _excerpt(body: bytes) -> str:
    return body[: errors.APIError.BODY_EXCERPT].decode("utf-8", errors="replace")


def _parse(body: bytes) -> Any:
    """Decoded JSON, or ``None`` when the body is empty or not JSON."""
    if not body or body.isspace():  # isspace stops at the first other byte: no copy
        return None
    try:
        return loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both subclass it
        return None


def _is_replay(status: int, parsed: Any) -> bool:
    """A 409 duplicate-session answer that carries the existing session: a success for us."""
    if (
        status != 409
        or not isinstance(parsed, Mapping)
        or not isinstance(parsed.get("data"), Mapping)
    ):
        return False
    error = parsed.get("error")
    code = error.get("code") if isinstance(error, Mapping) else None
    return parsed.get("success") is True or code == "DUPLICATE_SESSION"


def decode_success(status: int, body: bytes, *, method: str, url: str) -> Any:
    """The payload of a successful answer, enveloped or flat.

    Raises:
        MalformedResponseError: the body is not JSON, or is an error envelope.
    """
    return _payload(status, {}, body, _parse(body), method=method, url=url)


def _payload(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    parsed: Any,
    *,
    method: str,
    url: str | URL,
) -> Any:
    if parsed is None:
        raise malformed(
            "the response body is empty or not JSON",
            status=status,
            headers=headers,
            excerpt=_excerpt(body),
            method=method,
            url=url,
        )
    if (type(parsed) is dict or isinstance(parsed, Mapping)) and "success" in parsed:
        if parsed["success"] is False and not _is_replay(status, parsed):
            raise malformed(
                "a success status with an error envelope",
                status=status,
                headers=headers,
                excerpt=_excerpt(body),
                method=method,
                url=url,
            )
        if "data" in parsed:
            return parsed["data"]
    return parsed


def server_wait(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked us to wait: Retry-After, else X-RateLimit-Reset on a 429."""
    wait = retry_after_seconds(headers, now)
    if wait is None and status == 429:
        wait = reset_delay_seconds(headers, now)
    return wait


class Undecodable(Exception):  # noqa: N818 - never reaches a caller: see error()
    """An answer's data that its model cannot be built from (raised where it is decoded).

    Whoever holds the answer turns it into the caller's MalformedResponseError with
    :meth:`error`, so that it carries the answer's real status, headers and URL.
    """

    def __init__(self, reason: str, excerpt: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.excerpt = excerpt

    def error(
        self, status: int, headers: Mapping[str, str] | None, *, method: str, url: str | URL
    ) -> errors.MalformedResponseError:
        """The caller's error: this one, told with the answer it was read from."""
        return malformed(
            f"the answer does not match the documented shape ({self.reason})",
            status=status,
            headers=headers,
            excerpt=self.excerpt,
            method=method,
            url=url,
        )


def malformed(
    message: str,
    *,
    status: int,
    headers: Mapping[str, str] | None,
    excerpt: str,
    method: str,
    url: str | URL,
) -> errors.MalformedResponseError:
    """A 2xx answer that cannot be read, with everything known about it."""
    return errors.MalformedResponseError(
        message, status_code=status, body=excerpt, headers=headers, method=method, url=str(url)
    )


class Answer(NamedTuple):
    """One response, classified: the payload on success, else the error and the server's wait."""

    status: int
    data: Any
    error: errors.APIError | None = None
    #: Seconds the server asked us to wait before trying again (unsuccessful answers only).
    wait: float | None = None
    #: The response's headers (successful answers; an error carries its own).
    headers: Mapping[str, str] | None = None


def decipher_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    url: str | URL,
    now: float,
) -> Answer:
    """Classify one response, parsing its body once.

    Args:
        status: the HTTP status.
        headers: the response headers.
        body: the whole body.
        method: the request's method (for the error).
        url: the request's URL (for the error; made text only when there is one).
        now: unix time at which the response arrived (reads ``Retry-After`` dates).
    """
    if 200 <= status < 300:
        try:
            data = _payload(status, headers, body, _parse(body), method=method, url=url)
            return Answer(status, data, headers=headers)
        except errors.MalformedResponseError as malformed:
            return Answer(status, None, malformed)
    parsed = _parse(body)
    if status == 409 and _is_replay(status, parsed):
        return Answer(status, parsed["data"], headers=headers)
    wait = server_wait(status, headers, now)
    error = _error(status, headers, body, parsed, method=method, url=url, retry_after=wait)
    if isinstance(error, errors.RateLimitError) and wait is not None:
        error.reset_at = datetime.fromtimestamp(now + wait, timezone.utc)
    return Answer(status, None, error, wait)


def result(answer: Answer, decode: Callable[[Any], T], method: str, url: str | URL) -> T:
    """``decode`` of a successful answer's data: the call's result. Data it cannot read is a
    MalformedResponseError with the answer's real status, headers (request id), method and
    absolute URL."""
    try:
        return decode(answer.data)
    except Undecodable as exc:
        error = exc.error(answer.status, answer.headers, method=method, url=url)
        raise error from exc.__cause__


def _code_and_message(parsed: Any) -> tuple[str | None, str | None]:
    if not isinstance(parsed, Mapping):
        return None, None
    error = parsed.get("error")
    if isinstance(error, Mapping):
        code, message = error.get("code"), error.get("message")
    else:  # some gateways answer {"error": "text"} or {"message": "text"}
        code, message = parsed.get("code"), error if isinstance(error, str) else None
    message = message or parsed.get("message")
    return (str(code) if code else None), (str(message) if message else None)


def _error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    parsed: Any,
    *,
    method: str,
    url: str | URL,
    retry_after: float | None,
) -> errors.APIError:
    code, message = _code_and_message(parsed)
    if message is None:
        kind = "a non-JSON" if parsed is None and body.strip() else "an unexpected"
        message = f"HTTP {status} with {kind} body"
    kwargs: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "body": _excerpt(body),
        "headers": headers,
        "method": method,
        "url": str(url),
    }
    if status == 429:
        return errors.RateLimitError(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return errors.ServerError(message, **kwargs)
    return _STATUS_ERRORS.get(status, errors.APIError)(message, **kwargs)
