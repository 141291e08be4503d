"""``client.orders``: the orders your customers placed, newest first."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import cached_property

from .. import _validate as check
from .._models import Order, OrderStatus, Page
from ..pagination import Listing
from ..response import to_raw_response
from ._base import Resource

__all__ = ["Orders", "OrdersWithRawResponse"]

PATH = "api/v1/partners/orders"
_LIST = "orders.list"  # the operation hooks see, whichever method made the listing


def order_params(status: OrderStatus | str | None, limit: int, offset: int) -> dict[str, str | int]:
    """Validated query parameters of one orders page (raises ValueError)."""
    params: dict[str, str | int] = {
        "limit": check.int_range("limit", limit, 1, 100),
        "offset": check.int_range("offset", offset, 0),
    }
    if status is not None:
        params["status"] = check.open_choice("status", status, OrderStatus)
    return params


class Orders(Resource):
    """Orders placed through your sessions."""

    def list(
        self, *, status: OrderStatus | str | None = None, limit: int = 20, offset: int = 0
    ) -> Listing[Order]:
        """Orders, newest first: ``await`` it for one page, ``async for`` it for every order.

        ``await client.orders.list(limit=50)`` is one request, one page. ``async for order in
        client.orders.list(...)`` walks from ``offset`` on in pages of ``limit`` (see
        :class:`~aioprintora.pagination.Listing`).

        Args:
            status: only orders in this status.
            limit: page size, 1–100.
            offset: how many orders to skip.
        """
        return self._listing(PATH, order_params(status, limit, offset), "orders", Order, _LIST)

    @cached_property
    def with_raw_response(self) -> OrdersWithRawResponse:
        """The same methods, returning the :class:`~aioprintora.response.RawResponse`."""
        return OrdersWithRawResponse(self)

    def pages(
        self,
        *,
        status: OrderStatus | str | None = None,
        page_size: int = 100,
        max_items: int | None = None,
        read_ahead: bool = True,
    ) -> AsyncGenerator[Page[Order], None]:
        """``async for page in client.orders.pages(...)``: every page, deduplicated.

        Args:
            status: only orders in this status.
            page_size: orders per request, 1–100.
            max_items: stop after this many orders.
            read_ahead: fetch the next page while you work on this one (through the limiter).
        """
        return self.iter(
            status=status, page_size=page_size, max_items=max_items, read_ahead=read_ahead
        ).pages()

    def iter(
        self,
        *,
        status: OrderStatus | str | None = None,
        page_size: int = 100,
        max_items: int | None = None,
        read_ahead: bool = True,
    ) -> Listing[Order]:
        """``async for order in client.orders.iter(status="paid")``: every order, newest first.

        Each order is yielded once even while new orders arrive (see
        :mod:`aioprintora.pagination`); ``await ....collect()`` gathers them in a list. The
        arguments are those of :meth:`pages`.
        """
        params = order_params(status, page_size, 0)
        return self._listing(
            PATH, params, "orders", Order, _LIST, max_items=max_items, read_ahead=read_ahead
        )


class OrdersWithRawResponse:
    """``client.orders.with_raw_response``: ``await ....list()`` -> ``RawResponse[Page[Order]]``."""

    def __init__(self, orders: Orders) -> None:
        self.list = to_raw_response(orders.list)
