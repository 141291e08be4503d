"""The framework-free core of a webhook endpoint: raw body + header in, status + JSON out.

The aiohttp and FastAPI adapters only read the body (with a size limit) and write the
:class:`Outcome`; every decision lives here:

=========================================  ======  =============================================
delivery                                   status  why
=========================================  ======  =============================================
body over ``max_body_size``                413     refused before reading it all
missing/bad signature, replay window       401     never parsed: the raw bytes are checked first
signed but unreadable                      400     retrying would not help
already processed (same ``dedup_key``)     200     callback not called again
the same event is running right now        409     the sender retries later
callback raised                            500     mark released, so the retry is processed
dedup store unreachable                    503     the sender retries later
callback returned                          200     mark committed
=========================================  ======  =============================================

Printora gives up on a delivery after 5 s, so the callback should be quick: hand heavy work to
a queue or task of yours (``callback=queue.put``) and let the receiver answer at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from aioprintora._errors import WebhookPayloadError, WebhookSignatureError
from aioprintora.webhooks._dedup import (
    Claim,
    ClaimState,
    DedupStore,
    MemoryDedupStore,
    dedup_key_string,
    keep_claimed,
)
from aioprintora.webhooks._events import WebhookEvent, construct_event
from aioprintora.webhooks._signature import normalize_secrets

__all__ = ["DEFAULT_MAX_BODY_SIZE", "Outcome", "WebhookCallback", "WebhookReceiver"]

log = logging.getLogger("aioprintora.webhooks")

#: Order events are a few KiB; anything far larger is not from Printora.
DEFAULT_MAX_BODY_SIZE = 256 * 1024

WebhookCallback = Callable[[WebhookEvent], Awaitable[Any]]


@attrs.frozen
class Outcome:
    """What to answer the sender: an HTTP status and a small JSON body."""

    status_code: int
    body: dict[str, str]
    event: WebhookEvent | None = attrs.field(default=None, eq=False, repr=False)


class WebhookReceiver:
    """Verify, parse, de-duplicate and dispatch deliveries to ``callback``.

    Args:
        secret: the webhook secret, or a list of them while rotating.
        callback: ``async def callback(event)``; called at most once per ``event.dedup_key``
            (unless it raises, which lets a redelivery try again).
        store: the duplicate store; a fresh :class:`MemoryDedupStore` when omitted.
        tolerance: replay window for ``event.timestamp`` (timedelta or seconds); off when None.
        max_body_size: larger bodies get 413.
        now: clock for ``tolerance`` (aware datetimes); the system clock by default.
    """

    def __init__(
        self,
        secret: str | Sequence[str],
        callback: WebhookCallback,
        *,
        store: DedupStore | None = None,
        tolerance: timedelta | float | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._secrets = normalize_secrets(secret)
        if max_body_size < 1:
            raise ValueError("max_body_size must be positive")
        self.callback = callback
        self.store: DedupStore = store if store is not None else MemoryDedupStore()
        self.tolerance = tolerance
        self.max_body_size = max_body_size
        self._now = now

    def __repr__(self) -> str:  # the secrets stay out of reprs and logs
        return f"<WebhookReceiver store={self.store!r} tolerance={self.tolerance!r}>"

    def too_large(self) -> Outcome:
        """The answer to a body over ``max_body_size``."""
        log.warning("rejected webhook: body larger than %d bytes", self.max_body_size)
        return Outcome(413, {"error": "payload_too_large"})

    async def process(self, body: bytes, signature: str | None) -> Outcome:
        """Handle one delivery end to end.

        Args:
            body: the raw request body.
            signature: the ``X-Printora-Signature`` header, or None.
        """
        if len(body) > self.max_body_size:
            return self.too_large()
        try:
            event = construct_event(
                body, signature, self._secrets, tolerance=self.tolerance, now=self._now
            )
        except WebhookSignatureError as exc:
            log.warning("rejected webhook: %s", exc)
            return Outcome(401, {"error": "invalid_signature", "message": str(exc)})
        except WebhookPayloadError as exc:
            log.warning("rejected webhook: %s", exc)
            return Outcome(400, {"error": "invalid_payload", "message": str(exc)})
        return await self.dispatch(event)

    async def dispatch(self, event: WebhookEvent) -> Outcome:
        """Run the callback for a verified event unless it is a duplicate (claim → run → commit).

        Args:
            event: an event from :func:`construct_event`.
        """
        key = dedup_key_string(event.dedup_key)
        try:
            claim = await self.store.claim(key)
        except Exception:
            log.exception("webhook dedup store failed to claim %s", key)
            return Outcome(503, {"error": "dedup_store_unavailable"}, event)
        if claim.state is ClaimState.DONE:
            log.info("duplicate webhook %s ignored", key)
            return Outcome(200, {"status": "duplicate"}, event)
        if claim.state is ClaimState.IN_PROGRESS:
            return Outcome(409, {"error": "in_progress"}, event)
        try:
            async with keep_claimed(self.store, claim):  # a slow callback keeps its claim
                await self.callback(event)
        except BaseException as exc:
            # Give the key back so the sender's retry runs the callback again; cancellation too.
            await self._release(claim, key)
            if not isinstance(exc, Exception):
                raise
            log.exception("webhook callback failed for %s", key)
            return Outcome(500, {"error": "callback_failed"}, event)
        try:
            await self.store.commit(claim)
        except Exception:
            # The work is done: answering 5xx would only invite a second run.
            log.exception("webhook dedup store failed to commit %s", key)
        return Outcome(200, {"status": "processed"}, event)

    async def _release(self, claim: Claim, key: str) -> None:
        try:
            await self.store.release(claim)
        except Exception:
            log.exception(
                "webhook dedup store failed to release %s; it expires with its lease", key
            )
