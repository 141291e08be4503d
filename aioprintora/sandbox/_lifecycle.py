"""The lifecycle controls: a customer opening, paying for or losing a session, orders moving,
and the sandbox's clock, so ``expired`` is reachable without waiting 15 minutes.

Every route acts for the partner whose Bearer key it is called with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._models import OrderStatus
from ._middleware import SANDBOX, EnvelopeError, json_response, partner_of
from ._state import Partner
from ._validation import InvalidRequestError, parse_json_object
from ._wire import iso, ok_body

if TYPE_CHECKING:
    from ._server import Sandbox

__all__ = [
    "MAX_CLOCK_STEP",
    "add_lifecycle_routes",
    "control_body",
    "control_context",
    "owned",
]


def control_context(request: web.Request) -> tuple[Sandbox, Partner]:
    """The sandbox and the partner a control acts for."""
    return request.app[SANDBOX], partner_of(request)


async def control_body(request: web.Request) -> dict[str, Any]:
    """The control's JSON body (an empty body is ``{}``)."""
    return parse_json_object(await request.read(), allow_empty=True)


def owned(sb: Sandbox, partner: Partner, kind: str, ident: str) -> None:
    """404 unless the session/order exists and belongs to ``partner``."""
    table: dict[str, Any] = partner.state.sessions if kind == "session" else partner.state.orders
    if ident not in table:
        code = "SESSION_NOT_FOUND" if kind == "session" else "ORDER_NOT_FOUND"
        raise EnvelopeError(404, code, f"{kind.capitalize()} not found")


async def checkout(request: web.Request) -> web.Response:
    sb, partner = control_context(request)
    session_id = request.match_info["sessionId"]
    owned(sb, partner, "session", session_id)
    try:
        order = await sb.simulate_checkout(session_id)
    except ValueError as exc:
        raise EnvelopeError(409, "SESSION_NOT_USABLE", str(exc)) from None
    return json_response(201, ok_body(order.to_dict()))


async def open_link(request: web.Request) -> web.Response:
    sb, partner = control_context(request)
    session_id = request.match_info["sessionId"]
    owned(sb, partner, "session", session_id)
    session = partner.state.sessions[session_id]
    sb.world.open_session(session.token)
    return json_response(200, ok_body(session.detail_view(sb.clock())))


async def cancel(request: web.Request) -> web.Response:
    sb, partner = control_context(request)
    session_id = request.match_info["sessionId"]
    owned(sb, partner, "session", session_id)
    try:
        session = await sb.cancel_session(session_id)
    except ValueError as exc:
        raise EnvelopeError(409, "SESSION_NOT_CANCELLABLE", str(exc)) from None
    return json_response(200, ok_body(session.detail_view(sb.clock())))


#: The furthest one call may move the clock: ten years, far past every expiry and window.
MAX_CLOCK_STEP = 10 * 365 * 86_400


def _clock_view(sb: Sandbox) -> dict[str, Any]:
    return {"now": iso(sb.clock()), "offset": sb.clock_offset}


async def clock(request: web.Request) -> web.Response:
    sb, _ = control_context(request)
    return json_response(200, ok_body(_clock_view(sb)))


async def advance_clock(request: web.Request) -> web.Response:
    sb, _ = control_context(request)
    seconds = (await control_body(request)).get("seconds")
    if (
        not isinstance(seconds, (int, float))
        or isinstance(seconds, bool)
        or not 0 <= seconds <= MAX_CLOCK_STEP
    ):
        raise InvalidRequestError(f"seconds must be a number from 0 to {MAX_CLOCK_STEP}")
    sb.advance_clock(seconds)
    return json_response(200, ok_body(_clock_view(sb)))


async def advance(request: web.Request) -> web.Response:
    sb, partner = control_context(request)
    order_id = request.match_info["orderId"]
    owned(sb, partner, "order", order_id)
    status = (await control_body(request)).get("status")
    if not isinstance(status, str) or status not in {s.value for s in OrderStatus}:
        raise InvalidRequestError(
            f"status must be one of {', '.join(s.value for s in OrderStatus)}"
        )
    try:
        order = await sb.advance_order(order_id, status)
    except ValueError as exc:
        raise EnvelopeError(409, "INVALID_TRANSITION", str(exc)) from None
    return json_response(200, ok_body(order.to_dict()))


def add_lifecycle_routes(app: web.Application) -> None:
    """Register the session, order and clock controls on ``app``."""
    r = app.router
    r.add_post("/_sandbox/sessions/{sessionId}/checkout", checkout)
    r.add_post("/_sandbox/sessions/{sessionId}/open", open_link)
    r.add_post("/_sandbox/sessions/{sessionId}/cancel", cancel)
    r.add_post("/_sandbox/orders/{orderId}/advance", advance)
    r.add_get("/_sandbox/clock", clock)
    r.add_post("/_sandbox/clock/advance", advance_clock)
