"""The one aiohttp middleware in front of every route.

In order: log the request, identify the key, rate-limit (any path under ``/api/``), answer
404/405 and OPTIONS, authenticate, refuse a Partner API body that is not JSON (415), serve a
scripted or random fault, run the handler, turn errors into the JSON envelope, and stamp
``Date`` and the ``X-RateLimit-*`` headers on the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
from typing import TYPE_CHECKING

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ._ratelimit import Decision
from ._validation import InvalidRequestError
from ._wire import dumps, error_body

if TYPE_CHECKING:
    from ._server import Sandbox
    from ._state import Partner

__all__ = [
    "SANDBOX",
    "EnvelopeError",
    "RequestRecord",
    "json_response",
    "make_middleware",
    "partner_of",
]

#: Where handlers find their :class:`~aioprintora.sandbox.Sandbox`.
SANDBOX: web.AppKey[Sandbox] = web.AppKey("sandbox")

logger = logging.getLogger("aioprintora.sandbox")

_HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_TRUNCATED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
    b'Content-Length: 4096\r\nConnection: close\r\n\r\n{"success":true,"data":{"ord'
)
_PRE_WORK = frozenset({"500", "502", "503", "drop", "malformed", "truncated"})


class EnvelopeError(Exception):
    """An error answer: the status and the envelope's ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@attrs.define(eq=False)
class RequestRecord:
    """One request the sandbox received (``Authorization`` is never kept: ``partner_id`` is)."""

    at: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = attrs.field(repr=False)
    partner_id: str | None = None
    status: int | None = None  # None: the connection was dropped without an answer
    fault: str | None = None

    @property
    def idempotency_key(self) -> str | None:
        """The ``Idempotency-Key`` header, if sent (header names are case-insensitive)."""
        return next((v for k, v in self.headers.items() if k.lower() == "idempotency-key"), None)


def json_response(status: int, body: object) -> web.Response:
    """A JSON answer."""
    return web.Response(status=status, text=dumps(body), content_type="application/json")


def _error(status: int, code: str, message: str) -> web.Response:
    return json_response(status, error_body(code, message))


def _drop(request: web.Request) -> web.Response:
    """Close the connection without answering (aiohttp then writes nothing)."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=499)


def make_middleware(sb: Sandbox) -> Middleware:
    """The middleware bound to one sandbox."""

    @web.middleware
    async def sandbox_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        record = RequestRecord(
            sb.clock(), request.method, request.path, dict(request.query), headers, b""
        )
        sb.requests.append(record)
        decision: Decision | None = None
        try:
            record.body = await request.read()
            response, decision = await _dispatch(sb, request, handler, record)
        except web.HTTPException as exc:  # e.g. 413 from aiohttp: still a JSON envelope
            code = "PAYLOAD_TOO_LARGE" if exc.status == 413 else "BAD_REQUEST"
            response = _error(exc.status, code, exc.reason)
        except EnvelopeError as exc:
            response = _error(exc.status, exc.code, exc.message)
        except InvalidRequestError as exc:
            response = _error(400, exc.code, exc.message)
        except Exception:
            logger.exception("sandbox handler failed on %s %s", request.method, request.path)
            response = _error(500, "INTERNAL_ERROR", "Internal server error")
        if decision is None:
            decision = sb.limiter.peek(record.partner_id, sb.clock()) if sb.limiter else None
        if decision is not None and "X-RateLimit-Limit" not in response.headers:
            response.headers.update(decision.headers())
        response.headers["Date"] = email.utils.formatdate(sb.clock(), usegmt=True)
        if record.status is None and record.fault not in ("drop", "commit_drop", "truncated"):
            record.status = response.status
        return response

    return sandbox_middleware


async def _dispatch(
    sb: Sandbox, request: web.Request, handler: Handler, record: RequestRecord
) -> tuple[web.StreamResponse, Decision | None]:
    control = request.path.startswith("/_sandbox/")
    api = request.path.startswith("/api/")
    # The key is identified before routing, so that every answer (404 and 405 included)
    # describes the caller's real rate-limit state, never an empty window.
    partner = sb.world.partner_for_key(_bearer(request))
    if partner is not None:
        record.partner_id = partner.partner_id
    decision: Decision | None = None
    if api and partner is not None and sb.limiter is not None:
        # Counted before routing too, as a gateway in front of the API counts: a key's
        # requests to unknown paths or with wrong methods use its quota like any other.
        decision = sb.limiter.hit(partner.partner_id, sb.clock())
        if not decision.allowed:
            response = _error(429, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded, retry later")
            response.headers.update(decision.headers())
            return response, decision
    route_error = request.match_info.http_exception
    if route_error is not None:
        if isinstance(route_error, web.HTTPMethodNotAllowed):
            # No route registers OPTIONS: it is answered here, for every route, before the key
            # is checked (a browser's preflight carries none).
            allow = ", ".join(sorted(route_error.allowed_methods | {"OPTIONS"}))
            if request.method == "OPTIONS":
                return web.Response(status=204, headers={"Allow": allow}), decision
            response = _error(405, "METHOD_NOT_ALLOWED", f"Method {request.method} not allowed")
            response.headers["Allow"] = allow
            return response, decision
        return _error(404, "NOT_FOUND", f"No route for {request.path}"), decision
    if not (control or api) or request.path == "/_sandbox/openapi.json":
        return await handler(request), None
    if partner is None:
        raise EnvelopeError(401, "INVALID_API_KEY", "Invalid or missing API key")
    if control:
        return await handler(request), None
    if (
        request.method == "POST"
        and record.body
        and not _is_json(request.headers.get("Content-Type", ""))
    ):
        raise EnvelopeError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
    fault = sb.faults.take(request.method, request.path)
    if fault is None:
        return await handler(request), decision
    record.fault = fault
    return await _serve_fault(sb, fault, request, handler), decision


def _is_json(content_type: str) -> bool:
    """Whether a ``Content-Type`` is ``application/json``, parameters (charset...) allowed."""
    return content_type.partition(";")[0].strip().lower() == "application/json"


def _bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def partner_of(request: web.Request) -> Partner:
    """The authenticated partner of a request (the middleware has already checked the key)."""
    partner = request.app[SANDBOX].world.partner_for_key(_bearer(request))
    if partner is None:  # pragma: no cover - the middleware answered 401 already
        raise EnvelopeError(401, "INVALID_API_KEY", "Invalid or missing API key")
    return partner


async def _serve_fault(
    sb: Sandbox, fault: str, request: web.Request, handler: Handler
) -> web.StreamResponse:
    name, _, arg = fault.partition(":")
    if name == "429":
        response = _error(429, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded, retry later")
        response.headers["Retry-After"] = arg or "1"
        return response
    if fault in _PRE_WORK:
        return _pre_work_fault(fault, request)
    try:
        done = await handler(request)  # the work is done and committed from here on
    except EnvelopeError as exc:
        done = _error(exc.status, exc.code, exc.message)
    except InvalidRequestError as exc:
        done = _error(400, exc.code, exc.message)
    if fault == "commit_drop":
        return _drop(request)
    if fault == "commit_500":
        return _error(500, "INTERNAL_ERROR", "Internal server error")
    # "delay:<s>": the answer comes late; closing the sandbox cuts the wait short.
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(sb.closing.wait(), float(arg))
    return done


def _pre_work_fault(fault: str, request: web.Request) -> web.StreamResponse:
    if fault == "500":
        return _error(500, "INTERNAL_ERROR", "Internal server error")
    if fault == "503":
        return _error(503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
    if fault == "502":
        return web.Response(status=502, text=_HTML_502, content_type="text/html")
    if fault == "malformed":
        return web.Response(
            status=200, text='{"success": true, "data": {"id": ', content_type="application/json"
        )
    if fault == "truncated" and request.transport is not None:
        request.transport.write(_TRUNCATED)
    return _drop(request)
