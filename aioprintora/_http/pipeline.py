"""The one call loop: a :class:`~aioprintora._http.call.Call` in, its result (or the SDK's
error) out.

:meth:`Pipeline.send` owns everything between a resource and the wire: it builds the request
once (URL, headers, body bytes, proxy), then runs attempts until one succeeds or the retry
decisions (:class:`~aioprintora._http.retry.Retries`) say stop. Each attempt waits for the rate
limiter's slot, hands the request to the thin exchange (:mod:`aioprintora._http.transport`, the
only aiohttp code), releases the slot with the response, and classifies the answer with the pure
:func:`~aioprintora._http.sansio.decipher_response`. Hooks, the log and the deadlines are kept
here, in one place.

Time budget: ``timeout`` bounds one attempt, from the moment the limiter lets it go until the
body is read; ``deadline`` bounds the whole call (every attempt and every backoff sleep), not
counting time spent queued in the rate limiter, which is throttling the caller asked for.

Rate-limit slots: ``hold`` keeps the attempt's slot occupied until its response has arrived,
then ``release`` charges it for one period from then. The server saw the request no later than
that, so its copy of the window always expires first. Queueing has bounds of its own: a wait
the limiter already knows exceeds ``max_server_wait`` fails at once, and ``max_queue_wait`` (off
by default) caps the time queued per attempt; both raise
:class:`~aioprintora.RateLimitError` without sending.

Logging (logger ``aioprintora``, see :mod:`aioprintora._logging`): each attempt at DEBUG, each
retry and each noticeable rate-limit wait at INFO.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .. import _errors as errors
from .._logging import log_attempt, log_wait, logger
from ..hooks import AttemptInfo, CallInfo, Dispatch, RateLimitWait, RetryEvent, emit
from ..response import RAW, RawResponse
from . import transport
from ._body import DEFAULT_MAX_RESPONSE_SIZE
from .retry import Retries, RetryPolicy, is_idempotent
from .sansio import Answer, decipher_response, dumps, result
from .transport import Failure, Pool, Request

if TYPE_CHECKING:
    import aiohttp

    from ..clock import Clock
    from ..ratelimit._local import SlotLimiter
    from .call import Call

__all__ = ["CallState", "Options", "Pipeline"]

T = TypeVar("T")

#: Headers ``extra_headers`` may not set: the key is the client's, the others are per request.
RESERVED_HEADERS = frozenset(
    {"authorization", "content-type", "content-length", "host", "idempotency-key"}
)


def _is_positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not _is_positive(value):
        raise ValueError(f"{attribute.name} must be positive")


def _positive_or_none(_: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not _is_positive(value):
        raise ValueError(f"{attribute.name} must be positive (or None)")


def _at_least_one(_: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be >= 1")


def _not_reserved(_: Any, attribute: attrs.Attribute[Any], value: Mapping[str, str]) -> None:
    reserved = sorted(k for k in value if k.lower() in RESERVED_HEADERS)
    if reserved:
        raise ValueError(f"extra_headers cannot set {', '.join(reserved)}")


@attrs.frozen(kw_only=True)
class Options:
    """Every per-call option of a client, in one frozen object (``with_options`` evolves it).

    Attributes:
        timeout: seconds one attempt may take, from send to the last byte of the body.
        retry: what is retried, how often, and the call's ``deadline``.
        max_queue_wait: seconds one attempt may queue in the rate limiter (None: no bound).
        max_response_size: bytes an answer may have once decompressed.
        extra_headers: sent on every request.
    """

    timeout: float = attrs.field(default=30.0, validator=_positive)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    max_queue_wait: float | None = attrs.field(default=None, validator=_positive_or_none)
    max_response_size: int = attrs.field(default=DEFAULT_MAX_RESPONSE_SIZE, validator=_at_least_one)
    extra_headers: Mapping[str, str] = attrs.field(factory=dict, validator=_not_reserved)


@attrs.define
class CallState:
    """Clock and counters of one API call."""

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


class Secret:
    """Holds the API key so that no repr, traceback local or ``vars()`` dump shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself."""
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"


class Pipeline:
    """The request path of one client and its options (see the module docstring).

    Args:
        pool: the connection pool and rate limiter, shared with derived clients.
        options: timeouts, retries, queue bound, response cap, extra headers.
        key: the API key.
        base_url: the API root every call's path is joined to.
        clock: every wait and time reading of the path.
        hooks: told of every call, attempt, retry and rate-limit wait (None: none).
        user_agent: the ``User-Agent`` header.
    """

    __slots__ = ("_base_url", "_clock", "_headers", "_hooks", "_key", "_options", "_pool")

    def __init__(
        self,
        pool: Pool,
        options: Options,
        *,
        key: Secret,
        base_url: URL,
        clock: Clock,
        hooks: Dispatch | None,
        user_agent: str,
    ) -> None:
        self._pool = pool
        self._options = options
        self._key = key
        self._base_url = base_url
        self._clock = clock
        self._hooks = hooks
        headers = {
            "User-Agent": user_agent,
            "Accept": "application/json",
            **options.extra_headers,
            "Authorization": f"Bearer {key.reveal()}",
        }
        # aiohttp's own header type: it takes it as is, where a dict is converted per request.
        self._headers: Mapping[str, str] = CIMultiDictProxy(CIMultiDict(headers))

    def __repr__(self) -> str:
        return f"<Pipeline {self._base_url}>"

    async def send(self, call: Call[T]) -> T:
        """Run ``call`` to its result; under a ``with_raw_response`` twin, the
        :class:`~aioprintora.response.RawResponse` whose ``parse()`` gives that result.

        Raises:
            The SDK's own exceptions (``attempts`` set), or whatever a hook or the caller's
            cancellation raises.
        """
        session = self._pool.open_session()
        # Left set in the caller's task: errors built from this answer later are scrubbed too.
        errors.hide_secrets(self._key.reveal())
        request = self._request(call)
        options, clock, hooks = self._options, self._clock, self._hooks
        state = CallState(
            options.timeout, options.retry.deadline, clock.monotonic, clock.monotonic()
        )
        if hooks is not None:
            state.hooks = hooks
            state.call = CallInfo(call.operation, request.method, request.url)
            emit(hooks.on_call_start, state.call)
        retries = Retries(options.retry, is_idempotent(request.method, request.headers))
        try:
            while True:
                outcome = await self._attempt(session, request, state)
                error: errors.PrintoraError
                remaining = state.remaining()
                if isinstance(outcome, Failure):
                    error, cause, reason = outcome.error, outcome.cause, outcome.kind
                    delay = retries.delay(state.attempts, failure=reason, remaining=remaining)
                elif outcome.error is None:
                    answer = outcome
                    break
                else:
                    error, cause, reason = outcome.error, None, f"HTTP {outcome.status}"
                    delay = retries.delay(
                        state.attempts,
                        status=outcome.status,
                        server_wait=outcome.wait,
                        remaining=remaining,
                    )
                if delay is None:
                    error.attempts = state.attempts
                    if cause is not None:
                        raise error from cause
                    raise error
                logger.info(
                    "retrying %s after %s (attempt %d failed): waiting %.2f s",
                    request.method,
                    error,
                    state.attempts,
                    delay,
                )
                if hooks is not None and hooks.on_retry:
                    emit(
                        hooks.on_retry, state.call, RetryEvent(state.attempts, delay, reason, error)
                    )
                await clock.sleep(delay)
        except BaseException as exc:
            if hooks is not None:
                emit(hooks.on_call_end, state.call, exc)
            raise
        if hooks is not None:
            emit(hooks.on_call_end, state.call, None)
        if RAW.get():
            raw = RawResponse(
                answer.status,
                answer.headers or {},
                functools.partial(result, answer, call.decode, call.method, request.url),
                arrived=clock.time(),
                attempts=state.attempts,
            )
            return raw  # type: ignore[return-value]  # noqa: RET504 - the twin casts it back
        return result(answer, call.decode, call.method, request.url)

    def _request(self, call: Call[Any]) -> Request:
        """The bytes every attempt of ``call`` sends."""
        url = _url(self._base_url, call.path, call.query)
        # Per request, not per session: a session passed in by the caller gets them too.
        headers = self._headers
        body = None
        if call.json is not None or call.idempotency_key is not None:
            headers = dict(headers)
            if call.json is not None:
                body = dumps(call.json)
                headers["Content-Type"] = "application/json"
            if call.idempotency_key is not None:
                headers["Idempotency-Key"] = call.idempotency_key
        proxy = self._pool.proxy
        return Request(call.method, url, headers, body, proxy(url) if proxy else None)

    async def _attempt(
        self, session: aiohttp.ClientSession, request: Request, state: CallState
    ) -> Answer | Failure:
        """One attempt: its classified answer, or the failure that left it without one (hooks
        and the DEBUG log are told of it)."""
        # One coroutine from the limiter to the classified answer: every frame between the
        # caller and aiohttp is resumed at each of the exchange's suspensions.
        slots, hooks = self._pool.slots, state.hooks
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
        try:
            timeout = transport.attempt_timeout(state.attempt_budget())
            response = await transport.exchange(
                session, request, timeout, self._options.max_response_size
            )
        except BaseException as exc:
            if slots is not None:
                slots.release(slot)  # no response: the slot counts one period from now
            failure = None
            if isinstance(exc, Exception):
                failure = transport.failure_of(exc, request, closed=self._pool.closed)
            if attempt is not None:
                attempt.duration = self._clock.monotonic() - started
                attempt.error = exc if failure is None else failure.error
                if debug:
                    log_attempt(request.method, request.url, attempt)
                emit(on_response, state.call, attempt)
            if failure is None:
                raise
            return failure
        status, headers, body = response
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

    async def _queue(self, slots: SlotLimiter, state: CallState, request: Request) -> Any:
        """Wait for the limiter's slot; the time is the call's queue time (a hook event, a log
        line at INFO)."""
        clock = self._clock
        hooks = state.hooks.on_rate_limit_wait if state.hooks is not None else ()
        told = bool(hooks) or logger.isEnabledFor(_INFO)
        if told:  # asked before the wait: a pause is over once it has been waited out
            reason = "server pause" if slots.paused() else "window full"
        queued_from = clock.monotonic()
        hold = slots.hold(max_wait=self._options.retry.max_server_wait)
        try:
            slot = await (hold if self._options.max_queue_wait is None else self._bounded(hold))
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
        bound = self._options.max_queue_wait
        try:
            return await asyncio.wait_for(hold, bound)
        except asyncio.TimeoutError:
            raise errors.RateLimitError(
                f"queued in the rate limiter for max_queue_wait ({bound:g} s); "
                "the request was not sent",
                status_code=429,
            ) from None


_DEBUG, _INFO = logging.DEBUG, logging.INFO

#: Shorter limiter waits are the cost of asking it, not throttling: not reported to hooks.
_NOTICEABLE_WAIT = 0.001


@functools.lru_cache(maxsize=32)
def _url(base: URL, path: str, query: tuple[tuple[str, str | int], ...]) -> URL:
    """The request URL, cached: a repeated call (a poll, a status check) reuses one ``URL``,
    whose parts aiohttp reads on every request (yarl computes each once per object). A walk
    asks for every offset once: the cache is small and bounded, so its memory stays flat."""
    url = _join(base, path)
    if query:
        url = url.with_query({k: str(v) for k, v in query})
    return url


@functools.lru_cache(maxsize=64)
def _join(base: URL, path: str) -> URL:
    return base.join(URL(path.lstrip("/"))) if path else base
