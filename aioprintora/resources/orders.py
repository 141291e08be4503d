"""``client.orders``: the orders your customers placed, newest first."""

from __future__ import annotations

from .. import _validate as check
from ..models import Order, OrderStatus, Page
from ..pagination import parse_page
from ._base import Resource, decode

__all__ = ["Orders", "order_params"]

PATH = "api/v1/partners/orders"


def order_params(status: OrderStatus | str | None, limit: int, offset: int) -> dict[str, str | int]:
    """Validated query parameters of one orders page (raises ValueError)."""
    params: dict[str, str | int] = {
        "limit": check.int_range("limit", limit, 1, 100),
        "offset": check.int_range("offset", offset, 0),
    }
    if status is not None:
        params["status"] = check.choice("status", status, OrderStatus)
    return params


class Orders(Resource):
    """Orders placed through your sessions."""

    async def list(
        self, *, status: OrderStatus | str | None = None, limit: int = 20, offset: int = 0
    ) -> Page[Order]:
        """One page of orders, newest first.

        Args:
            status: only orders in this status.
            limit: page size, 1–100.
            offset: how many orders to skip.
        """
        params = order_params(status, limit, offset)
        data = await self._client._request("GET", PATH, params=params)
        return decode(
            data,
            lambda d: parse_page(d, "orders", Order, limit=limit, offset=offset),
            method="GET",
            path=PATH,
        )
