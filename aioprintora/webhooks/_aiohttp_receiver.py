"""The aiohttp webhook endpoint: a handler factory and a ready sub-application.

::

    app.router.add_post("/webhooks/printora", webhook_handler(secret, on_event))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from aiohttp import web

from aioprintora.webhooks._dedup import DedupStore
from aioprintora.webhooks._receiver import (
    DEFAULT_MAX_BODY_SIZE,
    Outcome,
    WebhookCallback,
    WebhookReceiver,
)
from aioprintora.webhooks._signature import SIGNATURE_HEADER

__all__ = ["aiohttp_handler", "webhook_app", "webhook_handler"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CHUNK = 64 * 1024


def webhook_handler(
    secret: str | Sequence[str],
    callback: WebhookCallback,
    *,
    store: DedupStore | None = None,
    tolerance: timedelta | float | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    now: Callable[[], datetime] | None = None,
) -> Handler:
    """An aiohttp handler that verifies, parses, de-duplicates and calls ``callback``.

    Args:
        secret: the webhook secret, or a list of them while rotating.
        callback: ``async def callback(event)``; keep it quick (enqueue heavy work).
        store: duplicate store; in-memory when omitted (use ``RedisDedupStore`` for several
            workers).
        tolerance: replay window for the event timestamp (timedelta or seconds); off by default.
        max_body_size: bodies above this many bytes get 413.
        now: clock for ``tolerance``.
    """
    receiver = WebhookReceiver(
        secret, callback, store=store, tolerance=tolerance, max_body_size=max_body_size, now=now
    )
    return aiohttp_handler(receiver)


def aiohttp_handler(receiver: WebhookReceiver) -> Handler:
    """An aiohttp handler for an existing :class:`WebhookReceiver`.

    Args:
        receiver: the receiver holding the secret, callback and store.
    """

    async def printora_webhook(request: web.Request) -> web.StreamResponse:
        body = await _read_limited(request, receiver.max_body_size)
        outcome = (
            receiver.too_large()
            if body is None
            else await receiver.process(body, request.headers.get(SIGNATURE_HEADER))
        )
        return _respond(outcome)

    return printora_webhook


def webhook_app(
    secret: str | Sequence[str],
    callback: WebhookCallback,
    *,
    store: DedupStore | None = None,
    tolerance: timedelta | float | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    now: Callable[[], datetime] | None = None,
) -> web.Application:
    """A sub-application answering ``POST /``: ``app.add_subapp("/webhooks", webhook_app(...))``.

    Args:
        secret: the webhook secret, or a list of them while rotating.
        callback: ``async def callback(event)``.
        store: as for :func:`webhook_handler`.
        tolerance: as for :func:`webhook_handler`.
        max_body_size: as for :func:`webhook_handler`.
        now: as for :func:`webhook_handler`.
    """
    handler = webhook_handler(
        secret, callback, store=store, tolerance=tolerance, max_body_size=max_body_size, now=now
    )
    app = web.Application()
    app.router.add_post("/", handler)
    return app


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit`` (no more is read)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _respond(outcome: Outcome) -> web.Response:
    return web.json_response(outcome.body, status=outcome.status_code)
