"""Response metadata: ``raw = await client.orders.with_raw_response.list()``.

Every resource method that makes one request has a twin under ``.with_raw_response`` (as in
openai-python) that returns a :class:`RawResponse`: the final response's status, headers,
request id and rate-limit headers, and :meth:`RawResponse.parse` for the usual result. The twin
runs the very same method; only what comes back differs. HTTP errors still raise (and carry
``request_id``).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Generic, ParamSpec, TypeVar, cast

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from .ratelimit._headers import parse_rate_limit_headers

__all__ = ["RateLimitStatus", "RawResponse"]

T = TypeVar("T")
P = ParamSpec("P")

#: Set by a ``with_raw_response`` twin for the one request its method makes. A context variable
#: because the method's signature is the user's: the twin must not add parameters to it.
RAW: ContextVar[bool] = ContextVar("aioprintora_raw", default=False)


def request_id_of(headers: Mapping[str, str] | None) -> str | None:
    """``X-Request-Id``, else ``Request-Id``, when the response has one."""
    if not headers:
        return None
    return headers.get("X-Request-Id") or headers.get("Request-Id") or None


@attrs.frozen
class RateLimitStatus:
    """The key's quota as one response states it (None where a header is absent).

    Attributes:
        limit: ``X-RateLimit-Limit``.
        remaining: ``X-RateLimit-Remaining``.
        reset: when that window resets (timezone-aware UTC), from ``X-RateLimit-Reset``.
    """

    limit: int | None
    remaining: int | None
    reset: datetime | None


class RawResponse(Generic[T]):
    """The final HTTP response of a call, with the parsed result one :meth:`parse` away.

    Attributes:
        status_code: the HTTP status.
        headers: the response headers (case-insensitive).
        request_id: ``X-Request-Id`` (else ``Request-Id``), when present.
        attempts: how many attempts the call took.
    """

    __slots__ = ("_arrived", "_parse", "_parsed", "attempts", "headers", "status_code")

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str],
        parse: Callable[[], T],
        *,
        arrived: float,
        attempts: int = 1,
    ) -> None:
        self.status_code = status_code
        self.headers: Mapping[str, str] = CIMultiDictProxy(CIMultiDict(headers))
        self.attempts = attempts
        self._parse = parse
        self._arrived = arrived
        self._parsed: list[T] = []

    @property
    def request_id(self) -> str | None:
        """The server's id of this request (quote it to Printora support)."""
        return request_id_of(self.headers)

    @property
    def rate_limit(self) -> RateLimitStatus | None:
        """``X-RateLimit-*`` as read from this response; None when it has none of them."""
        info = parse_rate_limit_headers(self.headers, self._arrived)
        if info.limit is None and info.remaining is None and info.reset_after is None:
            return None
        reset = None
        if info.reset_after is not None:
            reset = datetime.fromtimestamp(self._arrived + info.reset_after, timezone.utc)
        return RateLimitStatus(limit=info.limit, remaining=info.remaining, reset=reset)

    def parse(self) -> T:
        """The result the plain method returns (decoded once; later calls return the same)."""
        if not self._parsed:
            self._parsed.append(self._parse())
        return self._parsed[0]

    def __repr__(self) -> str:
        return f"<RawResponse {self.status_code} request_id={self.request_id!r}>"


def to_raw_response(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """The ``with_raw_response`` twin of a resource method that makes one request."""

    @functools.wraps(method)
    async def raw(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        token = RAW.set(True)
        try:
            # ``method`` may return any awaitable (``list`` returns a Listing, whose request
            # starts when awaited): both the call and the await happen here, with RAW set.
            return cast("RawResponse[T]", await method(*args, **kwargs))
        finally:
            RAW.reset(token)

    return raw
