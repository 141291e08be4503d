"""Request validation, as strict as the real API: pure functions over parsed JSON and queries.

The patterns here are the ones the shipped OpenAPI document declares, so the schema and the
server agree on what is valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from multidict import MultiMapping

from .._models import EventType, OrderStatus, WebhookStatus

__all__ = [
    "InvalidRequestError",
    "SessionInput",
    "fingerprint",
    "is_uuid",
    "parse_json_object",
    "session_input",
]

# Explicit classes, not \S: Python and ECMA regexes disagree on which characters are spaces.
URL_RE = re.compile(
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][^\x00-\x20\x7f]*)?$"
)
#: Printora fetches the design itself, and only over HTTPS.
IMAGE_URL_RE = re.compile(
    r"^https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][^\x00-\x20\x7f]*)?$"
)
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
INT_RE = re.compile(r"^-?[0-9]+$")
#: An idempotency key: 1 to 255 visible ASCII characters.
KEY_RE = re.compile(r"^[!-~]{1,255}$")
USER_DATA_FIELDS = ("email", "firstName", "lastName", "name")
RESEND_EVENTS = frozenset(e.value for e in EventType) - {EventType.ORDER_CANCELLED.value}


class InvalidRequestError(Exception):
    """A 400 answer: ``code`` and ``message`` go into the error envelope."""

    def __init__(self, message: str, code: str = "VALIDATION_ERROR") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_uuid(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a UUID string."""
    return isinstance(value, str) and UUID_RE.match(value) is not None


def _is_url(value: object, pattern: re.Pattern[str] = URL_RE) -> bool:
    return isinstance(value, str) and pattern.match(value) is not None


def parse_json_object(body: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    """The request body as a JSON object."""
    if allow_empty and not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequestError("Request body must be valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidRequestError("Request body must be a JSON object")
    return data


def fingerprint(body: Mapping[str, Any]) -> str:
    """A canonical form of a create-session body, to tell a replay from a different request."""
    rest = {k: v for k, v in body.items() if k != "idempotencyKey"}
    return json.dumps(rest, sort_keys=True, separators=(",", ":"))


SessionInput = dict[str, Any]


def session_input(body: Mapping[str, Any]) -> SessionInput:
    """The validated fields of a create-session body (snake_case keys).

    Raises:
        InvalidRequestError: the body breaks a rule of the real API.
    """
    # A flow field sent as null counts as sent (and invalid), as the schema says.
    flows = [name for name in ("imageUrl", "creatorId", "merchId") if name in body]
    if ("imageUrl" in flows or not flows) and not _is_url(body.get("imageUrl"), IMAGE_URL_RE):
        raise InvalidRequestError("Image URL must be a valid HTTPS URL", "INVALID_IMAGE_URL")
    if len(flows) > 1:
        raise InvalidRequestError("Provide exactly one of imageUrl, creatorId or merchId")
    for name in ("successUrl", "failedUrl"):
        value = body.get(name)
        if value is None:
            raise InvalidRequestError(f"{name} is required")
        if not _is_url(value):
            raise InvalidRequestError(f"{name} is required and must be a valid URL")
    for name in ("creatorId", "merchId"):
        if name in body and not is_uuid(body[name]):
            raise InvalidRequestError(f"{name} must be a UUID")
    if body.get("variantId") is not None and not is_uuid(body["variantId"]):
        raise InvalidRequestError("variantId must be a UUID")
    quantity = _quantity(body.get("quantity"))
    return {
        "image_url": body.get("imageUrl"),
        "success_url": body["successUrl"],
        "failed_url": body["failedUrl"],
        "user_data": _user_data(body.get("userData")),
        "creator_id": body.get("creatorId"),
        "merch_id": body.get("merchId"),
        "variant_id": body.get("variantId"),
        "quantity": quantity,
    }


def _quantity(value: Any) -> int | None:
    if value is None:
        return None
    # JSON Schema counts 3.0 as an integer, so the sandbox does too.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise InvalidRequestError("quantity must be an integer from 1 to 100")
    return value


def idempotency_key(header: str | None, body: Mapping[str, Any]) -> str:
    """The request's idempotency key: the header, else the body's ``idempotencyKey``."""
    key = header if header is not None else body.get("idempotencyKey")
    if key is None or key == "":
        raise InvalidRequestError("Idempotency-Key header is required")
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise InvalidRequestError("Idempotency-Key must be 1 to 255 visible ASCII characters")
    return key


def _user_data(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequestError("userData must be an object")
    for name in USER_DATA_FIELDS:
        if value.get(name) is not None and not isinstance(value[name], str):
            raise InvalidRequestError(f"userData.{name} must be a string")
    return {name: value[name] for name in USER_DATA_FIELDS if value.get(name) is not None}


def _get(query: MultiMapping[str], name: str) -> str | None:
    """A query parameter that may appear at most once."""
    values = query.getall(name, [])
    if len(values) > 1:
        raise InvalidRequestError(f"{name} must be given at most once")
    return values[0] if values else None


def page_query(query: MultiMapping[str]) -> tuple[int, int]:
    """``(limit, offset)`` from a listing's query string."""
    limit = _int_param(query, "limit", 20)
    offset = _int_param(query, "offset", 0)
    if not 1 <= limit <= 100:
        raise InvalidRequestError("limit must be between 1 and 100")
    if offset < 0:
        raise InvalidRequestError("offset must be 0 or more")
    return limit, offset


def _int_param(query: MultiMapping[str], name: str, default: int) -> int:
    raw = _get(query, name)
    if raw is None:
        return default
    if not INT_RE.match(raw):
        raise InvalidRequestError(f"{name} must be an integer")
    return int(raw)


def order_status_query(query: MultiMapping[str]) -> OrderStatus | None:
    """The ``status`` filter of the orders listing."""
    raw = _get(query, "status")
    if raw is None:
        return None
    try:
        return OrderStatus(raw)
    except ValueError:
        raise InvalidRequestError(
            f"status must be one of {', '.join(s.value for s in OrderStatus)}"
        ) from None


def log_filters_query(
    query: MultiMapping[str],
) -> tuple[WebhookStatus | None, EventType | None]:
    """The ``status`` and ``event_type`` filters of the webhook-logs listing."""
    status = event = None
    if (raw := _get(query, "status")) is not None:
        try:
            status = WebhookStatus(raw)
        except ValueError:
            raise InvalidRequestError(
                f"status must be one of {', '.join(s.value for s in WebhookStatus)}"
            ) from None
    if (raw := _get(query, "event_type")) is not None:
        try:
            event = EventType(raw)
        except ValueError:
            raise InvalidRequestError(
                f"event_type must be one of {', '.join(e.value for e in EventType)}"
            ) from None
    return status, event


def resend_input(body: Mapping[str, Any]) -> tuple[str, str, EventType]:
    """``(kind, id, event)`` of a resend body; ``kind`` is ``"sessionId"`` or ``"orderId"``."""
    given = [name for name in ("sessionId", "orderId") if name in body]
    if len(given) != 1:
        raise InvalidRequestError("Provide exactly one of sessionId or orderId")
    (kind,) = given
    if not isinstance(body[kind], str):
        raise InvalidRequestError(f"{kind} must be a string")
    event = body.get("eventType")
    if not isinstance(event, str) or event not in RESEND_EVENTS:
        raise InvalidRequestError(f"eventType must be one of {', '.join(sorted(RESEND_EVENTS))}")
    return kind, body[kind], EventType(event)
