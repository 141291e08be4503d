"""Webhook signatures: ``X-Printora-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.

Pure functions, no I/O: the sandbox signs with :func:`sign_payload`, receivers verify with
:func:`verify_signature` and, when replay protection is on, :func:`check_timestamp`.

Verification is deliberately strict: exactly ``sha256=`` followed by 64 lowercase hex digits, the
way Printora sends it. Anything else is rejected, so no edit of a signed delivery ever passes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

from aioprintora._errors import WebhookSignatureError, WebhookTimestampError

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_SCHEME",
    "WebhookTimestampError",
    "check_timestamp",
    "normalize_secrets",
    "sign_payload",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Printora-Signature"
SIGNATURE_SCHEME = "sha256"

_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def sign_payload(payload: bytes, secret: str) -> str:
    """The header value Printora sends for ``payload`` signed with ``secret``."""
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def normalize_secrets(secret: str | Sequence[str]) -> tuple[str, ...]:
    """The secrets as a non-empty tuple of non-empty strings.

    Args:
        secret: one webhook secret, or several while rotating (old and new both accepted).

    Raises:
        ValueError: no secret, or an empty one; a configuration mistake, not a bad delivery.
    """
    secrets = (secret,) if isinstance(secret, str) else tuple(secret)
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        raise ValueError("a webhook secret must be a non-empty string (or a list of them)")
    return secrets


def verify_signature(
    payload: bytes | bytearray | memoryview, signature: str | None, secret: str | Sequence[str]
) -> None:
    """Check that ``signature`` is Printora's HMAC of ``payload`` under one of the secrets.

    Args:
        payload: the raw request body, exactly as received (never re-serialised JSON).
        signature: the ``X-Printora-Signature`` header value, or None when it was absent.
        secret: the webhook secret (``whsec_...``), or a list of them during rotation.

    Raises:
        WebhookSignatureError: the header is missing or malformed, or no secret matches.
        ValueError: ``secret`` is empty.
        TypeError: ``payload`` is not bytes.
    """
    secrets = normalize_secrets(secret)
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise TypeError(f"payload must be the raw body as bytes, not {type(payload).__name__}")
    if not signature:
        raise WebhookSignatureError(f"missing {SIGNATURE_HEADER} header")
    scheme, sep, received = signature.partition("=")
    if not sep:
        raise WebhookSignatureError(
            f"malformed {SIGNATURE_HEADER} header: expected '{SIGNATURE_SCHEME}=<hex digest>'"
        )
    if scheme != SIGNATURE_SCHEME:
        raise WebhookSignatureError(
            f"unsupported signature scheme {scheme[:16]!r}: expected {SIGNATURE_SCHEME!r}"
        )
    if not _HEX_DIGEST.fullmatch(received):
        raise WebhookSignatureError(
            f"malformed {SIGNATURE_HEADER} header: expected 64 lowercase hex digits"
        )
    body = bytes(payload)
    matched = False
    # Every secret is tried (no early exit) so timing does not reveal which one matched.
    for candidate in secrets:
        expected = hmac.new(candidate.encode(), body, hashlib.sha256).hexdigest()
        matched |= hmac.compare_digest(expected.encode(), received.encode())
    if not matched:
        raise WebhookSignatureError("signature does not match the body for any configured secret")


def check_timestamp(
    timestamp: datetime,
    tolerance: timedelta | float,
    *,
    now: Callable[[], datetime] | None = None,
) -> None:
    """Reject an event whose signed ``timestamp`` is further than ``tolerance`` from now.

    Both directions count: a timestamp far in the future is as suspect as a stale one.

    Args:
        timestamp: the event's ``timestamp`` (aware; a naive one is taken as UTC).
        tolerance: the largest accepted distance, as a timedelta or seconds.
        now: returns the current aware time; defaults to the system clock in UTC.

    Raises:
        WebhookTimestampError: the timestamp is outside the window.
    """
    window = tolerance if isinstance(tolerance, timedelta) else timedelta(seconds=tolerance)
    current = now() if now is not None else datetime.now(timezone.utc)
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    skew = (current - timestamp).total_seconds()
    if abs(skew) > window.total_seconds():
        direction = "old" if skew > 0 else "in the future"
        raise WebhookTimestampError(
            f"event timestamp is {abs(skew):.0f}s {direction}, "
            f"outside the {window.total_seconds():.0f}s tolerance"
        )
