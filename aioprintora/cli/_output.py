r"""Output: tables for people (colour only on a terminal, never with ``NO_COLOR``), JSON for
machines.

With ``--json`` a command prints one JSON document, or JSON Lines when it streams; everything
meant for people only (progress, rate-limit waits, summaries of streams) goes to stderr, so
stdout stays parseable.

What a server sent is text, never markup or terminal codes: values reach rich as ``Text`` (no
markup, no emoji codes), and control characters (C0, DEL, C1, bidirectional overrides) and
lone surrogates are shown escaped (``\x1b``, ``\ud800``). JSON stays exact: those characters
are written as JSON escapes (``\u009b``, ``\ud800``), which read back as the same string.
"""

from __future__ import annotations

import enum
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["Output", "jsonable", "printable", "to_json"]

#: C0, DEL, C1, the bidirectional overrides and isolates (which reorder what the line shows),
#: lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: Left raw by ``json.dumps(ensure_ascii=False)``, though no terminal should see them.
_JSON_ESCAPED = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters and lone surrogates as escapes."""
    return _UNPRINTABLE.sub(
        lambda m: f"\\u{ord(m[0]):04x}" if ord(m[0]) > 0xFF else f"\\x{ord(m[0]):02x}", text
    )


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data: models as dicts of their snake_case fields.

    Money stays exact as a string (``"19.99"``); datetimes are ISO 8601; enums their value.
    """
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and attrs.has(type(value)):
        return jsonable(to_dict())
    if attrs.has(type(value)):
        return {f.name: jsonable(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _dumps(value: Any, indent: int | None = None) -> str:
    text = json.dumps(
        value, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":")
    )
    # Only a string can hold these, and a JSON escape is exact: C1 codes and bidirectional
    # overrides never reach a terminal, and a lone surrogate never fails the encoding.
    return _JSON_ESCAPED.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def to_json(value: Any) -> str:
    """One line of compact JSON (always encodable as UTF-8)."""
    return _dumps(jsonable(value))


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return Console(
        file=stream,
        no_color="NO_COLOR" in os.environ or not terminal,
        highlight=False,
        emoji=False,  # ":thumbs_up:" in a server string stays as it is
        # Off a terminal rich would wrap tables at 80 columns; a pipe gets whole lines.
        width=None if terminal else 200,
        soft_wrap=not terminal,
    )


def _cell(value: Any) -> Text:
    value = jsonable(value)
    if value is None:
        return Text()
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return Text(printable(str(value)))


class Output:
    """Where a command writes: ``json_mode`` picks machines over people.

    Args:
        json_mode: ``--json`` was given.
    """

    def __init__(self, json_mode: bool = False) -> None:
        self.json_mode = json_mode
        self.out = _console(stderr=False)
        self.err = _console(stderr=True)

    def document(self, value: Any) -> None:
        """Print one JSON document (``--json``)."""
        sys.stdout.write(_dumps(jsonable(value), indent=2) + "\n")
        sys.stdout.flush()

    def json_line(self, value: Any) -> None:
        """Print one JSON Lines record (``--json`` on a stream)."""
        sys.stdout.write(to_json(value) + "\n")
        sys.stdout.flush()

    def record(self, value: Any, fields: Sequence[str] | None = None, title: str = "") -> None:
        """One object: a JSON document, or a two-column table of its fields."""
        if self.json_mode:
            self.document(value)
            return
        data = jsonable(value)
        names = list(fields or data)
        width = max((len(n) for n in names), default=0)
        if title:
            self.out.print(Text(title, style="bold"))
        for name in names:
            self.out.print(Text.assemble((f"{name:<{width}}", "bold"), "  ", _cell(data.get(name))))

    def rows(
        self, items: Iterable[Any], columns: Sequence[str], *, title: str = "", footer: str = ""
    ) -> None:
        """A listing: a table of ``columns``, or (``--json``) one document with ``items``."""
        values = [jsonable(item) for item in items]
        if self.json_mode:
            self.document({"items": values, **({"summary": footer} if footer else {})})
            return
        table = Table(title=title or None, header_style="bold")
        for name in columns:
            table.add_column(name, overflow="fold")
        for data in values:
            table.add_row(*(_cell(data.get(name)) for name in columns))
        self.out.print(table)
        if footer:
            self.out.print(footer)

    def say(self, text: str) -> None:
        """A line for people, on stderr (so it never mixes with ``--json`` output)."""
        self.err.print(Text(printable(text)))

    def line(self, text: str) -> None:
        """A line for people on stdout (a stream of events, say), as plain text."""
        self.out.print(Text(printable(text)))

    def error(self, text: str) -> None:
        """``Error: ...`` on stderr, in red on a terminal."""
        self.err.print(Text.assemble(("Error:", "bold red"), " ", printable(text)), soft_wrap=True)
