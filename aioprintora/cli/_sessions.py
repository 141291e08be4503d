"""``aioprintora sessions create|get|import``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._api import Api, api_options
from ._errors import BadInputError
from ._files import FilePath
from ._output import jsonable

if TYPE_CHECKING:
    from .._client import PrintoraClient
    from .._models import Session

__all__ = ["sessions"]


@click.group()
def sessions() -> None:
    """Partner sessions: create one, read one, import many from a file."""


@sessions.command()
@click.option("--image-url", metavar="URL", help="The customer's design (image flow).")
@click.option("--creator-id", metavar="UUID", help="A creator (creator flow).")
@click.option("--merch-id", metavar="UUID", help="A merch item (merch flow).")
@click.option("--variant-id", metavar="UUID", help="With --merch-id: the variant.")
@click.option("--quantity", type=click.IntRange(1, 100), help="With --merch-id: 1-100.")
@click.option("--success-url", required=True, metavar="URL", help="Where payment success lands.")
@click.option("--failed-url", required=True, metavar="URL", help="Where payment failure lands.")
@click.option("--email", help="Pre-fills checkout.")
@click.option("--first-name", help="Pre-fills checkout.")
@click.option("--last-name", help="Pre-fills checkout.")
@click.option("--name", help="Pre-fills checkout.")
@click.option(
    "--ref",
    metavar="REF",
    help="Your own id for it: the same ref never makes a second session (safe to re-run).",
)
@api_options
def create(api: Api, **fields: str | int | None) -> None:
    """Create a session for exactly one of --image-url, --creator-id, --merch-id.

    \b
    Example:
      aioprintora sessions create --image-url https://cdn.example.com/42.png \\
        --success-url https://shop.example.com/thanks \\
        --failed-url https://shop.example.com/failed --ref order-1042
    """
    from ._rows import session_request

    try:  # the options are the import file's columns: one row, checked by the same rules
        request = session_request(fields, require_ref=False)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None

    async def work(client: PrintoraClient) -> Session:
        return await client.sessions._create(request)

    session = api.run(work)
    if session is not None:
        # What the API answered, and only that: a field it did not echo is left out.
        answered = {k: v for k, v in jsonable(session).items() if v is not None}
        api.output.record(answered)


@sessions.command()
@click.argument("session_id")
@api_options
def get(api: Api, session_id: str) -> None:
    """Show one session: status, URLs, and its order once checked out.

    \b
    Example:
      aioprintora sessions get 3f0c9a56-1f3e-4c1a-9d57-2f1b8c4e7a10
    """

    async def work(client: PrintoraClient) -> Session:
        return await client.sessions.get(session_id)

    session = api.run(work)
    if session is not None:
        api.output.record(session)


@sessions.command("import")
@click.argument("file", type=FilePath("input", exists=True))
@click.option(
    "--journal",
    type=FilePath("database"),
    help="SQLite file recording ref -> session: a re-run skips what was made.",
)
@click.option(
    "--queue",
    is_flag=True,
    help="Hand the rows to the workers (aioprintora worker) through $PRINTORA_REDIS_URL; "
    "prints the import's id.",
)
@click.option("--wait", is_flag=True, help="With --queue: follow the import to its end.")
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="With --queue: rows per job.",
)
@click.option("--concurrency", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option(
    "--out",
    "out_path",
    type=FilePath("output"),
    help="Per-row results as JSON Lines: ref, session_id, redirect_url or error.",
)
@api_options
def import_(
    api: Api,
    file: Path,
    journal: Path | None,
    concurrency: int,
    out_path: Path | None,
    **queued: bool | int,
) -> None:
    """Create a session per row of a CSV (header row) or JSON Lines file, exactly once.

    Columns: ref, image_url, creator_id, merch_id, variant_id, quantity, success_url,
    failed_url, email, first_name, last_name, name (ref, both URLs and one of image_url,
    creator_id, merch_id required). Each row's idempotency key comes from its ref, and the
    journal records each session as it is made: stop it with Ctrl-C at any point, re-run the
    same command, and no row is created twice. Rows that failed are tried again.

    \b
    With --queue the rows go to the workers (see docs/jobs.md), in chunks whose ids come from
    the file's content: queuing the same file twice adds nothing.

    \b
    Example:
      aioprintora sessions import carts.csv --journal carts.sqlite --out results.jsonl
      aioprintora sessions import carts.csv --queue --wait
    """
    from ._import import check_file, run_import

    if queued["queue"] == (journal is not None):
        raise click.UsageError("give --journal (import here) or --queue (import on the workers)")
    try:
        total = check_file(file)
    except ValueError as exc:
        raise BadInputError(f"{file}: {exc}") from None
    if queued["queue"]:
        from ._jobs import enqueue_file

        enqueue_file(
            api.output, file, wait=bool(queued["wait"]), chunk_size=int(queued["chunk_size"])
        )
        return
    assert journal is not None

    async def work(client: PrintoraClient) -> int:
        return await run_import(
            client,
            api.output,
            path=file,
            total=total,
            journal=journal,
            concurrency=concurrency,
            out_path=out_path,
        )

    failed = api.run(work)
    if failed:
        raise click.exceptions.Exit(1)
