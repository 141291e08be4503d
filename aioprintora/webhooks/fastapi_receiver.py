"""The FastAPI webhook endpoint (``pip install aioprintora[fastapi]``).

FastAPI is imported here only, so the rest of the SDK never needs it::

    app.include_router(webhook_router(secret, on_event, path="/webhooks/printora"))

The route reads the raw body itself (never a parsed model), so the signature is checked on the
exact bytes Printora signed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from aioprintora._errors import WebhookPayloadError, WebhookSignatureError
from aioprintora.webhooks._dedup import DedupStore
from aioprintora.webhooks._events import WebhookEvent, construct_event
from aioprintora.webhooks._receiver import (
    DEFAULT_MAX_BODY_SIZE,
    WebhookCallback,
    WebhookReceiver,
)
from aioprintora.webhooks._signature import SIGNATURE_HEADER, normalize_secrets

__all__ = ["fastapi_router", "verified_event", "webhook_router"]


def webhook_router(
    secret: str | Sequence[str],
    callback: WebhookCallback,
    *,
    path: str = "/webhooks/printora",
    store: DedupStore | None = None,
    tolerance: timedelta | float | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    now: Callable[[], datetime] | None = None,
) -> APIRouter:
    """A router with one ``POST path`` that verifies, parses, de-duplicates and calls ``callback``.

    Answers as the aiohttp handler does: 200 processed or duplicate, 400, 401, 409, 413, 500, 503.

    Args:
        secret: the webhook secret, or a list of them while rotating.
        callback: ``async def callback(event)``; keep it quick (enqueue heavy work).
        path: the route's path.
        store: duplicate store; in-memory when omitted (``RedisDedupStore`` for several workers).
        tolerance: replay window for the event timestamp (timedelta or seconds); off by default.
        max_body_size: bodies above this many bytes get 413.
        now: clock for ``tolerance``.
    """
    receiver = WebhookReceiver(
        secret, callback, store=store, tolerance=tolerance, max_body_size=max_body_size, now=now
    )
    return fastapi_router(receiver, path=path)


def fastapi_router(receiver: WebhookReceiver, *, path: str = "/webhooks/printora") -> APIRouter:
    """A router for an existing :class:`WebhookReceiver`.

    Args:
        receiver: the receiver holding the secret, callback and store.
        path: the route's path.
    """
    router = APIRouter()

    @router.post(path, include_in_schema=False)
    async def printora_webhook(request: Request) -> Response:
        body = await _read_limited(request, receiver.max_body_size)
        outcome = (
            receiver.too_large()
            if body is None
            else await receiver.process(body, request.headers.get(SIGNATURE_HEADER))
        )
        return JSONResponse(outcome.body, status_code=outcome.status_code)

    return router


def verified_event(
    secret: str | Sequence[str],
    *,
    tolerance: timedelta | float | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> Callable[[Request], Awaitable[WebhookEvent]]:
    """A dependency yielding the verified event, for routes that handle duplicates themselves.

    ``async def hook(event: WebhookEvent = Depends(verified_event(secret)))``; a bad signature
    raises ``HTTPException(401)``, an unreadable body 400, an oversized one 413.

    Args:
        secret: the webhook secret, or a list of them while rotating.
        tolerance: replay window for the event timestamp; off by default.
        max_body_size: bodies above this many bytes get 413.
    """
    secrets = normalize_secrets(secret)

    async def printora_event(request: Request) -> WebhookEvent:
        body = await _read_limited(request, max_body_size)
        if body is None:
            raise HTTPException(413, "payload too large")
        try:
            return construct_event(
                body, request.headers.get(SIGNATURE_HEADER), secrets, tolerance=tolerance
            )
        except WebhookSignatureError as exc:
            raise HTTPException(401, str(exc)) from None
        except WebhookPayloadError as exc:
            raise HTTPException(400, str(exc)) from None

    return printora_event


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
