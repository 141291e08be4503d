"""The engine of ``sessions import``: check the whole file, then stream it into the journaled
``iter_create_many``, with progress and per-row results."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import describe
from ._progress import Meter
from ._rows import AtomicWriter, read_rows, session_request

if TYPE_CHECKING:
    from .._client import PrintoraClient
    from ..jobs._imports import BatchResult, Progress, SessionRequest
    from ._output import Output

__all__ = ["RESULT_COLUMNS", "check_file", "result_row", "run_import"]

RESULT_COLUMNS = ("ref", "session_id", "redirect_url", "error", "journaled")


def _numbered(path: Path) -> Iterator[tuple[int, SessionRequest]]:
    """``(line, request)`` per row (the header is line 1), refusing a bad row (ValueError)."""
    for number, row in read_rows(path):
        try:
            request = session_request(row)  # the SDK's own checks, before anything is sent
        except (TypeError, ValueError) as exc:
            raise ValueError(f"line {number}: {exc}") from None
        yield number, request


def _requests(path: Path) -> Iterator[SessionRequest]:
    return (request for _, request in _numbered(path))


def check_file(path: Path) -> int:
    """Read every row once, refusing the file on the first bad one; the number of rows.

    Nothing is kept but the refs, so a file of millions of rows is checked in little memory.
    """
    refs: dict[str, int] = {}
    for number, request in _numbered(path):
        assert request.ref is not None
        if request.ref in refs:
            first = refs[request.ref]
            raise ValueError(
                f"line {number}: ref {request.ref!r} appears twice (first on line {first})"
            )
        refs[request.ref] = number
    if not refs:
        raise ValueError("no rows")
    return len(refs)


def result_row(result: BatchResult) -> dict[str, Any]:
    """One line of the results file."""
    session = result.session
    error = result.error
    if error is not None:
        from .._errors import PrintoraError

        text = describe(error) if isinstance(error, PrintoraError) else f"{error}"
    return {
        "ref": result.request.ref,
        "session_id": session.id if session else None,
        "redirect_url": session.redirect_url if session else None,
        "error": None if error is None else text,
        "journaled": result.journaled,
    }


async def run_import(
    client: PrintoraClient,
    output: Output,
    *,
    path: Path,
    total: int,
    journal: Path,
    concurrency: int,
    out_path: Path | None,
) -> int:
    """Import ``path``; returns how many rows failed (each is retried by the next run)."""
    meter = Meter(output, "importing sessions", client.limiter)
    meter.set_total(total)
    writer = AtomicWriter(out_path, "jsonl", RESULT_COLUMNS) if out_path else None
    failed: list[dict[str, Any]] = []
    last: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        # The job's own counts and ETA: they include answers not yet yielded (a Ctrl-C's).
        last[:] = [progress]
        meter.known_eta = progress.eta
        meter.refresh()

    try:
        async with meter.running():
            results = client.sessions.iter_create_many(
                _requests(path),
                concurrency=concurrency,
                journal=str(journal),
                on_progress=on_progress,
            )
            async for result in results:
                row = result_row(result)
                if writer is not None:
                    writer.write(row)
                if output.json_mode:
                    output.json_line(row)
                if not result.ok:
                    failed.append(row)
                meter.advance()
    finally:
        if writer is not None:
            writer.commit()  # whole rows, even when stopped
        end = last[0] if last else None
        created, journaled, bad = (end.created, end.journaled, end.failed) if end else (0, 0, 0)
        output.say(
            f"imported {created + journaled + bad:,} of {total:,} rows: {created:,} created, "
            f"{journaled:,} already in the journal, {bad:,} failed "
            f"({meter.elapsed:.1f} s)"
        )
    if failed and not output.json_mode:
        output.rows(failed[:50], ("ref", "error"), title="failed rows (re-run to retry them)")
    return len(failed)
