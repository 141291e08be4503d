"""Pure request/response logic, free of I/O: body decoding, envelopes, status -> exception.

The transport hands in status, headers and raw bytes; everything here is synchronous and is
tested with plain bytes and dicts.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from yarl import URL

from . import errors
from ._convert import loads

__all__ = [
    "ENVIRONMENTS",
    "decode_success",
    "dumps",
    "error_from_response",
    "is_loopback",
    "is_success",
]

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
    if not body.strip():
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


def is_success(status: int, body: bytes) -> bool:
    """2xx, or the duplicate-session replay (409 with the existing session)."""
    return 200 <= status < 300 or (status == 409 and _is_replay(status, _parse(body)))


def decode_success(status: int, body: bytes, *, method: str, url: str) -> Any:
    """The payload of a successful answer, enveloped or flat.

    Raises:
        MalformedResponseError: the body is not JSON, or is an error envelope.
    """
    parsed = _parse(body)
    if parsed is None:
        raise errors.MalformedResponseError(
            "the response body is empty or not JSON",
            status_code=status,
            body=_excerpt(body),
            method=method,
            url=url,
        )
    if isinstance(parsed, Mapping) and "success" in parsed:
        if parsed["success"] is False and not _is_replay(status, parsed):
            raise errors.MalformedResponseError(
                "a success status with an error envelope",
                status_code=status,
                body=_excerpt(body),
                method=method,
                url=url,
            )
        if "data" in parsed:
            return parsed["data"]
    return parsed


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


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    url: str,
    retry_after: float | None = None,
) -> errors.APIError:
    """The exception for an unsuccessful answer; a non-JSON body keeps a short excerpt."""
    parsed = _parse(body)
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
        "url": url,
    }
    if status == 429:
        return errors.RateLimitError(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return errors.ServerError(message, **kwargs)
    return _STATUS_ERRORS.get(status, errors.APIError)(message, **kwargs)
