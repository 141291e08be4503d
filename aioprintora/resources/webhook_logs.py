"""``client.webhook_logs``: what Printora delivered to your endpoint, and re-delivery."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import cached_property

from .. import _validate as check
from .._http.call import Call
from .._models import (
    RESENDABLE_EVENTS,
    EventType,
    Page,
    WebhookDelivery,
    WebhookLog,
    WebhookStatus,
)
from ..pagination import Listing
from ..response import to_raw_response
from ._base import Resource, decoder

__all__ = ["WebhookLogs", "WebhookLogsWithRawResponse"]

PATH = "api/v1/partners/webhook-logs"
_LIST = "webhook_logs.list"  # the operation hooks see, whichever method made the listing


def log_params(
    status: WebhookStatus | str | None,
    event_type: EventType | str | None,
    limit: int,
    offset: int,
) -> dict[str, str | int]:
    """Validated query parameters of one webhook-logs page (raises ValueError)."""
    params: dict[str, str | int] = {
        "limit": check.int_range("limit", limit, 1, 100),
        "offset": check.int_range("offset", offset, 0),
    }
    if status is not None:
        params["status"] = check.open_choice("status", status, WebhookStatus)
    if event_type is not None:
        params["event_type"] = check.open_choice("event_type", event_type, EventType)
    return params


class WebhookLogs(Resource):
    """Webhook delivery logs."""

    def list(
        self,
        *,
        status: WebhookStatus | str | None = None,
        event_type: EventType | str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Listing[WebhookLog]:
        """Webhook log entries: ``await`` it for one page, ``async for`` it for every entry.

        ``async for`` walks from ``offset`` on in pages of ``limit`` (see
        :class:`~aioprintora.pagination.Listing`).

        Args:
            status: ``pending``, ``sent``, ``failed`` or ``retrying``.
            event_type: e.g. ``order.created``.
            limit: page size, 1–100.
            offset: how many entries to skip.
        """
        params = log_params(status, event_type, limit, offset)
        return self._listing(PATH, params, "logs", WebhookLog, _LIST)

    def pages(
        self,
        *,
        status: WebhookStatus | str | None = None,
        event_type: EventType | str | None = None,
        page_size: int = 100,
        max_items: int | None = None,
        read_ahead: bool = True,
    ) -> AsyncGenerator[Page[WebhookLog], None]:
        """``async for page in client.webhook_logs.pages(...)``: every page, deduplicated."""
        return self.iter(
            status=status,
            event_type=event_type,
            page_size=page_size,
            max_items=max_items,
            read_ahead=read_ahead,
        ).pages()

    def iter(
        self,
        *,
        status: WebhookStatus | str | None = None,
        event_type: EventType | str | None = None,
        page_size: int = 100,
        max_items: int | None = None,
        read_ahead: bool = True,
    ) -> Listing[WebhookLog]:
        """``async for log in client.webhook_logs.iter(status="failed")``: every entry."""
        params = log_params(status, event_type, page_size, 0)
        return self._listing(
            PATH, params, "logs", WebhookLog, _LIST, max_items=max_items, read_ahead=read_ahead
        )

    async def resend(
        self,
        *,
        event_type: EventType | str,
        order_id: str | None = None,
        session_id: str | None = None,
    ) -> WebhookDelivery:
        """Queue a new delivery of an event (a new log entry).

        Not retried after an ambiguous failure (500, timeout, dropped connection): the delivery
        may already be queued, and a second call would deliver the webhook twice.

        Args:
            event_type: ``order.created``, ``order.paid``, ``order.shipped`` or ``order.delivered``.
            order_id: the order (exactly one of ``order_id`` / ``session_id``).
            session_id: the session.
        """
        which = check.exactly_one(order_id=order_id, session_id=session_id)
        event = check.open_choice("event_type", event_type, EventType)
        if event not in RESENDABLE_EVENTS:
            raise ValueError(f"event_type must be one of {', '.join(sorted(RESENDABLE_EVENTS))}")
        body = {"orderId" if which == "order_id" else "sessionId": order_id or session_id}
        body["eventType"] = event
        call = Call(
            "POST", f"{PATH}/resend", "webhook_logs.resend", decoder(WebhookDelivery), json=body
        )
        return await self._send(call)

    async def retry(self, webhook_log_id: str) -> WebhookDelivery:
        """Retry an existing delivery (the same log entry); "sent" if it already succeeded."""
        path = f"{PATH}/{check.path_segment('webhook_log_id', webhook_log_id)}/retry"
        return await self._send(Call("POST", path, "webhook_logs.retry", decoder(WebhookDelivery)))

    @cached_property
    def with_raw_response(self) -> WebhookLogsWithRawResponse:
        """The same methods, returning the :class:`~aioprintora.response.RawResponse`."""
        return WebhookLogsWithRawResponse(self)


class WebhookLogsWithRawResponse:
    """``client.webhook_logs.with_raw_response``: ``list``, ``resend``, ``retry``."""

    def __init__(self, webhook_logs: WebhookLogs) -> None:
        self.list = to_raw_response(webhook_logs.list)
        self.resend = to_raw_response(webhook_logs.resend)
        self.retry = to_raw_response(webhook_logs.retry)
