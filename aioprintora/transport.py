"""The HTTP attempt: the innermost client middleware, the per-call clock, and the pool.

A call goes through ``session.request(..., middlewares=(retry, attempt))``:

- :func:`aioprintora.retry.retry_middleware` (outer) decides whether and when to try again;
- :class:`AttemptMiddleware` (inner) performs one attempt: wait for the rate limiter, send,
  read the whole body within the attempt's time budget, report the answer to the limiter.

Time budget: ``timeout`` bounds one attempt, from the moment the limiter lets it go until the
body is read; ``deadline`` bounds the whole call (every attempt and every backoff sleep), not
counting time spent queued in the rate limiter, which is throttling the caller asked for.
Queueing has bounds of its own: a wait the limiter already knows exceeds ``max_server_wait``
fails at once, and ``max_queue_wait`` (off by default) caps the time queued per attempt; both
raise :class:`~aioprintora.errors.RateLimitError` without sending. The body is read within
``max_response_size`` (see :mod:`aioprintora._body`).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import sys
import time
from typing import TYPE_CHECKING

import aiohttp
import attrs

from . import errors
from ._body import DEFAULT_MAX_RESPONSE_SIZE, read_capped

if TYPE_CHECKING:
    from .ratelimit import Limiter

__all__ = ["AttemptMiddleware", "CallState", "current_call", "make_session"]


@attrs.define
class CallState:
    """Clock and counters of one API call, shared by the middlewares that serve it."""

    timeout: float
    deadline: float | None
    started: float = attrs.field(factory=time.monotonic)
    queued: float = 0.0
    attempts: int = 0

    def elapsed(self) -> float:
        """Seconds spent on the call, not counting the rate limiter's queue."""
        return time.monotonic() - self.started - self.queued

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        if self.deadline is None:
            return None
        return self.deadline - self.elapsed()

    def attempt_budget(self) -> float:
        """How long the next attempt may take."""
        remaining = self.remaining()
        return self.timeout if remaining is None else max(0.0, min(self.timeout, remaining))


_CALL: contextvars.ContextVar[CallState] = contextvars.ContextVar("aioprintora_call")


def current_call(default_timeout: float) -> CallState:
    """The state of the call being served, or a fresh one outside the retry middleware."""
    try:
        return _CALL.get()
    except LookupError:
        return CallState(timeout=default_timeout, deadline=None)


def enter_call(state: CallState) -> contextvars.Token[CallState]:
    """Make ``state`` the current call's state (the retry middleware does this)."""
    return _CALL.set(state)


def exit_call(token: contextvars.Token[CallState]) -> None:
    """Undo :func:`enter_call`."""
    _CALL.reset(token)


class AttemptMiddleware:
    """One HTTP attempt, throttled and timed; returns a response whose body is already read.

    Reading the body here, inside the time budget, means a truncated body or a stalled read
    surfaces as an attempt failure the retry middleware can act on, and the connection is back
    in the pool before anyone decides to retry.
    """

    def __init__(
        self,
        limiter: Limiter | None,
        default_timeout: float,
        *,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        max_server_wait: float | None = None,
        max_queue_wait: float | None = None,
    ) -> None:
        self._limiter = limiter
        self._default_timeout = default_timeout
        self._max_response_size = max_response_size
        self._max_server_wait = max_server_wait
        self._max_queue_wait = max_queue_wait
        # Limiters of your own may not take ``max_wait``; ours do.
        self._bounded = limiter is not None and _takes_max_wait(limiter)

    async def __call__(
        self, req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        state = current_call(self._default_timeout)
        if self._limiter is not None:
            queued_from = time.monotonic()
            await self._queue(self._limiter)
            state.queued += time.monotonic() - queued_from
        state.attempts += 1
        budget = state.attempt_budget()
        if budget <= 0:
            raise asyncio.TimeoutError
        if sys.version_info >= (3, 11):  # no extra task per attempt, unlike wait_for
            async with asyncio.timeout(budget):
                response = await self._send(req, handler, self._max_response_size)
        else:  # pragma: no cover - Python 3.10
            response = await asyncio.wait_for(
                self._send(req, handler, self._max_response_size), budget
            )
        if self._limiter is not None:
            await self._limiter.observe(response.status, response.headers)
        return response

    async def _queue(self, limiter: Limiter) -> None:
        """Wait for the limiter, failing fast on a known long wait or after ``max_queue_wait``."""
        if self._bounded and self._max_server_wait is not None:
            waiting = limiter.acquire(max_wait=self._max_server_wait)  # type: ignore[call-arg]
        else:
            waiting = limiter.acquire()
        if self._max_queue_wait is None:
            await waiting
            return
        try:
            await asyncio.wait_for(waiting, self._max_queue_wait)  # a cancelled wait takes nothing
        except asyncio.TimeoutError:
            raise errors.RateLimitError(
                f"queued in the rate limiter for max_queue_wait ({self._max_queue_wait:g} s); "
                "the request was not sent",
                status=429,
            ) from None

    @staticmethod
    async def _send(
        req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType, max_size: int
    ) -> aiohttp.ClientResponse:
        response = await handler(req)
        try:
            await read_capped(response, max_size)
        except BaseException:
            response.close()
            raise
        return response


def _takes_max_wait(limiter: Limiter) -> bool:
    try:
        return "max_wait" in inspect.signature(limiter.acquire).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return False


def make_session(pool_size: int) -> aiohttp.ClientSession:
    """The client's own pool; timeouts are ours (see the module docstring), not aiohttp's total."""
    connector = aiohttp.TCPConnector(limit=pool_size, limit_per_host=pool_size)
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None), raise_for_status=False
    )
