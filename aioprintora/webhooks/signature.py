"""Webhook signatures: ``X-Printora-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.

Pure functions, no I/O: the sandbox signs with :func:`sign_payload`, receivers verify.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "SIGNATURE_SCHEME", "sign_payload"]

SIGNATURE_HEADER = "X-Printora-Signature"
SIGNATURE_SCHEME = "sha256"


def sign_payload(payload: bytes, secret: str) -> str:
    """The header value Printora sends for ``payload`` signed with ``secret``."""
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"
