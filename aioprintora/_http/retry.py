"""Where the retry is decided: the policy as data, pure decisions, and the backoff middleware.

What is retried (``RetryPolicy``):

=====================================  ==========================  ===========================
outcome                                idempotent request [1]_     request without a key [2]_
=====================================  ==========================  ===========================
connect failure (nothing was sent)     retried                     retried
429, 503                               retried                     retried
500, 502, 504                          retried                     **not** retried
dropped connection, truncated body     retried                     **not** retried
read timeout                           retried                     **not** retried
any other status                       never                       never
=====================================  ==========================  ===========================

.. [1] GET/HEAD/OPTIONS/PUT/DELETE, or a POST carrying ``Idempotency-Key`` (session creation
   always does, with the same key on every attempt, so a retried create never makes a second
   session).
.. [2] ``webhook_logs.resend`` and ``.retry``: after an ambiguous failure the delivery may
   already be queued, and a second call would deliver the webhook twice.

How long: at most ``max_retries`` retries; exponential backoff with full jitter,
``uniform(0, min(backoff_cap, backoff_base * 2 ** (retry - 1)))``; a server-directed wait
(``Retry-After`` in seconds or as an HTTP date, else ``X-RateLimit-Reset`` on a 429) is used as
is, never jittered; a server-directed wait above ``max_server_wait`` raises
:class:`~aioprintora.errors.RateLimitError` at once instead of sleeping; no retry is started whose
sleep would pass the call's ``deadline``.

The middleware (``RetryMiddleware``) runs attempts that hand it an already classified
``Answer`` (or raise ``AttemptError``); its waits come from
backoff's ``expo`` generator and ``full_jitter``, slept through the client's
:class:`~aioprintora.clock.Clock`, so a test on a virtual clock sees every sleep it takes.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import TYPE_CHECKING

import aiohttp
import attrs
import backoff

from .. import errors
from ..clock import SYSTEM_CLOCK, Clock
from ..hooks import RetryEvent, emit
from .sansio import server_wait

if TYPE_CHECKING:
    from .sansio import Answer
    from .transport import CallState

__all__ = [
    "AttemptError",
    "RetryMiddleware",
    "RetryPolicy",
    "is_idempotent",
    "server_wait",
    "should_retry",
    "transport_failure",
]

logger = logging.getLogger("aioprintora")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@attrs.frozen
class RetryPolicy:
    """What is retried, how often, and how long (see the module docstring for the table)."""

    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_server_wait: float = 120.0
    deadline: float | None = 120.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    #: Statuses that prove a request without an idempotency key had no effect.
    unsafe_retry_statuses: frozenset[int] = frozenset({429, 503})

    def __attrs_post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("deadline must be positive (or None)")


# -- pure decisions ------------------------------------------------------------------------------

CONNECT = "connect failure"  # the request certainly did not reach the server
DROPPED = "connection dropped"
TIMEOUT = "read timeout"


def is_idempotent(method: str, headers: Mapping[str, str]) -> bool:
    """Whether sending the request twice has the effect of sending it once."""
    return method.upper() in IDEMPOTENT_METHODS or "Idempotency-Key" in headers


def should_retry(
    policy: RetryPolicy, *, idempotent: bool, status: int | None = None, failure: str | None = None
) -> bool:
    """Whether an attempt that ended with ``status`` or ``failure`` may be tried again."""
    if status is not None:
        allowed = policy.retry_statuses if idempotent else policy.unsafe_retry_statuses
        return status in allowed
    return failure == CONNECT or idempotent


def _ceilings(policy: RetryPolicy) -> Generator[float, None, None]:
    """backoff's ``expo`` wait generator: base * 2**n, capped (before jitter)."""
    waits: Generator[float, None, None] = backoff.expo(
        base=2, factor=policy.backoff_base, max_value=policy.backoff_cap
    )
    next(waits)  # backoff's generators start with a bare ``yield`` (its own send(None))
    return waits


class AttemptError(Exception):
    """One attempt ended without a response: the SDK error, and which kind of failure."""

    def __init__(self, error: errors.APIConnectionError, kind: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.kind = kind


def transport_failure(
    exc: BaseException, *, method: str, url: str, closed: bool = False
) -> AttemptError | None:
    """The SDK error for an aiohttp/timeout failure, or None for an exception that is not one.

    The only place where transport failures become SDK errors. ``closed``: the client was
    closed while the call was in flight (aiohttp then fails in its own ways).
    """
    if isinstance(exc, aiohttp.ClientConnectorError):
        message = f"cannot connect: {exc.os_error}"
        return AttemptError(errors.APIConnectionError(message, method=method, url=url), CONNECT)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        timeout = errors.APITimeoutError("the request timed out", method=method, url=url)
        return AttemptError(timeout, TIMEOUT)
    if closed and isinstance(exc, Exception):
        message = "the client was closed while this call was in flight"
        return AttemptError(errors.APIConnectionError(message, method=method, url=url), DROPPED)
    if not isinstance(exc, aiohttp.ClientError):
        return None
    # Disconnects, truncated bodies, protocol garbage: the request may have had effect.
    message = f"{DROPPED}: {type(exc).__name__}"
    return AttemptError(errors.APIConnectionError(message, method=method, url=url), DROPPED)


# -- the middleware ------------------------------------------------------------------------------

#: One attempt of a call: its classified answer, or ``AttemptError``.
Attempt = Callable[["CallState"], Awaitable["Answer"]]


class RetryMiddleware:
    """The outer layer of the request path: runs attempts until success or the policy says stop.

    It raises the SDK's own exceptions for every failure (HTTP errors included), with
    ``attempts`` set, and returns the successful answer.

    Args:
        policy: what is retried and how long.
        timeout: seconds one attempt may take.
        rng: a random source for the jitter (default: backoff's ``full_jitter``).
        clock: what to sleep on and read the time from (default: the real clock).
    """

    def __init__(
        self,
        policy: RetryPolicy,
        timeout: float,
        rng: random.Random | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self.clock = clock or SYSTEM_CLOCK
        self._jitter: Callable[[float], float] = (
            backoff.full_jitter if rng is None else (lambda ceiling: rng.uniform(0, ceiling))
        )

    async def run(
        self, state: CallState, attempt: Attempt, method: str, idempotent: bool
    ) -> Answer:
        """Run ``attempt`` until it succeeds or may not be retried; the successful answer.

        Args:
            state: the call's clock and counters (created by the caller, passed to each attempt).
            attempt: performs one attempt.
            method: the request's method (for the log).
            idempotent: whether the request may be repeated after an ambiguous failure.
        """
        policy = self.policy
        ceilings: Generator[float, None, None] | None = None
        while True:
            cause: BaseException | None = None
            try:
                answer = await attempt(state)
            except AttemptError as failed:
                error: errors.PrintoraError = failed.error
                cause = failed.__cause__
                reason = failed.kind
                retryable = should_retry(policy, idempotent=idempotent, failure=failed.kind)
                wait = None
            else:
                if answer.error is None:
                    return answer
                error, wait = answer.error, answer.wait
                reason = f"HTTP {answer.status}"
                retryable = should_retry(policy, idempotent=idempotent, status=answer.status)
                if wait is not None and wait > policy.max_server_wait:
                    retryable = False  # the caller is better served by the reset time
            delay = 0.0
            if retryable and state.attempts <= policy.max_retries:
                if ceilings is None:
                    ceilings = _ceilings(policy)
                ceiling = next(ceilings)  # one step per retry, whoever sets this one's wait
                # The server's instruction is used as is, never jittered.
                delay = wait if wait is not None else self._jitter(ceiling)
                remaining = state.remaining()
                retryable = remaining is None or delay < remaining
            else:
                retryable = False
            if not retryable:
                error.attempts = state.attempts
                if cause is not None:
                    raise error from cause
                raise error
            logger.info(
                "retrying %s after %s (attempt %d failed): waiting %.2f s",
                method,
                error,
                state.attempts,
                delay,
            )
            if state.hooks is not None and state.hooks.on_retry:
                event = RetryEvent(state.attempts, delay, reason, error)
                emit(state.hooks.on_retry, state.call, event)
            await self.clock.sleep(delay)
