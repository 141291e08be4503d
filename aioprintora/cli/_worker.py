"""``aioprintora worker``: one queue worker process (the ``workers`` extra: saq)."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click

from ._api import Api, api_options, parse_rate_limit
from ._jobs import redis_url_option

__all__ = ["worker"]


class _QuietDeferrals(logging.Filter):
    """A deferred chunk is the rate limit doing its job: one line, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from ..workers import ChunkDeferred

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ChunkDeferred):
            record.msg, record.args, record.exc_info = "%s", (exc,), None
        return True


def _handler(spec: str | None) -> Any:
    if spec is None:
        return None
    module, _, name = spec.partition(":")
    if not module or not name:
        raise click.UsageError("--sync-handler takes module:function")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise click.UsageError(f"--sync-handler {spec}: {exc}") from None


@click.command()
@redis_url_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 100),
    default=4,
    show_default=True,
    help="Requests in flight per chunk (the shared limiter still paces them).",
)
@click.option(
    "--chunks",
    "chunks_at_once",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Chunks this worker runs at once.",
)
@click.option(
    "--sync-handler",
    metavar="MODULE:FUNCTION",
    help="Run the order sync periodically: each new or changed order goes to this coroutine.",
)
@click.option(
    "--sync-cron",
    default="*/5 * * * *",
    show_default=True,
    metavar="CRON",
    help="When the order sync runs (UTC); one run at a time across all workers.",
)
@click.option(
    "--sync-webhooks",
    is_flag=True,
    help="The webhook-fed order sync: yield what your receiver recorded into the workers' sync "
    "state (aioprintora.workers.sync_state), then reconcile through the webhook logs.",
)
@api_options
def worker(
    api: Api,
    *,
    redis_url: str,
    concurrency: int,
    chunks_at_once: int,
    sync_handler: str | None,
    sync_cron: str,
    sync_webhooks: bool,
) -> None:
    """Run one worker: queued imports (and the order sync), within the key's shared limits.

    Start as many as you like, on any machine, with the same PRINTORA_REDIS_URL and
    PRINTORA_API_KEY: they share PRINTORA_RATE_LIMIT (default 60/min 10000/day) through Redis.
    SIGTERM or Ctrl-C stops it; its chunk goes back to the queue. The queue's own command
    does the same: saq aioprintora.workers.settings

    \b
    Example:
      PRINTORA_REDIS_URL=redis://127.0.0.1:6379/0 aioprintora worker
    """
    try:
        from saq import Worker
    except ImportError:
        raise click.UsageError(
            "aioprintora worker needs the 'workers' extra: pip install 'aioprintora[workers]'"
        ) from None
    import asyncio

    from ..workers import worker_settings

    if sync_webhooks and sync_handler is None:
        raise click.UsageError("--sync-webhooks goes with --sync-handler (the sync it feeds)")
    try:
        windows = parse_rate_limit(api.rate_limit) if api.rate_limit else None
        if api.rate_limit and windows is None:
            raise ValueError("the workers share one key's limits: --rate-limit cannot be off")
        settings = worker_settings(
            redis_url=redis_url,
            api_key=api._api_key,
            base_url=api.base_url,
            rate_limit=windows,
            concurrency=concurrency,
            chunks_at_once=chunks_at_once,
            order_handler=_handler(sync_handler),
            sync_cron=sync_cron,
            sync_webhooks=sync_webhooks,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("saq").addFilter(_QuietDeferrals())

    async def run() -> None:
        queue = settings["queue"]
        runner = Worker(**settings)
        try:
            await queue.connect()
            await runner.start()  # SIGINT/SIGTERM: stops, handing its chunk back
        finally:
            await queue.disconnect()

    asyncio.run(run())
