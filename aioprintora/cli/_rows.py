"""Files in and out: import rows (CSV or JSON Lines) and an atomic, always-valid export writer.

CSV cells are written safe to open in a spreadsheet (OWASP's CSV-injection guidance): a text
cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``,
so it is shown as text and never run as a formula. Plain numbers (``-5.00``) are left alone;
``raw=True`` (``--raw``) writes every cell exactly as received.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from .._models import UserData
from ..resources._session_request import CONTENT, FLOWS, SessionRequest
from ._output import to_json

__all__ = ["IMPORT_COLUMNS", "AtomicWriter", "read_rows", "session_request"]

#: A row's columns for the request's own fields; its ``user_data`` is spread over the next.
_FIELDS = tuple(name for name in CONTENT if name != "user_data")
_USER_DATA = tuple(field.name for field in attrs.fields(UserData))
#: The columns of an import file; ``ref``, both URLs and one flow column are required.
IMPORT_COLUMNS = ("ref", *_FIELDS, *_USER_DATA)
_REQUIRED = ("ref", *(f.name for f in attrs.fields(SessionRequest) if f.default is attrs.NOTHING))
#: What a spreadsheet may take for the start of a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _blank(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _whole(value: Any) -> int | None:
    """A whole number as written: ``2.7`` (or ``True``) is refused, never cut to ``2``."""
    if value is None:
        return None
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"quantity must be a whole number, not {value!r}") from None


def session_request(row: Mapping[str, Any], *, require_ref: bool = True) -> SessionRequest:
    """One import row (flat, or with ``user_data`` nested) as a request: the request's own
    checks refuse a bad field (ValueError naming it)."""
    fields = {k: _blank(v) for k, v in row.items()}
    unknown = set(fields) - set(IMPORT_COLUMNS) - {"user_data"}
    if unknown:
        raise ValueError(f"unknown column(s): {', '.join(sorted(unknown))}")
    ref = fields.get("ref")
    if require_ref and not ref:
        raise ValueError("every row needs a ref (the key that makes re-runs safe)")
    nested = fields.get("user_data") or {}
    if not isinstance(nested, Mapping):
        raise ValueError("user_data must be an object")
    people = {k: fields.get(k) or _blank(nested.get(k)) for k in _USER_DATA}
    own: dict[str, Any] = {name: fields.get(name) for name in _FIELDS}
    own["quantity"] = _whole(own["quantity"])
    user_data = UserData(**people) if any(people.values()) else None
    return SessionRequest(**own, ref=None if ref is None else str(ref), user_data=user_data)


def check_header(columns: Sequence[str]) -> None:
    """Refuse a CSV header with an unknown column or without a required one (ValueError)."""
    unknown = [c for c in columns if c not in IMPORT_COLUMNS]
    if unknown:
        raise ValueError(
            f"line 1: unknown column(s) {', '.join(unknown)} (known: {', '.join(IMPORT_COLUMNS)})"
        )
    missing = [c for c in _REQUIRED if c not in columns]
    if not any(c in columns for c in FLOWS):
        missing.append(" or ".join(FLOWS))
    if missing:
        raise ValueError(f"line 1: no {', no '.join(missing)} column (required)")


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` from a CSV file with a header row (line 1), or JSON Lines
    (``.jsonl``/``.ndjson``); a file that cannot be read raises ValueError naming the line."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
            for number, line in enumerate(file, 1):
                if line.strip():
                    try:
                        row = json.loads(line)
                    except ValueError as exc:
                        raise ValueError(f"line {number}: not JSON ({exc})") from None
                    if not isinstance(row, dict):
                        raise ValueError(f"line {number}: not a JSON object")
                    yield number, row
            return
        reader = csv.DictReader(file)
        try:
            if reader.fieldnames is None:
                return
            check_header(reader.fieldnames)
            for row in reader:
                if None in row:
                    raise ValueError(f"line {reader.line_num}: more cells than header columns")
                yield reader.line_num, dict(row)
        except csv.Error as exc:  # a cell over csv's 128 KiB limit, a stray quote...
            raise ValueError(f"line {reader.line_num + 1}: {exc}") from None


class AtomicWriter:
    """Rows to a temporary file beside ``path``, renamed over it by :meth:`commit`.

    Each row is written whole, so whatever has been written when a command stops (Ctrl-C, an API
    error) is valid CSV or JSON Lines; a re-run replaces the old file in one rename.

    Args:
        path: the destination.
        fmt: ``csv`` or ``jsonl``.
        columns: the CSV header (and the keys kept per row).
        raw: CSV cells exactly as received, without the spreadsheet guard.
    """

    def __init__(self, path: Path, fmt: str, columns: Sequence[str], *, raw: bool = False) -> None:
        self.path = path
        self.fmt = fmt
        self.columns = tuple(columns)
        self.raw = raw
        self.count = 0
        self._failed = False
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as exc:  # named after the file asked for, not the temporary one
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        self._tmp = Path(tmp)
        # A lone surrogate from a server is written escaped rather than failing the export.
        self._file: IO[str] = os.fdopen(
            fd, "w", newline="", encoding="utf-8", errors="backslashreplace"
        )
        self._csv = csv.DictWriter(self._file, self.columns) if fmt == "csv" else None
        if self._csv is not None:
            self._csv.writeheader()

    def write(self, row: Mapping[str, Any]) -> None:
        """Append one row (JSON-ready values)."""
        try:
            if self._csv is not None:
                self._csv.writerow({k: _csv_cell(row.get(k), self.raw) for k in self.columns})
            else:
                self._file.write(to_json(row) + "\n")
        except OSError:
            self._failed = True  # a row may be cut short: never renamed over the destination
            raise
        self.count += 1

    def commit(self) -> None:
        """Flush to disk and rename over the destination. After a failed write or flush (a full
        disk) the destination is left as it was and the temporary file removed."""
        if self._failed:
            self.discard()
            return
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Drop the temporary file; the destination is left as it was."""
        with contextlib.suppress(OSError):  # its buffer cannot be written: a full disk
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()


def _csv_cell(value: Any, raw: bool) -> Any:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    if raw or not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
