"""``aioprintora jobs status IMPORT_ID``, and following a queued import to its end."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._output import Output
from ._runtime import run_async

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..jobs._imports import SessionRequest
    from ..workers import ImportStatus

__all__ = ["RUNNING", "enqueue_file", "follow", "jobs", "redis_url_option"]

#: ``jobs status`` of an import still running (0: done, every row made; 1: done with failures).
RUNNING = 3

redis_url_option = click.option(
    "--redis-url",
    envvar="PRINTORA_REDIS_URL",
    show_envvar=True,
    required=True,
    metavar="URL",
    help="The Redis of the queue, the shared rate limiter and the journal.",
)


def _line(status: ImportStatus) -> str:
    text = (
        f"import {status.import_id}: {status.done:,} of {status.total:,} rows "
        f"({status.created:,} created, {status.journaled:,} already made, "
        f"{status.failed:,} failed), {status.finished_chunks} of {status.chunks} chunks done"
    )
    if status.stopped:
        text += f"; stopped: {status.stopped}"
    elif status.deferred_until and not status.finished:
        text += "; waiting for the rate limit's window"
    return text


def _code(status: ImportStatus) -> int:
    if not status.finished:
        return RUNNING
    return 0 if status.ok else 1


def _show(output: Output, status: ImportStatus) -> None:
    if output.json_mode:
        import attrs

        output.json_line({**attrs.asdict(status), "finished": status.finished, "ok": status.ok})
        return
    output.say(_line(status))
    if status.errors:
        rows = [{"ref": ref, "error": error} for ref, error in status.errors[:50]]
        output.rows(rows, ("ref", "error"), title="failed rows (enqueue again to retry them)")


async def follow(output: Output, redis_url: str, import_id: str, *, every: float = 1.0) -> int:
    """Show a queued import's progress until it ends; its exit code (0 ok, 1 failures)."""
    from ..workers import import_status
    from ._progress import Meter

    status = await import_status(redis_url, import_id)
    meter = Meter(output, "importing sessions (queued)", None)
    meter.set_total(status.total)
    async with meter.running():
        while True:
            meter.advance(max(0, status.done - meter.done))
            if status.finished:
                break
            await asyncio.sleep(every)
            status = await import_status(redis_url, import_id)
    _show(output, status)
    return _code(status)


class _FileRows:
    """The rows of a checked file, read afresh by each ``iter()`` (never all in memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[SessionRequest]:
        from ._import import _requests

        return _requests(self.path)


def enqueue_file(output: Output, path: Path, *, wait: bool, chunk_size: int) -> None:
    """``sessions import FILE --queue``: queue the (checked) file; follow it with ``wait``."""
    from ..workers import enqueue_import

    redis_url = os.environ.get("PRINTORA_REDIS_URL")
    if not redis_url:
        raise click.UsageError("--queue needs PRINTORA_REDIS_URL (the workers' Redis)")

    async def main() -> int:
        import_id = await enqueue_import(redis_url, _FileRows(path), chunk_size=chunk_size)
        if output.json_mode:
            output.json_line({"import_id": import_id})
        else:
            click.echo(import_id)
        return await follow(output, redis_url, import_id) if wait else 0

    code = run_async(main)
    if code:
        raise click.exceptions.Exit(code)


@click.group()
def jobs() -> None:
    """Jobs on the queue (``aioprintora worker``): see how a queued import stands."""


@jobs.command()
@click.argument("import_id")
@redis_url_option
@click.option("--json", "json_mode", is_flag=True, help="Machine output: one JSON object.")
@click.option("--wait", is_flag=True, help="Follow the import to its end.")
def status(import_id: str, redis_url: str, json_mode: bool, wait: bool) -> None:
    """How a queued import stands, from any machine.

    Exit code: 0 once every row is made, 1 when it ended with failed rows (or was stopped),
    3 while it is still running.

    \b
    Example:
      aioprintora jobs status 3c5e0b1f2a4d6e8f90a1b2c3
    """
    from ..workers import import_status

    output = Output(json_mode)

    async def main() -> int:
        if wait:
            return await follow(output, redis_url, import_id)
        found = await import_status(redis_url, import_id)
        _show(output, found)
        return _code(found)

    try:
        code = run_async(main)
    except LookupError as exc:
        raise click.UsageError(str(exc)) from None
    raise click.exceptions.Exit(code or 0)
