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
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Generator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import attrs
import backoff

from . import errors
from ._ratelimit_headers import reset_delay_seconds, retry_after_seconds
from ._sansio import error_from_response, is_success
from .transport import CallState, enter_call, exit_call

__all__ = ["RetryMiddleware", "RetryPolicy", "backoff_delay", "is_idempotent", "should_retry"]

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


def backoff_delay(
    policy: RetryPolicy, retry_number: int, rng: random.Random | None = None
) -> float:
    """Full-jitter exponential backoff before retry number ``retry_number`` (1-based)."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2 ** (retry_number - 1))
    return (rng or random).uniform(0, ceiling)


def server_wait(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked us to wait: Retry-After, else X-RateLimit-Reset on a 429."""
    wait = retry_after_seconds(headers, now)
    if wait is None and status == 429:
        wait = reset_delay_seconds(headers, now)
    return wait


def transport_failure(
    exc: BaseException, *, method: str, url: str
) -> tuple[errors.APIConnectionError, str]:
    """The SDK error for an aiohttp/timeout failure, and which kind of failure it was."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        message = f"cannot connect: {exc.os_error}"
        return errors.APIConnectionError(message, method=method, url=url), CONNECT
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return errors.APITimeoutError("the request timed out", method=method, url=url), TIMEOUT
    # Disconnects, truncated bodies, protocol garbage: the request may have had effect.
    message = f"{DROPPED}: {type(exc).__name__}"
    return errors.APIConnectionError(message, method=method, url=url), DROPPED


# -- the middleware ------------------------------------------------------------------------------


class _AttemptError(Exception):
    """One attempt's failure, with what to raise if it is the last and how long to wait if not."""

    def __init__(self, error: errors.PrintoraError, *, retryable: bool, delay: float) -> None:
        super().__init__(str(error))
        self.error = error
        self.retryable = retryable
        self.delay = delay


def _waits() -> Generator[float, Any, None]:
    """backoff's wait generator: each attempt already computed its own delay."""
    failure = yield 0.0
    while True:
        failure = yield failure.delay


class RetryMiddleware:
    """The outer client middleware: runs attempts until success or the policy says stop.

    It raises the SDK's own exceptions for every failure (HTTP errors included), with
    ``attempts`` set, and returns the response only on success, its body already read.
    """

    def __init__(
        self, policy: RetryPolicy, timeout: float, rng: random.Random | None = None
    ) -> None:
        self.policy = policy
        self._timeout = timeout
        self._rng = rng or random.Random()
        self._run = backoff.on_exception(
            _waits,
            _AttemptError,
            max_tries=None,
            giveup=self._give_up,
            jitter=None,  # delays are computed (and jittered or not) per attempt
            on_backoff=self._log_retry,
            logger=None,
        )(self._attempt)

    async def __call__(
        self, req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        state = CallState(timeout=self._timeout, deadline=self.policy.deadline)
        token = enter_call(state)
        try:
            response: aiohttp.ClientResponse = await self._run(req, handler, state)
        except _AttemptError as failed:
            failed.error.attempts = state.attempts
            raise failed.error from failed.__cause__
        finally:
            exit_call(token)
        return response

    @staticmethod
    def _give_up(failed: Exception) -> bool:
        return not (isinstance(failed, _AttemptError) and failed.retryable)

    async def _attempt(
        self, req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType, state: CallState
    ) -> aiohttp.ClientResponse:
        idempotent = is_idempotent(req.method, req.headers)
        method, url = req.method, str(req.url)
        started = time.monotonic()
        try:
            response = await handler(req)
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            lost, failure = transport_failure(exc, method=method, url=url)
            raise self._failed(state, lost, failure, idempotent) from exc
        body = await response.read()
        logger.debug(
            "%s %s -> %s in %.1f ms (attempt %d)",
            method,
            req.url.path,
            response.status,
            (time.monotonic() - started) * 1000,
            state.attempts,
        )
        if is_success(response.status, body):
            return response
        now = time.time()
        wait = server_wait(response.status, response.headers, now)
        error = error_from_response(
            response.status, response.headers, body, method=method, url=url, retry_after=wait
        )
        if isinstance(error, errors.RateLimitError) and wait is not None:
            error.reset_at = datetime.now(timezone.utc) + timedelta(seconds=wait)
        retryable = should_retry(self.policy, idempotent=idempotent, status=response.status)
        if wait is not None and wait > self.policy.max_server_wait:
            retryable = False  # the caller is better served by the reset time than a long sleep
        raise self._decide(state, error, retryable, wait)

    def _failed(
        self, state: CallState, error: errors.PrintoraError, failure: str, idempotent: bool
    ) -> _AttemptError:
        retryable = should_retry(self.policy, idempotent=idempotent, failure=failure)
        return self._decide(state, error, retryable, None)

    def _decide(
        self, state: CallState, error: errors.PrintoraError, retryable: bool, wait: float | None
    ) -> _AttemptError:
        delay = wait if wait is not None else backoff_delay(self.policy, state.attempts, self._rng)
        remaining = state.remaining()
        if state.attempts > self.policy.max_retries or (
            remaining is not None and delay >= remaining
        ):
            retryable = False
        return _AttemptError(error, retryable=retryable, delay=delay)

    @staticmethod
    def _log_retry(details: Any) -> None:
        failed: _AttemptError = details["exception"]
        logger.info(
            "retrying after %s (attempt %d failed): waiting %.2f s",
            failed.error,
            details["tries"],
            details["wait"],
        )
