"""``aioprintora orders list|export|sync``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from .._models import Order, OrderStatus
from ._api import Api, api_options
from ._files import FilePath
from ._output import jsonable, to_json

if TYPE_CHECKING:
    from .._client import PrintoraClient
    from .._models import Page

__all__ = ["ORDER_COLUMNS", "orders"]

#: The export's columns: the ``Order`` model's snake_case field names, in model order.
ORDER_COLUMNS = tuple(f.name for f in attrs.fields(Order))
_LISTED = ("id", "order_number", "status", "total_amount", "currency", "created_at")
_STATUS = click.Choice([s.value for s in OrderStatus])
_PAGE = 100


@click.group()
def orders() -> None:
    """Orders: list a page, export them all, sync what changed."""


@orders.command("list")
@click.option("--status", type=_STATUS, help="Only orders in this status.")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@api_options
def list_(api: Api, status: str | None, limit: int, offset: int) -> None:
    """One page of orders, newest first.

    \b
    Example:
      aioprintora orders list --status paid --limit 50
    """

    async def work(client: PrintoraClient) -> Page[Order]:
        return await client.orders.list(status=status, limit=limit, offset=offset)

    page = api.run(work)
    if page is None:
        return
    meta = page.pagination
    if api.output.json_mode:
        api.output.document({"items": page.items, "pagination": meta})
        return
    last = meta.offset + len(page.items)
    more = f" (next: --offset {last})" if meta.has_more else ""
    first = meta.offset + 1 if page.items else 0
    api.output.rows(page.items, _LISTED, footer=f"orders {first}-{last} of {meta.total}{more}")


@orders.command()
@click.option("--status", type=_STATUS, help="Only orders in this status.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), required=True)
@click.option("-o", "--output", "path", type=FilePath("output"), required=True)
@click.option(
    "--raw",
    is_flag=True,
    help="CSV cells exactly as received: no leading ' before = + - @ tab or CR (not for "
    "a spreadsheet).",
)
@api_options
def export(api: Api, status: str | None, fmt: str, path: Path, raw: bool) -> None:
    """Every order (or every one in a status) to a CSV or JSON Lines file.

    Columns are the Order model's field names. The file is written beside its destination and
    renamed over it, so a re-run replaces it in one step; on Ctrl-C or an API error what was
    exported so far is kept, complete row by row.

    CSV is safe to open in a spreadsheet: a text cell that begins with = + - @, a tab or a
    carriage return gets a leading ' (OWASP's CSV-injection rule), so it is never run as a
    formula. --raw turns that off.

    \b
    Example:
      aioprintora orders export --status paid --format csv -o paid-orders.csv
    """
    from ._progress import Meter
    from ._rows import AtomicWriter

    async def work(client: PrintoraClient) -> int:
        writer = AtomicWriter(path, fmt, ORDER_COLUMNS, raw=raw)
        meter = Meter(api.output, "exporting orders", client.limiter, per_request=_PAGE)
        complete = False
        try:
            async with meter.running():
                pages = client.orders.pages(status=status, page_size=_PAGE, read_ahead=True)
                try:
                    async for page in pages:
                        meter.set_total(max(page.pagination.total, meter.done + len(page)))
                        for order in page.items:
                            writer.write(_row(order))
                        meter.advance(len(page.items))
                    complete = True
                finally:
                    await pages.aclose()
        finally:
            writer.commit()  # even when stopped: what was written is whole rows
            stopped = "" if complete else " (stopped early: the file holds what was exported)"
            api.output.say(f"exported {meter.summary()} to {path}{stopped}")
        return writer.count

    count = api.run(work)
    if count is not None and api.output.json_mode:
        api.output.document({"exported": count, "path": str(path), "format": fmt})


def _row(order: Order) -> dict[str, Any]:
    data: dict[str, Any] = jsonable(order)
    return data


@orders.command()
@click.option(
    "--state",
    "state_path",
    required=True,
    type=FilePath("database"),
    help="SQLite file with what the last complete run saw (created on the first run).",
)
@click.option(
    "-o",
    "--output",
    "path",
    required=True,
    type=FilePath("output"),
    help="JSON Lines file the new and changed orders are appended to.",
)
@click.option("--status", type=_STATUS, help="Only append orders now in this status.")
@click.option("--full", is_flag=True, help="Walk every order (also sees changes to old ones).")
@click.option(
    "--webhooks",
    is_flag=True,
    help="Webhook-fed: append what 'webhooks listen --sync-state' recorded into the state, "
    "then reconcile with the webhook logs (2-3 requests a run).",
)
@api_options
def sync(
    api: Api, *, state_path: Path, path: Path, status: str | None, full: bool, webhooks: bool
) -> None:
    """Append the orders that are new or changed since the last complete run.

    The first run appends every order. The state is saved only when a run completes and its
    lines are on disk (written, flushed and fsynced): after Ctrl-C, an error or a failed write
    the next run appends that run's orders again (at least once; exactly once per complete
    run). The state belongs to one API key and base URL; --full starts over for another. Run
    it from cron; add --full now and then (e.g. nightly).

    With --webhooks, the state is the one 'webhooks listen --sync-state' records into (the two
    may run at once on one file): a run appends the recorded changes, then any delivery the
    webhook logs show never reached the listener, and the orders now processing (a status
    without a webhook event).

    \b
    Examples:
      aioprintora orders sync --state orders.sqlite -o orders-changes.jsonl
      aioprintora orders sync --webhooks --state orders-sync.sqlite -o orders-changes.jsonl
    """
    from ..jobs._sync import OrderSync
    from ._progress import Meter

    async def work(client: PrintoraClient) -> dict[str, Any]:
        job = OrderSync(
            client,
            state=str(state_path),
            status=status,
            full=full,
            autocommit=False,
            webhooks=webhooks,
        )
        meter = Meter(api.output, "syncing orders", client.limiter)
        try:
            with path.open("a", encoding="utf-8") as file:
                async with meter.running():
                    async for order in job:
                        file.write(to_json(order) + "\n")
                        meter.advance()
                # The output is on disk before the state says these orders were delivered: a
                # write that fails (a full disk) leaves the state as it was, and the next run
                # appends them again.
                file.flush()
                os.fsync(file.fileno())
            await job.commit()
        finally:
            summary = {
                "scanned": job.scanned,
                "changed": meter.done,
                "requests": job.requests,
                "full": job.full_run,
                "complete": job.complete,
            }
            hooked = ""
            if webhooks:
                summary.update(recorded=job.recorded, deliveries=job.log_entries)
                hooked = f"{job.recorded:,} recorded, {job.log_entries:,} deliveries in the logs; "
            api.output.say(
                hooked + f"scanned {job.scanned:,} orders in {job.requests:,} requests; "
                f"appended {meter.done:,} new or changed to {path}"
                + ("" if job.complete else " (stopped: state not saved, next run repeats)")
            )
        return summary

    summary = api.run(work)
    if summary is not None and api.output.json_mode:
        api.output.document(summary)
