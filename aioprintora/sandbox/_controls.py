"""Test controls over HTTP under ``/_sandbox/``, for partners who do not drive it from Python.

Each route is authenticated with a partner's Bearer key and acts for that partner (faults are
sandbox-wide). None of them is rate-limited or faulted.

=======  ========================================  =============================================
POST     /_sandbox/sessions/{sessionId}/checkout   the customer pays: 201 with the new order
POST     /_sandbox/sessions/{sessionId}/open       the customer opens the link: session detail
POST     /_sandbox/sessions/{sessionId}/cancel     the session is cancelled: session detail
GET      /_sandbox/clock                           ``{"now", "offset"}``: the sandbox's time
POST     /_sandbox/clock/advance                   ``{"seconds": 900}``: time moves ahead
POST     /_sandbox/orders/{orderId}/advance        ``{"status": "shipped"}``: the order
POST     /_sandbox/orders/seed                     ``{"count": 100, "statuses"?, "webhooks"?}``
POST     /_sandbox/orders/seed-history             ``{"count": 3000, "days"?, "webhooks"?}``
PUT      /_sandbox/webhook-url                     ``{"url": "http://..." | null}``
POST     /_sandbox/faults                          ``{"kind", "count"?, "method"?, "path"?}``
PUT      /_sandbox/faults/random                   ``{"rate", "kinds"?, "seed"?}``
DELETE   /_sandbox/faults                          no more faults
POST     /_sandbox/partners                        201 ``{"partnerId", "apiKey", "webhookSecret"}``
POST     /_sandbox/reset                           forget the partner's data
GET      /_sandbox/counts                          ``{"sessions", "orders", "webhookLogs", ...}``
POST     /_sandbox/webhooks/wait                   ``{"timeout"?}``: until deliveries are done
GET      /_sandbox/openapi.json                    the Partner API's OpenAPI 3.1 document
=======  ========================================  =============================================
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

from aiohttp import web

from ._lifecycle import add_lifecycle_routes, control_body, control_context
from ._middleware import EnvelopeError, json_response
from ._validation import InvalidRequestError
from ._wire import ok_body

__all__ = ["add_control_routes", "openapi_document"]


@functools.lru_cache(maxsize=1)
def openapi_document() -> str:
    """The shipped OpenAPI document, as text."""
    return importlib.resources.files(__package__).joinpath("openapi.json").read_text("utf-8")


def _count(body: dict[str, Any]) -> int:
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1_000_000:
        raise InvalidRequestError("count must be an integer from 0 to 1000000")
    return count


async def seed(request: web.Request) -> web.Response:
    sb, partner = control_context(request)
    body = await control_body(request)
    count, statuses = _count(body), body.get("statuses")
    if statuses is not None and not (isinstance(statuses, list) and statuses):
        raise InvalidRequestError("statuses must be a non-empty list")
    try:
        made = await sb.seed_orders(
            count, statuses, api_key=partner.api_key, webhooks=bool(body.get("webhooks"))
        )
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from None
    return json_response(201, ok_body({"created": len(made)}))


async def seed_history(request: web.Request) -> web.Response:
    sb, partner = control_context(request)
    body = await control_body(request)
    count, days = _count(body), body.get("days", 42)
    if not isinstance(days, (int, float)) or isinstance(days, bool) or not 0 < days <= 3650:
        raise InvalidRequestError("days must be a number of days from 0 (excluded) to 3650")
    made = await sb.seed_history(
        count, days=float(days), api_key=partner.api_key, webhooks=bool(body.get("webhooks"))
    )
    return json_response(201, ok_body({"created": len(made)}))


async def webhook_url(request: web.Request) -> web.Response:
    _, partner = control_context(request)
    url = (await control_body(request)).get("url")
    if url is not None and not isinstance(url, str):
        raise InvalidRequestError("url must be a string or null")
    partner.webhook_url = url
    return json_response(200, ok_body({"url": url}))


async def add_fault(request: web.Request) -> web.Response:
    sb, _ = control_context(request)
    body = await control_body(request)
    try:
        sb.fail_next(
            body.get("count", 1),
            str(body.get("kind")),
            method=body.get("method"),
            path=body.get("path"),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(str(exc)) from None
    return json_response(200, ok_body({"pending": sb.faults.pending}))


async def random_faults(request: web.Request) -> web.Response:
    sb, _ = control_context(request)
    body = await control_body(request)
    try:
        sb.set_faults(
            float(body.get("rate", 0)),
            body.get("kinds", ("500", "503", "commit_drop")),
            body.get("seed"),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(str(exc)) from None
    return json_response(200, ok_body({"rate": body.get("rate", 0)}))


async def clear_faults(request: web.Request) -> web.Response:
    sb, _ = control_context(request)
    sb.clear_faults()
    return json_response(200, ok_body({"pending": 0}))


async def add_partner(request: web.Request) -> web.Response:
    sb, _ = control_context(request)
    url = (await control_body(request)).get("webhookUrl")
    partner = sb.add_partner(url if isinstance(url, str) else None)
    data = {
        "partnerId": partner.partner_id,
        "apiKey": partner.api_key,
        "webhookSecret": partner.webhook_secret,
    }
    return json_response(201, ok_body(data))


async def reset(request: web.Request) -> web.Response:
    sb, partner = control_context(request)
    sb.reset(partner.api_key)
    return json_response(200, ok_body({"reset": True}))


async def counts(request: web.Request) -> web.Response:
    sb, partner = control_context(request)
    data = {
        "partnerId": partner.partner_id,
        "sessions": len(partner.state.sessions),
        "orders": len(partner.state.orders),
        "webhookLogs": len(partner.state.logs),
        "pendingDeliveries": sb.deliverer.pending,
        "requests": len(sb.requests),
        "pendingFaults": sb.faults.pending,
    }
    return json_response(200, ok_body(data))


async def wait_deliveries(request: web.Request) -> web.Response:
    sb, _ = control_context(request)
    timeout = (await control_body(request)).get("timeout", 5.0)
    if not isinstance(timeout, (int, float)) or not 0 <= timeout <= 600:
        raise InvalidRequestError("timeout must be a number of seconds from 0 to 600")
    try:
        await sb.wait_for_deliveries(float(timeout))
    except TimeoutError as exc:
        raise EnvelopeError(408, "DELIVERIES_PENDING", str(exc)) from None
    return json_response(200, ok_body({"pendingDeliveries": 0}))


async def openapi(request: web.Request) -> web.Response:
    return web.Response(text=openapi_document(), content_type="application/json")


def add_control_routes(app: web.Application) -> None:
    """Register the ``/_sandbox/`` routes on ``app`` (the lifecycle ones too)."""
    add_lifecycle_routes(app)
    r = app.router
    r.add_post("/_sandbox/orders/seed", seed)
    r.add_post("/_sandbox/orders/seed-history", seed_history)
    r.add_put("/_sandbox/webhook-url", webhook_url)
    r.add_post("/_sandbox/faults", add_fault)
    r.add_put("/_sandbox/faults/random", random_faults)
    r.add_delete("/_sandbox/faults", clear_faults)
    r.add_post("/_sandbox/partners", add_partner)
    r.add_post("/_sandbox/reset", reset)
    r.add_get("/_sandbox/counts", counts)
    r.add_post("/_sandbox/webhooks/wait", wait_deliveries)
    r.add_get("/_sandbox/openapi.json", openapi)
