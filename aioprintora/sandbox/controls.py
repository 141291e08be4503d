"""Test controls over HTTP under ``/_sandbox/``, for partners who do not drive it from Python.

Each route is authenticated with a partner's Bearer key and acts for that partner (faults are
sandbox-wide). None of them is rate-limited or faulted.

=======  ========================================  =============================================
POST     /_sandbox/sessions/{sessionId}/checkout   the customer pays: 201 with the new order
POST     /_sandbox/sessions/{sessionId}/open       the customer opens the link: session detail
POST     /_sandbox/orders/{orderId}/advance        ``{"status": "shipped"}``: the order
POST     /_sandbox/orders/seed                     ``{"count": 100, "statuses"?, "webhooks"?}``
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
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..models import OrderStatus
from .middleware import SANDBOX, EnvelopeError, json_response, partner_of
from .state import Partner
from .validation import InvalidRequestError, parse_json_object
from .wire import ok_body

if TYPE_CHECKING:
    from .server import Sandbox

__all__ = ["add_control_routes", "openapi_document"]


@functools.lru_cache(maxsize=1)
def openapi_document() -> str:
    """The shipped OpenAPI document, as text."""
    return importlib.resources.files(__package__).joinpath("openapi.json").read_text("utf-8")


def _ctx(request: web.Request) -> tuple[Sandbox, Partner]:
    return request.app[SANDBOX], partner_of(request)


async def _body(request: web.Request) -> dict[str, Any]:
    return parse_json_object(await request.read(), allow_empty=True)


def _owned(sb: Sandbox, partner: Partner, kind: str, ident: str) -> None:
    """404 unless the session/order exists and belongs to ``partner``."""
    table: dict[str, Any] = partner.state.sessions if kind == "session" else partner.state.orders
    if ident not in table:
        code = "SESSION_NOT_FOUND" if kind == "session" else "ORDER_NOT_FOUND"
        raise EnvelopeError(404, code, f"{kind.capitalize()} not found")


async def checkout(request: web.Request) -> web.Response:
    sb, partner = _ctx(request)
    session_id = request.match_info["sessionId"]
    _owned(sb, partner, "session", session_id)
    try:
        order = await sb.simulate_checkout(session_id)
    except ValueError as exc:
        raise EnvelopeError(409, "SESSION_NOT_USABLE", str(exc)) from None
    return json_response(201, ok_body(order.to_dict()))


async def open_link(request: web.Request) -> web.Response:
    sb, partner = _ctx(request)
    session_id = request.match_info["sessionId"]
    _owned(sb, partner, "session", session_id)
    session = partner.state.sessions[session_id]
    sb.world.open_session(session.token)
    return json_response(200, ok_body(session.detail_view(sb.clock())))


async def advance(request: web.Request) -> web.Response:
    sb, partner = _ctx(request)
    order_id = request.match_info["orderId"]
    _owned(sb, partner, "order", order_id)
    status = (await _body(request)).get("status")
    if status not in {s.value for s in OrderStatus}:
        raise InvalidRequestError(
            f"status must be one of {', '.join(s.value for s in OrderStatus)}"
        )
    try:
        order = await sb.advance_order(order_id, status)
    except ValueError as exc:
        raise EnvelopeError(409, "INVALID_TRANSITION", str(exc)) from None
    return json_response(200, ok_body(order.to_dict()))


async def seed(request: web.Request) -> web.Response:
    sb, partner = _ctx(request)
    body = await _body(request)
    count, statuses = body.get("count"), body.get("statuses")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1_000_000:
        raise InvalidRequestError("count must be an integer from 0 to 1000000")
    if statuses is not None and not (isinstance(statuses, list) and statuses):
        raise InvalidRequestError("statuses must be a non-empty list")
    try:
        made = await sb.seed_orders(
            count, statuses, api_key=partner.api_key, webhooks=bool(body.get("webhooks"))
        )
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from None
    return json_response(201, ok_body({"created": len(made)}))


async def webhook_url(request: web.Request) -> web.Response:
    _, partner = _ctx(request)
    url = (await _body(request)).get("url")
    if url is not None and not isinstance(url, str):
        raise InvalidRequestError("url must be a string or null")
    partner.webhook_url = url
    return json_response(200, ok_body({"url": url}))


async def add_fault(request: web.Request) -> web.Response:
    sb, _ = _ctx(request)
    body = await _body(request)
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
    sb, _ = _ctx(request)
    body = await _body(request)
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
    sb, _ = _ctx(request)
    sb.clear_faults()
    return json_response(200, ok_body({"pending": 0}))


async def add_partner(request: web.Request) -> web.Response:
    sb, _ = _ctx(request)
    url = (await _body(request)).get("webhookUrl")
    partner = sb.add_partner(url if isinstance(url, str) else None)
    data = {
        "partnerId": partner.partner_id,
        "apiKey": partner.api_key,
        "webhookSecret": partner.webhook_secret,
    }
    return json_response(201, ok_body(data))


async def reset(request: web.Request) -> web.Response:
    sb, partner = _ctx(request)
    sb.reset(partner.api_key)
    return json_response(200, ok_body({"reset": True}))


async def counts(request: web.Request) -> web.Response:
    sb, partner = _ctx(request)
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
    sb, _ = _ctx(request)
    timeout = (await _body(request)).get("timeout", 5.0)
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
    """Register the ``/_sandbox/`` routes on ``app``."""
    r = app.router
    r.add_post("/_sandbox/sessions/{sessionId}/checkout", checkout)
    r.add_post("/_sandbox/sessions/{sessionId}/open", open_link)
    r.add_post("/_sandbox/orders/seed", seed)
    r.add_post("/_sandbox/orders/{orderId}/advance", advance)
    r.add_put("/_sandbox/webhook-url", webhook_url)
    r.add_post("/_sandbox/faults", add_fault)
    r.add_put("/_sandbox/faults/random", random_faults)
    r.add_delete("/_sandbox/faults", clear_faults)
    r.add_post("/_sandbox/partners", add_partner)
    r.add_post("/_sandbox/reset", reset)
    r.add_get("/_sandbox/counts", counts)
    r.add_post("/_sandbox/webhooks/wait", wait_deliveries)
    r.add_get("/_sandbox/openapi.json", openapi)
