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
:class:`~aioprintora.RateLimitError` at once instead of sleeping; no retry is started whose
sleep would pass the call's ``deadline``.

The decisions are pure (``Retries``: no I/O, no clock of its own); the call loop
(:mod:`aioprintora._http.pipeline`) asks them after every attempt and sleeps what they say
through the client's :class:`~aioprintora.clock.Clock`, so a test on a virtual clock sees every
sleep. The waits come from backoff's ``expo`` generator and ``full_jitter``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping

import attrs
import backoff

__all__ = [
    "CONNECT",
    "DROPPED",
    "TIMEOUT",
    "Retries",
    "RetryPolicy",
    "is_idempotent",
    "should_retry",
]

#: The kinds of failure without a response, as the table above names them.
CONNECT = "connect failure"  # the request certainly did not reach the server
DROPPED = "connection dropped"
TIMEOUT = "read timeout"

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
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError("max_retries must be an int >= 0")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("deadline must be positive (or None)")


# -- pure decisions ------------------------------------------------------------------------------


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


class Retries:
    """The retry decisions of one call: whether to try again, and after how long.

    Args:
        policy: what is retried and how long.
        idempotent: whether the request may be repeated after an ambiguous failure.
    """

    __slots__ = ("_ceilings", "idempotent", "policy")

    #: Full jitter over ``[0, ceiling]`` (backoff's own).
    jitter: Callable[[float], float] = staticmethod(backoff.full_jitter)

    def __init__(self, policy: RetryPolicy, idempotent: bool) -> None:
        self.policy = policy
        self.idempotent = idempotent
        self._ceilings: Generator[float, None, None] | None = None

    def delay(
        self,
        attempts: int,
        *,
        status: int | None = None,
        failure: str | None = None,
        server_wait: float | None = None,
        remaining: float | None = None,
    ) -> float | None:
        """Seconds to sleep before attempt ``attempts + 1``; None: give up now.

        Args:
            attempts: attempts made so far.
            status: the last attempt's HTTP status (None: it failed without a response).
            failure: the kind of that failure (see :mod:`aioprintora._http.transport`).
            server_wait: the wait the server asked for, used as is, never jittered.
            remaining: seconds left before the call's deadline (None: no deadline).
        """
        policy = self.policy
        if not should_retry(policy, idempotent=self.idempotent, status=status, failure=failure):
            return None
        if server_wait is not None and server_wait > policy.max_server_wait:
            return None  # the caller is better served by the reset time
        if attempts > policy.max_retries:
            return None
        if self._ceilings is None:
            self._ceilings = _ceilings(policy)
        ceiling = next(self._ceilings)  # one step per retry, whoever sets this one's wait
        delay = server_wait if server_wait is not None else self.jitter(ceiling)
        return delay if remaining is None or delay < remaining else None
