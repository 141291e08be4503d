"""The "what changed since my last run" job, built on :meth:`Orders.iter`.

The orders listing has no "updated since" filter and is sorted by creation, so an old order paid
today can sit anywhere in it: a sync walks the whole listing (optionally one status) and keeps
the orders whose ``updated_at`` is newer than the checkpoint. The new checkpoint is the newest
``updated_at`` the *server* reported, never the local clock, so clock skew cannot lose updates.

::

    sync = OrderSync(client, since=load_checkpoint())
    async for order in sync:
        await upsert(order)
    save_checkpoint(sync.checkpoint)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING

from .models import Order, OrderStatus

if TYPE_CHECKING:
    from .client import PrintoraClient
    from .pagination import PaginationStats

__all__ = ["OrderSync", "changed"]


def changed(order: Order, since: datetime | None) -> bool:
    """Whether ``order`` changed after ``since`` (every order counts when ``since`` is None)."""
    stamp = order.updated_at or order.created_at
    return since is None or stamp is None or stamp > since


class OrderSync:
    """Every order created or updated after ``since``; :attr:`checkpoint` is the next ``since``.

    Args:
        client: the client to read with.
        since: the checkpoint of the previous run (None: everything).
        status: only orders in this status.
        page_size: orders per request.
    """

    def __init__(
        self,
        client: PrintoraClient,
        *,
        since: datetime | None = None,
        status: OrderStatus | str | None = None,
        page_size: int = 100,
    ) -> None:
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware (e.g. datetime.now(timezone.utc))")
        self.since = since
        self.scanned = 0
        self.complete = False
        self._newest = since
        self._pager = client.orders.iter(status=status, page_size=page_size)

    @property
    def checkpoint(self) -> datetime | None:
        """The ``since`` of the next run: advanced only once the whole walk has completed.

        A walk stopped half way (crash, cancel, error) keeps the old checkpoint, since orders
        later in the listing may have changed before the newest stamp seen so far.
        """
        return self._newest if self.complete else self.since

    @property
    def stats(self) -> PaginationStats:
        """What the underlying walk did about offset drift."""
        return self._pager.stats

    def __aiter__(self) -> AsyncIterator[Order]:
        return self._walk()

    async def aclose(self) -> None:
        """Stop early: cancel the read-ahead request at once instead of letting it finish."""
        await self._pager.aclose()

    async def _walk(self) -> AsyncIterator[Order]:
        async for order in self._pager:
            self.scanned += 1
            stamp = order.updated_at or order.created_at
            if stamp is not None and (self._newest is None or stamp > self._newest):
                self._newest = stamp
            if changed(order, self.since):
                yield order
        self.complete = True
