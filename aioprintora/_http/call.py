"""``Call``: one API call as a resource describes it, the one object the request path carries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

__all__ = ["Call"]

T = TypeVar("T")


@attrs.frozen
class Call(Generic[T]):
    """What to send and what its answer decodes to; arguments already validated.

    Resources only build these; :meth:`~aioprintora._http.pipeline.Pipeline.send` runs them.

    Attributes:
        method: the HTTP method.
        path: relative to the client's ``base_url``.
        operation: the resource method's name (``orders.list``), as hooks and traces see it.
        decode: the answer's ``data`` -> the result (raises
            :class:`~aioprintora._http.sansio.Undecodable` on data it cannot read).
        query: the query string's pairs, in order.
        json: the body, encoded once (``None``: no body).
        idempotency_key: sent as ``Idempotency-Key`` on every attempt.
    """

    method: str
    path: str
    operation: str
    decode: Callable[[Any], T] = attrs.field(repr=False)
    query: tuple[tuple[str, str | int], ...] = ()
    json: Any = attrs.field(default=None, repr=False)
    idempotency_key: str | None = attrs.field(default=None, repr=False)
