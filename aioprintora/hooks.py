"""Callbacks on the request path, for metrics and tracing: ``PrintoraClient(hooks=[...])``.

Subclass :class:`Hooks` and override what you need; every method is a no-op by default. They are
called synchronously, in the task of the call, in this order::

    on_call_start(call)
        on_rate_limit_wait(call, event)      only when the limiter made the attempt wait
        on_request(call, attempt)            every attempt, just before it is sent
        on_response(call, attempt)           every attempt, with its status or its failure
        on_retry(call, event)                before the backoff sleep of each retry
    on_call_end(call, error)

A hook that raises is logged (logger ``aioprintora``) and otherwise ignored: it never breaks
the call. With no hooks set the request path makes none of these objects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from yarl import URL

__all__ = ["AttemptInfo", "CallInfo", "Hooks", "RateLimitWait", "RetryEvent"]

logger = logging.getLogger("aioprintora")


@attrs.define(eq=False)
class CallInfo:
    """One API call (all its attempts), as the hooks see it.

    Attributes:
        operation: the SDK method, e.g. ``"orders.list"``.
        method: the HTTP method.
        url: the request URL (it never contains credentials).
        state: free room for hooks to keep per-call data in (key it by your hook object).
    """

    operation: str
    method: str
    url: URL
    state: dict[object, Any] = attrs.field(factory=dict)


@attrs.define(eq=False)
class AttemptInfo:
    """One HTTP attempt. ``status_code``/``headers``/``error`` are set for ``on_response``.

    Attributes:
        number: 1 for the first attempt, 2 for the first retry...
        status_code: the response's status (None: no response).
        headers: the response's headers (None: no response).
        error: the exception the attempt ended with, HTTP errors included (None on success).
        duration: seconds from sending to the end of the body (or the failure).
    """

    number: int
    status_code: int | None = None
    headers: Mapping[str, str] | None = None
    error: BaseException | None = None
    duration: float = 0.0


@attrs.frozen
class RetryEvent:
    """A retry about to happen.

    Attributes:
        attempt: the number of the attempt that failed.
        wait: seconds slept before the next attempt.
        reason: why, e.g. ``"HTTP 503"`` or ``"connect failure"``.
        error: the error of the failed attempt.
    """

    attempt: int
    wait: float
    reason: str
    error: BaseException


@attrs.frozen
class RateLimitWait:
    """The rate limiter held an attempt back.

    Attributes:
        wait: seconds the attempt waited in the limiter.
        reason: ``"window full"`` (our own pacing) or ``"server pause"`` (a 429 or Retry-After).
    """

    wait: float
    reason: str


class Hooks:
    """Base class of request-path callbacks; every method is a no-op (override what you need)."""

    def on_call_start(self, call: CallInfo) -> None:
        """A call begins (before any rate-limit wait)."""

    def on_request(self, call: CallInfo, attempt: AttemptInfo) -> None:
        """An attempt is about to be sent."""

    def on_response(self, call: CallInfo, attempt: AttemptInfo) -> None:
        """An attempt ended: a response (any status) or a transport failure."""

    def on_retry(self, call: CallInfo, event: RetryEvent) -> None:
        """The call will be retried after ``event.wait`` seconds."""

    def on_rate_limit_wait(self, call: CallInfo, event: RateLimitWait) -> None:
        """The rate limiter made the next attempt wait ``event.wait`` seconds."""

    def on_call_end(self, call: CallInfo, error: BaseException | None) -> None:
        """The call is over: ``error`` is what it raises (None on success)."""


_EVENTS = (
    "on_call_start",
    "on_request",
    "on_response",
    "on_retry",
    "on_rate_limit_wait",
    "on_call_end",
)


class Dispatch:
    """A client's hooks as the request path calls them: per event, the callbacks that do
    something, bound once. A method a hook leaves as :class:`Hooks`' no-op is not called at
    all, and an event no hook listens to costs a test of an empty tuple."""

    __slots__ = (*_EVENTS, "attempts")

    on_call_start: tuple[Callable[..., object], ...]
    on_request: tuple[Callable[..., object], ...]
    on_response: tuple[Callable[..., object], ...]
    on_retry: tuple[Callable[..., object], ...]
    on_rate_limit_wait: tuple[Callable[..., object], ...]
    on_call_end: tuple[Callable[..., object], ...]

    def __init__(self, hooks: Sequence[Hooks]) -> None:
        for name in _EVENTS:
            default = getattr(Hooks, name)
            bound = (getattr(hook, name) for hook in hooks)
            setattr(self, name, tuple(m for m in bound if getattr(m, "__func__", m) is not default))
        #: Whether anyone listens to attempts (else no AttemptInfo is made).
        self.attempts = bool(self.on_request or self.on_response)


def emit(callbacks: Sequence[Callable[..., object]], *args: object) -> None:
    """Call every callback; one that raises is logged, never propagated."""
    for callback in callbacks:
        try:
            callback(*args)
        except Exception:
            name = getattr(callback, "__qualname__", repr(callback))
            logger.exception("hook %s raised (ignored)", name)
