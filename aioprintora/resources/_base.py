"""What every resource shares: the client reference and turning ``data`` into models."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .. import _errors as errors
from .._http.call import Call
from .._http.sansio import Undecodable
from .._models import Page
from ..pagination import Listing, parse_page

if TYPE_CHECKING:
    from .._client import PrintoraClient

T = TypeVar("T")


class Resource:
    """Base of ``client.sessions``, ``client.orders``, ``client.webhook_logs``: each method
    validates its arguments, builds a :class:`~aioprintora._http.call.Call` and sends it."""

    def __init__(self, client: PrintoraClient) -> None:
        self._client = client
        self._send = client._pipeline.send

    def _listing(
        self,
        path: str,
        params: Mapping[str, str | int],
        items_key: str,
        item_type: type[T],
        operation: str,
        *,
        max_items: int | None = None,
        read_ahead: bool = True,
    ) -> Listing[T]:
        """The listing that ``params`` name (validated once, by the caller: the filters,
        ``limit`` and ``offset``). Each page is a GET of the same filters, its own window."""
        filters = tuple((k, v) for k, v in params.items() if k not in ("limit", "offset"))

        def fetch(limit: int, offset: int) -> Coroutine[Any, Any, Page[T]]:
            # The request's coroutine itself: no frame of ours between the walk and the call.
            build = functools.partial(
                parse_page,
                items_key=items_key,
                item_type=item_type,
                limit=limit,
                offset=offset,
                fetch_offset=functools.partial(fetch, limit),  # ``page.next_page()``
            )
            query = (("limit", limit), ("offset", offset), *filters)
            return self._send(
                Call("GET", path, operation, functools.partial(decode, build=build), query)
            )

        limit, offset = int(params["limit"]), int(params["offset"])
        return Listing(
            fetch, limit=limit, offset=offset, max_items=max_items, read_ahead=read_ahead
        )


def decoder(model: type[T]) -> Callable[[Any], T]:
    """``parse`` for a request whose data is one ``model``."""
    from .._convert import structure

    return lambda data: decode(data, lambda d: structure(d, model))


def decode(data: Any, build: Callable[[Any], T]) -> T:
    """Run ``build`` on an answer's data; anything it cannot read is :class:`Undecodable`.

    Never a partial model: a missing required field or a wrong type fails the whole answer. The
    client, which holds the answer, turns it into a MalformedResponseError with the answer's
    real status, headers (request id), method and absolute URL.
    """
    try:
        return build(data)
    except Exception as exc:  # cattrs raises ClassValidationError groups, TypeError, ValueError...
        raise Undecodable(_reason(exc), _excerpt(data)) from exc


def _excerpt(data: Any) -> str:
    try:
        return json.dumps(data, default=str)[: errors.APIError.BODY_EXCERPT]
    except (RecursionError, ValueError):  # nested too deeply to re-encode
        return repr(type(data))


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "exceptions", None)
    if inner:
        return "; ".join(_reason(e) for e in inner[:3])
    notes = getattr(exc, "__notes__", None)
    text = f"{type(exc).__name__}: {exc}"
    return f"{text} [{notes[-1]}]" if notes else text
