"""The Partner API's routes. Authentication, rate limits and faults happen in the middleware."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .._models import WebhookStatus
from ._listing import page_window
from ._middleware import SANDBOX, EnvelopeError, json_response, partner_of
from ._state import KeyBodyMismatchError, Partner
from ._validation import (
    InvalidRequestError,
    fingerprint,
    idempotency_key,
    is_uuid,
    log_filters_query,
    order_status_query,
    page_query,
    parse_json_object,
    resend_input,
    session_input,
)
from ._wire import dumps, ok_body

__all__ = ["add_api_routes"]

API = "/api/v1"


def _partner(request: web.Request) -> Partner:
    return partner_of(request)


async def create_session(request: web.Request) -> web.Response:
    """POST /partner-session: 201 when new, 409 with the same session on a replay."""
    sb, partner = request.app[SANDBOX], _partner(request)
    body = parse_json_object(await request.read())
    key = idempotency_key(request.headers.get("Idempotency-Key"), body)
    fields = session_input(body)
    try:
        session, created = sb.world.create_session(partner, fields, key, fingerprint(body))
    except KeyBodyMismatchError:
        raise EnvelopeError(
            422,
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was already used with a different request body",
        ) from None
    return json_response(201 if created else 409, ok_body(session.created_view()))


async def get_session(request: web.Request) -> web.Response:
    """GET /partner-session/{sessionId}."""
    sb, partner = request.app[SANDBOX], _partner(request)
    session = partner.state.sessions.get(request.match_info["sessionId"])
    if session is None:
        raise EnvelopeError(404, "SESSION_NOT_FOUND", "Session not found")
    return json_response(200, ok_body(session.detail_view(sb.clock())))


async def get_token(request: web.Request) -> web.Response:
    """GET /partner-session/by-token/{token}."""
    sb, partner = request.app[SANDBOX], _partner(request)
    session = partner.state.tokens.get(request.match_info["token"])
    if session is None:
        raise EnvelopeError(404, "SESSION_NOT_FOUND", "Session not found for this token")
    return json_response(200, ok_body(session.token_view(sb.clock())))


async def list_orders(request: web.Request) -> web.Response:
    """GET /partners/orders (and the [drift] /partners/{partnerId}/orders)."""
    partner = _partner(request)
    claimed = request.match_info.get("partnerId")
    if claimed is not None and claimed != partner.partner_id:
        raise EnvelopeError(403, "FORBIDDEN", "This API key does not belong to that partner")
    limit, offset = page_query(request.query)
    status = order_status_query(request.query)
    page = partner.state.order_index.page(status, limit, offset)
    # Assembled from each order's cached JSON: the same bytes as dumps(ok_body(...)), faster.
    text = (
        '{"success":true,"data":{"orders":['
        + ",".join(order.to_json() for order in page.items)
        + '],"pagination":'
        + dumps(page_window(page.total, limit, offset))
        + "}}"
    )
    return web.Response(status=200, text=text, content_type="application/json")


async def list_logs(request: web.Request) -> web.Response:
    """GET /partners/webhook-logs (and the [drift] /webhooks/logs)."""
    partner = _partner(request)
    limit, offset = page_query(request.query)
    status, event = log_filters_query(request.query)
    tag: Any = (status, event) if status and event else (status or event)
    page = partner.state.log_index.page(tag, limit, offset)
    data = {
        "logs": [log.to_dict() for log in page.items],
        "pagination": page_window(page.total, limit, offset),
    }
    return json_response(200, ok_body(data))


async def resend(request: web.Request) -> web.Response:
    """POST /partners/webhook-logs/resend (and the [drift] /webhooks/resend): a new log entry."""
    sb, partner = request.app[SANDBOX], _partner(request)
    kind, ident, event = resend_input(parse_json_object(await request.read()))
    order = None
    if kind == "orderId":
        order = partner.state.orders.get(ident)
    else:
        session = partner.state.sessions.get(ident)
        if session is not None and session.order_id is not None:
            order = partner.state.orders.get(session.order_id)
    if order is None:
        raise EnvelopeError(404, "ORDER_NOT_FOUND", "Order not found")
    log = sb.deliverer.emit(partner, order, event)
    data = {
        "webhookLogId": log.id,
        "eventType": event.value,
        "status": WebhookStatus.PENDING.value,
        "message": "Webhook queued for delivery",
    }
    return json_response(200, ok_body(data))


async def retry(request: web.Request) -> web.Response:
    """POST /partners/webhook-logs/{webhookLogId}/retry: the same log entry, delivered again."""
    return _retry(request, request.match_info["webhookLogId"])


async def retry_alias(request: web.Request) -> web.Response:
    """POST /webhooks/retry ([drift] alias): the log id comes in the body, as ``webhookLogId``."""
    body = parse_json_object(await request.read())
    log_id = body.get("webhookLogId")
    if log_id is None:
        raise InvalidRequestError("webhookLogId is required")
    return _retry(request, log_id)


def _retry(request: web.Request, log_id: object) -> web.Response:
    sb, partner = request.app[SANDBOX], _partner(request)
    if not is_uuid(log_id):
        raise InvalidRequestError("Invalid webhook log ID format")
    log = partner.state.logs.get(log_id)
    if log is None:
        raise EnvelopeError(404, "WEBHOOK_NOT_FOUND", "Webhook log not found")
    if log.status is WebhookStatus.SENT:
        status, message = WebhookStatus.SENT, "Webhook already successfully delivered"
    else:
        sb.deliverer.retry(partner, log)
        status, message = WebhookStatus.PENDING, "Webhook queued for retry"
    data = {
        "webhookLogId": log.id,
        "eventType": log.event_type.value,
        "status": status.value,
        "message": message,
    }
    return json_response(200, ok_body(data))


async def editor(request: web.Request) -> web.Response:
    """GET /editor/{token}: the customer opens the redirect link (the session becomes active).

    A HEAD only looks: it answers as the GET would, and the session stays as it was.
    """
    world, token = request.app[SANDBOX].world, request.match_info["token"]
    if request.method == "HEAD":
        found = world.session_for_token(token)
        session = None if found is None else found[1]
    else:
        session = world.open_session(token)
    if session is None:
        return web.Response(status=404, text="Unknown session link")
    return web.Response(
        text=f"<html><body><h1>Printora sandbox editor</h1><p>Session {session.session_id}</p>"
        "</body></html>",
        content_type="text/html",
    )


def add_api_routes(app: web.Application) -> None:
    """Register the Partner API's routes (and the [drift] aliases) on ``app``.

    Every GET answers HEAD too (aiohttp sends the GET's headers without its body).
    """
    r = app.router
    r.add_post(f"{API}/partner-session", create_session)
    r.add_get(f"{API}/partner-session/by-token/{{token}}", get_token)
    r.add_get(f"{API}/partner-session/{{sessionId}}", get_session)
    r.add_get(f"{API}/partners/orders", list_orders)
    r.add_get(f"{API}/partners/{{partnerId}}/orders", list_orders)
    r.add_get(f"{API}/partners/webhook-logs", list_logs)
    r.add_get(f"{API}/webhooks/logs", list_logs)
    r.add_post(f"{API}/partners/webhook-logs/resend", resend)
    r.add_post(f"{API}/webhooks/resend", resend)
    r.add_post(f"{API}/partners/webhook-logs/{{webhookLogId}}/retry", retry)
    r.add_post(f"{API}/webhooks/retry", retry_alias)
    r.add_get("/editor/{token}", editor)
