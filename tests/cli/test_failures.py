"""Every ordinary failure is one ``Error:`` line naming the file or resource, with the documented
exit code, and never a traceback (unless ``--debug`` asks for it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from aioprintora.sandbox import Sandbox

from ._run import Done, cli_env, run

ROW = "a,https://cdn.example.com/a.png,https://s.example.com/ok,https://s.example.com/no\n"
HEADER = "ref,image_url,success_url,failed_url\n"
_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def one_error(done: Done, code: int, *needles: str) -> str:
    """``done`` failed with ``code`` and exactly one ``Error:`` line holding every needle."""
    assert done.code == code, (done.code, done.err)
    assert "Traceback" not in done.err and "Exception ignored" not in done.err, done.err
    errors = [line for line in done.err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.err
    assert "Usage:" not in done.err, done.err
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def _system(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)  # noqa: S603


def _needs_root(*command: str) -> None:
    """Run a root-only set-up step; skip the test (saying why) where this machine cannot."""
    if not _ROOT or shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} needs root")
    try:
        _system(*command)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"{' '.join(command)} does not work here: {exc.stderr.decode().strip()}")


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "1m") -> Iterator[Path]:
    """A small filesystem of its own at ``where`` (root only), unmounted at the end."""
    where.mkdir()
    _needs_root("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    try:
        yield where
    finally:
        _system("umount", "-l", str(where))


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``chattr +i``: not even root may write it, until undone at the end."""
    _needs_root("chattr", "+i", str(path))
    try:
        yield
    finally:
        _system("chattr", "-i", str(path))


async def _import(sb: Sandbox, rows: Path, journal: Path, *more: str) -> Done:
    return await run(
        "sessions", "import", str(rows), "--journal", str(journal), *more, env=cli_env(sb)
    )


async def test_a_state_or_journal_that_is_not_a_database(sandbox: Sandbox, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database, but text\n" * 200)
    done = await run(
        "orders", "sync", "--state", str(junk), "-o", str(tmp_path / "o.jsonl"),
        env=cli_env(sandbox),
    )  # fmt: skip
    one_error(done, 1, f"{junk} (--state)", "not a database")

    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER + ROW)
    one_error(await _import(sandbox, rows, corrupt), 1, f"{corrupt} (--journal)")
    assert len(sandbox.requests) == 0


async def test_missing_directories_are_named(sandbox: Sandbox, tmp_path: Path) -> None:
    rows, gone = tmp_path / "rows.csv", tmp_path / "gone"
    rows.write_text(HEADER + ROW)
    env = cli_env(sandbox)
    journal, state = gone / "j.sqlite", gone / "s.sqlite"
    out, export, results = gone / "o.jsonl", gone / "o.csv", gone / "r.jsonl"
    sync = ("orders", "sync", "--state")
    runs = [
        (await _import(sandbox, rows, journal), f"{journal} (--journal)"),
        (await _import(sandbox, rows, tmp_path / "j", "--out", str(results)), f"{results} (--out)"),
        (await run(*sync, str(state), "-o", str(tmp_path / "o"), env=env), f"{state} (--state)"),
        (await run(*sync, str(tmp_path / "s"), "-o", str(out), env=env), f"{out} (-o)"),
        (await run("orders", "export", "--format=csv", f"-o{export}", env=env), f"{export} (-o)"),
    ]  # fmt: skip
    for done, file in runs:
        one_error(done, 1, f"{file}: no such directory {gone}")
    assert not gone.exists()


async def test_a_read_only_journal_even_for_root(sandbox: Sandbox, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER + ROW)
    with tmpfs(tmp_path / "ro") as mounted:
        journal = mounted / "j.sqlite"
        first = await _import(sandbox, rows, journal)
        assert first.code == 0, first.err
        rows.write_text(HEADER + ROW + ROW.replace("a,", "b,", 1))
        _system("mount", "-o", "remount,ro", str(mounted))
        before = len(sandbox.requests)
        one_error(
            await _import(sandbox, rows, journal),
            1,
            f"{journal} (--journal)",
            "read-only or locked",
        )
        assert len(sandbox.requests) == before
        assert sandbox.session_count() == 1


async def test_a_locked_journal_even_for_root(sandbox: Sandbox, tmp_path: Path) -> None:
    rows, journal = tmp_path / "rows.csv", tmp_path / "locked" / "j.sqlite"
    journal.parent.mkdir()
    rows.write_text(HEADER + ROW)
    first = await _import(sandbox, rows, journal)
    assert first.code == 0, first.err
    assert sorted(p.name for p in journal.parent.iterdir()) == ["j.sqlite"]
    rows.write_text(HEADER + ROW + ROW.replace("a,", "b,", 1))
    # The file and its directory (where SQLite would put its write-ahead log).
    with immutable(journal), immutable(journal.parent):
        one_error(
            await _import(sandbox, rows, journal),
            1,
            f"{journal} (--journal)",
            "read-only or locked",
        )
    assert sandbox.session_count() == 1


async def test_a_journal_another_process_holds_locked(sandbox: Sandbox, tmp_path: Path) -> None:
    rows, journal = tmp_path / "rows.csv", tmp_path / "j.sqlite"
    rows.write_text(HEADER + ROW)
    first = await _import(sandbox, rows, journal)
    assert first.code == 0, first.err
    rows.write_text(HEADER + ROW + ROW.replace("a,", "b,", 1))
    holder = sqlite3.connect(journal, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # until the end: the import waits, then gives up
        done = await _import(sandbox, rows, journal)
    finally:
        holder.close()
    one_error(done, 1, f"{journal} (--journal)", "database is locked")


async def test_a_full_disk(sandbox: Sandbox, tmp_path: Path) -> None:
    await sandbox.seed_orders(300)
    with tmpfs(tmp_path / "full", size="16k") as mounted:
        export, changes = mounted / "orders.csv", mounted / "changes.jsonl"
        env = cli_env(sandbox)
        exported = await run("orders", "export", "--format", "csv", "-o", str(export), env=env)
        one_error(exported, 1, f"{export} (-o)", "No space left on device")
        assert list(mounted.iterdir()) == []  # no temporary file left behind
        synced = await run(
            "orders", "sync", "--state", str(tmp_path / "s.sqlite"), "-o", str(changes), env=env
        )
        one_error(synced, 1, f"{changes} (-o)", "No space left on device")


async def test_a_cell_over_128_kib_is_a_usage_error_naming_file_and_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER + ROW + "b," + "x" * 140_000 + ",https://s.example.com/ok,x\n")
    done = await _import(sandbox, rows, tmp_path / "j.sqlite")
    one_error(done, 2, f"{rows}: line 3:", "field larger than field limit")
    assert len(sandbox.requests) == 0


async def test_debug_prints_the_traceback_too(sandbox: Sandbox, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n" * 200)
    args = ("orders", "sync", "--state", str(junk), "-o", str(tmp_path / "o.jsonl"))
    flagged = await run("--debug", *args, env=cli_env(sandbox))
    logged = await run(*args, env=cli_env(sandbox, PRINTORA_LOG="debug"))
    for done in (flagged, logged):
        assert done.code == 1
        assert "Traceback (most recent call last)" in done.err and "DatabaseError" in done.err
        assert done.err.splitlines()[-1].startswith(f"Error: {junk} (--state)")
    help_text = await run("--help", env=cli_env(None))
    assert "--debug" in help_text.out
