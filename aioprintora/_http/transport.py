"""The thin exchange: the only code of the request path that speaks aiohttp.

:func:`exchange` sends one request and reads its whole body within one time budget (aiohttp's
total timeout of that request: connect, send and body; above 5 s aiohttp rounds it up to a
whole second of the loop's clock) and a size cap (:mod:`aioprintora._http._body`).
:func:`failure_of` turns what aiohttp raised into the SDK's error and the kind of failure the
retry table knows (:mod:`aioprintora._http.retry`). :class:`Pool` owns the connection pool, the
rate limiter it is throttled by, and their lifecycle, shared by a client and every client
``with_options`` derives from it. Whether and when to send is decided by the call loop
(:mod:`aioprintora._http.pipeline`), never here.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import aiohttp
import attrs
from yarl import URL

from .. import _errors as errors
from ._body import read_capped
from ._proxy import ProxyChooser, without_credentials
from .retry import CONNECT, DROPPED, TIMEOUT

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

    from ..ratelimit._local import Limiter, SlotLimiter

__all__ = [
    "Failure",
    "Pool",
    "Request",
    "Response",
    "attempt_timeout",
    "exchange",
    "failure_of",
    "make_session",
]

#: The session's timeouts are off: each attempt's request gets its own (see the module docstring).
NO_TIMEOUT = aiohttp.ClientTimeout(total=None)


def attempt_timeout(budget: float) -> aiohttp.ClientTimeout:
    """aiohttp's timeout for an attempt of ``budget`` seconds.

    Raises:
        asyncio.TimeoutError: no time is left (aiohttp reads a total of 0 as "no timeout").
    """
    if budget == math.inf:
        return NO_TIMEOUT
    if not budget > 0:  # NaN included
        raise asyncio.TimeoutError
    return aiohttp.ClientTimeout(total=budget)


class Request:
    """What every attempt of a call sends, byte for byte."""

    __slots__ = ("body", "headers", "method", "proxy", "url")

    def __init__(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        body: bytes | None = None,
        proxy: URL | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.proxy = proxy

    def __repr__(self) -> str:  # headers left out: they carry the API key
        return f"<Request {self.method} {self.url}>"


class Response(NamedTuple):
    """A whole response: status, headers and the body, read once."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


async def exchange(
    session: aiohttp.ClientSession, request: Request, timeout: aiohttp.ClientTimeout, cap: int
) -> Response:
    """Send ``request`` and read its whole body (at most ``cap`` bytes once decoded).

    Raises:
        Whatever aiohttp raises (:func:`failure_of` reads it), ResponseTooLargeError.
    """
    response = await session.request(
        request.method,
        request.url,
        data=request.body,
        headers=request.headers,
        middlewares=_MIDDLEWARES,  # a session passed in keeps its own for its own requests
        timeout=timeout,
        proxy=request.proxy,
    )
    try:
        body = await read_capped(response, cap)
    except BaseException:
        response.close()
        raise
    return Response(response.status, response.headers, body)


class Failure(NamedTuple):
    """An attempt that ended without a response: the SDK's error, its kind, and its cause."""

    error: errors.APIConnectionError
    kind: str
    cause: BaseException


def failure_of(exc: BaseException, request: Request, *, closed: bool = False) -> Failure | None:
    """The SDK error for an aiohttp/timeout failure, or None for an exception that is not one.

    The only place where transport failures become SDK errors. ``closed``: the client was
    closed while the call was in flight (aiohttp then fails in its own ways). The cause never
    shows the proxy's credentials (aiohttp's errors name the proxy URL).
    """
    dropped = exc.dropped if isinstance(exc, _Sealed) else exc
    where = {"method": request.method, "url": str(request.url)}
    error: errors.APIConnectionError
    if isinstance(dropped, aiohttp.ClientConnectorError):
        kind = CONNECT
        error = errors.APIConnectionError(f"cannot connect: {dropped.os_error}", **where)
    elif isinstance(dropped, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        kind, error = TIMEOUT, errors.APITimeoutError("the request timed out", **where)
    elif closed and isinstance(dropped, Exception):
        message = "the client was closed while this call was in flight"
        kind, error = DROPPED, errors.APIConnectionError(message, **where)
    elif isinstance(dropped, aiohttp.ClientError):
        # Disconnects, truncated bodies, protocol garbage: the request may have had effect.
        message = f"{DROPPED}: {type(dropped).__name__}"
        kind, error = DROPPED, errors.APIConnectionError(message, **where)
    else:
        return None
    cause = dropped if request.proxy is None else without_credentials(dropped, request.proxy)
    return Failure(error, kind, cause)


class _Sealed(Exception):  # noqa: N818 - never escapes this module
    """A dropped connection, wrapped so that aiohttp does not resend the request itself."""

    def __init__(self, dropped: aiohttp.ClientError) -> None:
        super().__init__(str(dropped))
        self.dropped = dropped


async def _seal(
    req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """The one client middleware: aiohttp silently resends an idempotent request once when a
    kept-alive connection turns out closed; that resend would bypass the limiter and the count
    of attempts, so the drop is passed up to the call loop instead."""
    try:
        return await handler(req)
    except aiohttp.ClientConnectorError:
        raise
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        raise _Sealed(exc) from exc


_MIDDLEWARES = (_seal,)


def make_session(pool_size: int) -> aiohttp.ClientSession:
    """The client's own pool; timeouts are ours (see the module docstring), not aiohttp's."""
    connector = aiohttp.TCPConnector(limit=pool_size, limit_per_host=pool_size)
    return aiohttp.ClientSession(connector=connector, timeout=NO_TIMEOUT, raise_for_status=False)


_OTHER_LOOP = (
    "this PrintoraClient was first used in another event loop (e.g. an earlier asyncio.run()); "
    "a client's connection pool belongs to one loop: create the client inside the loop that "
    "uses it (in your async main), or run all its calls under one asyncio.run()"
)


@attrs.define(eq=False)
class Pool:
    """What a client and the clients ``with_options`` derives from it share: the connection
    pool, the rate limiter (as the slots the call loop holds) and the lifecycle."""

    session: aiohttp.ClientSession | None
    owned: bool
    size: int
    limiter: Limiter | None
    #: The limiter as the call loop calls it (one with only ``acquire`` adapted once, here).
    slots: SlotLimiter | None = attrs.field(init=False)
    closed: bool = False
    #: The loop the session was made in (a pool cannot move between loops).
    loop: asyncio.AbstractEventLoop | None = None
    #: Proxies from the environment, for our own session only (None: none set, or yours).
    proxy: ProxyChooser | None = None

    def __attrs_post_init__(self) -> None:
        from ..ratelimit._local import _slots_of

        self.slots = None if self.limiter is None else _slots_of(self.limiter)

    def open_session(self) -> aiohttp.ClientSession:
        """The session to send through, made on first use in the running loop."""
        if self.closed:
            raise RuntimeError("this PrintoraClient is closed; create a new one")
        loop = asyncio.get_running_loop()
        if self.session is None:
            if not self.owned:
                raise RuntimeError("this PrintoraClient's session was taken away")
            self.session = make_session(self.size)
            self.proxy = ProxyChooser() or None
            self.loop = loop
        elif self.loop is None:
            self.loop = loop  # a session of yours: the loop it is first used in
        elif self.loop is not loop:
            raise RuntimeError(_OTHER_LOOP)
        return self.session

    async def aclose(self) -> None:
        """Close the pool (a session passed in is left open); closing twice is harmless."""
        if self.closed:
            return
        self.closed = True
        session, self.session = self.session, None
        if session is not None and self.owned:
            await session.close()
