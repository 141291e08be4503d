"""The HTTP attempt: one throttled, timed exchange, its answer classified; call state; the pool.

A call is ``RetryMiddleware.run(state, attempt, ...)`` (:mod:`.retry`, outer: whether
and when to try again) over :meth:`Transport.send` (inner: wait for the rate limiter, send, read
the whole body within the attempt's time budget, report the answer to the limiter, classify it
with :func:`~aioprintora._http.sansio.decipher_response`). The two share one :class:`CallState`,
passed explicitly.

Time budget: ``timeout`` bounds one attempt, from the moment the limiter lets it go until the
body is read: aiohttp's total timeout of that request (above 5 s aiohttp rounds it up to a whole
second of the loop's clock); ``deadline`` bounds the whole call (every
attempt and every backoff sleep), not counting time spent queued in the rate limiter, which is
throttling the caller asked for.

Rate-limit slots: the limiter is called as the :class:`~aioprintora.ratelimit.SlotLimiter` it
declares (one with only ``acquire`` is adapted once, here): ``hold`` keeps the attempt's slot
occupied until its response has arrived, then ``release`` charges it for one period from then.
The server saw the request no later than that, so its copy of the window always expires first.

Logging (logger ``aioprintora``, see :mod:`aioprintora._logging`): each attempt at DEBUG, each
noticeable rate-limit wait at INFO; the retries are logged by :mod:`aioprintora._http.retry`.

Queueing has bounds of its own: a wait the limiter already knows exceeds ``max_server_wait``
fails at once, and ``max_queue_wait`` (off by default) caps the time queued per attempt; both
raise :class:`~aioprintora.errors.RateLimitError` without sending. The body is read within
``max_response_size`` (see :mod:`aioprintora._http._body`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs
from yarl import URL

from .. import errors
from .._logging import log_attempt, log_wait, logger
from ..hooks import AttemptInfo, CallInfo, Dispatch, RateLimitWait, emit
from ..ratelimit._local import _slots_of
from ._body import DEFAULT_MAX_RESPONSE_SIZE, read_capped
from ._proxy import without_credentials
from .retry import AttemptError, transport_failure
from .sansio import Answer, decipher_response

if TYPE_CHECKING:
    from ..clock import Clock
    from ..ratelimit._local import Limiter, SlotLimiter

__all__ = ["CallState", "Request", "Transport", "make_session"]

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


@attrs.define
class CallState:
    """Clock and counters of one API call, passed to every attempt that serves it."""

    timeout: float
    deadline: float | None
    monotonic: Callable[[], float]
    started: float
    queued: float = 0.0
    attempts: int = 0
    #: The client's hooks and the call they see (None: no hooks, no hook objects made).
    hooks: Dispatch | None = None
    call: CallInfo | None = None

    def elapsed(self) -> float:
        """Seconds spent on the call, not counting the rate limiter's queue."""
        return self.monotonic() - self.started - self.queued

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        if self.deadline is None:
            return None
        return self.deadline - self.elapsed()

    def attempt_budget(self) -> float:
        """How long the next attempt may take."""
        remaining = self.remaining()
        return self.timeout if remaining is None else max(0.0, min(self.timeout, remaining))


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


class Transport:
    """One attempt at a time: throttled, timed, its response read once and classified once.

    Args:
        limiter: the rate limiter every attempt waits for (None: none).
        clock: the client's clock (the limiter's queue time, the wall time of an answer).
        closed: whether the client was closed (a call cut off by ``aclose()`` is reported so).
        max_response_size: bytes an answer may have once decompressed.
        max_server_wait: a limiter wait known to be longer fails at once (the ``max_wait`` of
            :meth:`~aioprintora.ratelimit.SlotLimiter.hold`).
        max_queue_wait: seconds an attempt may queue in the limiter (None: no bound).
    """

    def __init__(
        self,
        limiter: Limiter | None,
        clock: Clock,
        closed: Callable[[], bool],
        *,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        max_server_wait: float | None = None,
        max_queue_wait: float | None = None,
    ) -> None:
        self.limiter = limiter
        self._slots: SlotLimiter | None = None if limiter is None else _slots_of(limiter)
        self._clock = clock
        self._closed = closed
        self._max_response_size = max_response_size
        self._max_server_wait = max_server_wait
        self._max_queue_wait = max_queue_wait

    async def send(
        self, session: aiohttp.ClientSession, request: Request, state: CallState
    ) -> Answer:
        """One attempt: its classified answer (hooks, when the call has any, are told of it).

        Raises:
            retry.AttemptError: no whole response (connect failure, drop, timeout).
        """
        # One coroutine from the limiter to the classified answer: every frame between the
        # caller and aiohttp is resumed at each of the exchange's suspensions.
        slots, hooks = self._slots, state.hooks
        slot: Any = None
        if slots is not None:
            slot = await self._queue(slots, state, request)
        attempt: AttemptInfo | None = None
        on_response: tuple[Callable[..., object], ...] = ()
        debug = logger.isEnabledFor(_DEBUG)  # the log at DEBUG is one more listener
        if debug or (hooks is not None and hooks.attempts):
            attempt = AttemptInfo(state.attempts + 1)
            if hooks is not None and hooks.attempts:
                on_response = hooks.on_response
                emit(hooks.on_request, state.call, attempt)
            started = self._clock.monotonic()
        state.attempts += 1
        budget = state.attempt_budget()
        try:
            try:
                # aiohttp's total timeout covers connect, send and the whole body read.
                response = await session.request(
                    request.method,
                    request.url,
                    data=request.body,
                    headers=request.headers,
                    middlewares=_MIDDLEWARES,  # a session passed in keeps its own for its own
                    timeout=attempt_timeout(budget),
                    proxy=request.proxy,
                )
                try:
                    body = await read_capped(response, self._max_response_size)  # one read
                except BaseException:
                    response.close()
                    raise
            except Exception as exc:
                raise self._failure(exc, request)  # noqa: B904 - it sets its own cause
        except BaseException as exc:
            if slots is not None:
                slots.release(slot)  # no response: the slot counts one period from now
            if attempt is not None:
                attempt.duration = self._clock.monotonic() - started
                attempt.error = exc.error if isinstance(exc, AttemptError) else exc
                if debug:
                    log_attempt(request.method, request.url, attempt)
                emit(on_response, state.call, attempt)
            raise
        status, headers = response.status, response.headers
        if slots is not None:  # with the slot: the limiter knows when it left
            slots.release(slot, status, headers)
        answer = decipher_response(
            status, headers, body, method=request.method, url=request.url, now=self._clock.time()
        )
        if attempt is not None:
            attempt.duration = self._clock.monotonic() - started
            attempt.status_code, attempt.headers, attempt.error = status, headers, answer.error
            if debug:
                log_attempt(request.method, request.url, attempt)
            emit(on_response, state.call, attempt)
        return answer

    def _failure(self, exc: Exception, request: Request) -> Exception:
        """The AttemptError for an aiohttp failure, caused by it (``exc`` for any other)."""
        dropped = exc.dropped if isinstance(exc, _Sealed) else exc
        failure = transport_failure(
            dropped, method=request.method, url=str(request.url), closed=self._closed()
        )
        if failure is None:
            return exc
        # aiohttp's errors may name the proxy's credentials, and the cause is printed too.
        failure.__cause__ = (
            dropped if request.proxy is None else without_credentials(dropped, request.proxy)
        )
        return failure

    async def _queue(self, slots: SlotLimiter, state: CallState, request: Request) -> Any:
        """Wait for the limiter's slot; the time is the call's queue time (a hook event, a log
        line at INFO)."""
        clock = self._clock
        hooks = state.hooks.on_rate_limit_wait if state.hooks is not None else ()
        told = bool(hooks) or logger.isEnabledFor(_INFO)
        if told:  # asked before the wait: a pause is over once it has been waited out
            reason = "server pause" if slots.paused() else "window full"
        queued_from = clock.monotonic()
        hold = slots.hold(max_wait=self._max_server_wait)
        try:
            slot = await (hold if self._max_queue_wait is None else self._bounded(hold))
        except errors.RateLimitError as refused:  # refused unsent: the limiter knows no request
            refused.method, refused.url = request.method, str(request.url)
            raise
        waited = clock.monotonic() - queued_from
        state.queued += waited
        if told and waited >= _NOTICEABLE_WAIT:
            if hooks:
                emit(hooks, state.call, RateLimitWait(waited, reason))
            log_wait(request.method, request.url, waited, reason)
        return slot

    async def _bounded(self, hold: Awaitable[Any]) -> Any:
        """``hold``, given up after ``max_queue_wait`` (a cancelled wait takes nothing)."""
        try:
            return await asyncio.wait_for(hold, self._max_queue_wait)
        except asyncio.TimeoutError:
            raise errors.RateLimitError(
                f"queued in the rate limiter for max_queue_wait ({self._max_queue_wait:g} s); "
                "the request was not sent",
                status_code=429,
            ) from None


_DEBUG, _INFO = logging.DEBUG, logging.INFO

#: Shorter limiter waits are the cost of asking it, not throttling: not reported to hooks.
_NOTICEABLE_WAIT = 0.001


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
    of attempts, so the drop is passed up to the retry middleware instead."""
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
