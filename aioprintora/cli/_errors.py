"""Exit codes, and turning what went wrong into one line for the operator (never a traceback).

=====  ==============================================================================
code   when
=====  ==============================================================================
0      the command did what it was asked
1      the API answered with an error, or could not be reached (its code and message);
       a file could not be read or written (the journal, the state, an output: the
       file and the reason); an import with failed rows
2      a usage error: unknown flag, bad value, no API key, a bad row in an import file
       (the file and the line)
130    Ctrl-C, after the command stopped cleanly (files flushed, connections closed)
=====  ==============================================================================

:func:`explain` is the one table from exception class to line and code; ``--debug`` (or
``PRINTORA_LOG=debug``) prints the traceback above the line.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from .._errors import APIConnectionError, APIError, PrintoraError
from .._logging import ENV_VAR
from ..jobs._store import AccountMismatchError
from ._files import GivenFile, given

__all__ = [
    "API_ERROR",
    "FILE_ERROR",
    "INTERRUPTED",
    "OK",
    "USAGE",
    "BadInputError",
    "InterruptedByUserError",
    "debugging",
    "describe",
    "explain",
    "report",
    "set_debug",
]

OK = 0
API_ERROR = 1
#: The same code as an API error: 1 is "it did not work", the line says what.
FILE_ERROR = 1
USAGE = 2
INTERRUPTED = 130


class InterruptedByUserError(Exception):
    """Ctrl-C reached the command; it has already stopped cleanly."""


class BadInputError(Exception):
    """A file the command was given cannot be used as it is (its name and line in the text)."""


def describe(exc: PrintoraError) -> str:
    """One line naming the API's code and message (the SDK's errors never hold secrets)."""
    if isinstance(exc, APIError):
        code = exc.code or f"HTTP {exc.status_code}"
        tries = f", after {exc.attempts} attempts" if exc.attempts > 1 else ""
        return f"{code}: {exc.message} (HTTP {exc.status_code}{tries})"
    if isinstance(exc, APIConnectionError):
        where = f" ({exc.url})" if exc.url else ""
        tries = f", after {exc.attempts} attempts" if exc.attempts > 1 else ""
        return f"could not reach the API: {exc.message}{where}{tries}"
    return f"{type(exc).__name__}: {exc}"


def _api(exc: BaseException) -> str:
    assert isinstance(exc, PrintoraError)
    return describe(exc)


def _missing_directory(file: GivenFile | Path) -> str | None:
    parent = file.path.parent if isinstance(file, GivenFile) else file.parent
    return None if parent.is_dir() else f"{file}: no such directory {parent}"


def _about(files: list[GivenFile], text: str) -> str:
    return f"{', '.join(map(str, files))}: {text}" if files else text


def _database(exc: BaseException) -> str:
    databases = given("database")
    for file in databases:
        if missing := _missing_directory(file):
            return missing
    # SQLite says "unable to open" for a file it may read but not lock or journal beside.
    locked = any(
        f.path.exists() and not (os.access(f.path, os.W_OK) and os.access(f.path.parent, os.W_OK))
        for f in databases
    )
    hint = "; it or its directory is read-only or locked" if locked else ""
    return _about(databases, f"{exc} (SQLite){hint}")


def _os_error(exc: BaseException) -> str:
    assert isinstance(exc, OSError)
    reason = exc.strerror or str(exc)
    if exc.filename is None:  # a write that failed (a full disk): the files being written
        return _about(given("output"), reason)
    name = os.fsdecode(exc.filename)
    file = next((f for f in given() if str(f.path) == name), None) or Path(name)
    return _missing_directory(file) or f"{file}: {reason}"


def _bad_csv(exc: BaseException) -> str:
    return _about(given("input"), f"not valid CSV: {exc}")


def _other_account(exc: BaseException) -> str:
    return _about(given("database"), str(exc))


def _unexpected(exc: BaseException) -> str:
    return f"unexpected {type(exc).__name__}: {exc} (--debug shows the traceback)"


#: What a command may raise, in the order it is matched: the line it becomes and the exit code.
_TABLE: tuple[tuple[type[BaseException], Callable[[BaseException], str], int], ...] = (
    (PrintoraError, _api, API_ERROR),
    (BadInputError, str, USAGE),
    (AccountMismatchError, _other_account, USAGE),
    (csv.Error, _bad_csv, USAGE),
    (sqlite3.Error, _database, FILE_ERROR),
    (OSError, _os_error, FILE_ERROR),
    (Exception, _unexpected, API_ERROR),
)


def explain(exc: BaseException) -> tuple[str, int]:
    """The ``Error:`` line (without the prefix) and the exit code for ``exc``."""
    for kind, line, code in _TABLE:
        if isinstance(exc, kind):
            return line(exc), code
    raise exc


_debug = False


def set_debug(on: bool) -> None:
    """``--debug``: print tracebacks too (``PRINTORA_LOG=debug`` does the same)."""
    global _debug  # noqa: PLW0603 - one command per process
    _debug = on
    if on:
        os.environ[ENV_VAR] = "debug"  # and the SDK's own debug log, read by the first client


def debugging() -> bool:
    """``--debug`` or ``PRINTORA_LOG=debug``: tracebacks are wanted."""
    return _debug or os.environ.get(ENV_VAR, "").strip().lower() == "debug"


def report(exc: BaseException) -> int:
    """Print ``exc`` as one ``Error:`` line on stderr (after its traceback with ``--debug``)."""
    from ._output import Output

    message, code = explain(exc)
    if debugging():
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    Output().error(message)
    return code
