"""``aioprintora webhooks logs|resend|retry|listen``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .._models import RESENDABLE_EVENTS, EventType, WebhookStatus
from ._api import Api, api_options
from ._listen import listen

if TYPE_CHECKING:
    from .._client import PrintoraClient
    from .._models import Page, WebhookDelivery, WebhookLog

__all__ = ["webhooks"]

_LISTED = ("id", "event_type", "status", "status_code", "attempt_count", "order_id")
_EVENT = click.Choice([e.value for e in EventType])
#: What ``resend`` accepts (order.cancelled cannot be resent), so its help offers only these.
_RESENDABLE = click.Choice([e.value for e in EventType if e.value in RESENDABLE_EVENTS])


@click.group()
def webhooks() -> None:
    """Webhook deliveries: read the log, resend or retry one, receive them locally."""


@webhooks.command()
@click.option("--status", type=click.Choice([s.value for s in WebhookStatus]))
@click.option("--event-type", type=_EVENT)
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@api_options
def logs(api: Api, status: str | None, event_type: str | None, limit: int, offset: int) -> None:
    """The webhook log: one entry per delivery, with its attempts.

    \b
    Example:
      aioprintora webhooks logs --status failed --event-type order.paid
    """

    async def work(client: PrintoraClient) -> Page[WebhookLog]:
        return await client.webhook_logs.list(
            status=status, event_type=event_type, limit=limit, offset=offset
        )

    page = api.run(work)
    if page is None:
        return
    if api.output.json_mode:
        api.output.document({"items": page.items, "pagination": page.pagination})
        return
    last = page.pagination.offset + len(page.items)
    api.output.rows(page.items, _LISTED, footer=f"{len(page)} of {page.pagination.total} entries")
    if page.pagination.has_more:
        api.output.say(f"more: --offset {last}")


@webhooks.command()
@click.option("--order-id", metavar="ID", help="The order whose event to send again.")
@click.option("--session-id", metavar="ID", help="The session whose event to send again.")
@click.option("--event-type", type=_RESENDABLE, required=True)
@api_options
def resend(api: Api, order_id: str | None, session_id: str | None, event_type: str) -> None:
    """Queue a new delivery of an event (a new log entry).

    \b
    Example:
      aioprintora webhooks resend --order-id 9b2e... --event-type order.paid
    """
    if (order_id is None) == (session_id is None):
        raise click.UsageError("give exactly one of --order-id, --session-id")

    async def work(client: PrintoraClient) -> WebhookDelivery:
        return await client.webhook_logs.resend(
            event_type=event_type, order_id=order_id, session_id=session_id
        )

    delivery = api.run(work)
    if delivery is not None:
        api.output.record(delivery)


@webhooks.command()
@click.argument("log_id")
@api_options
def retry(api: Api, log_id: str) -> None:
    """Retry an existing delivery (the same log entry).

    \b
    Example:
      aioprintora webhooks retry 5d1f7c2a-...
    """

    async def work(client: PrintoraClient) -> WebhookDelivery:
        return await client.webhook_logs.retry(log_id)

    delivery = api.run(work)
    if delivery is not None:
        api.output.record(delivery)


webhooks.add_command(listen)
