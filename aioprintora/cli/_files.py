"""The files a command was given, remembered so an error line can name the one that failed.

An ``sqlite3`` error does not say which file it is about, and a full disk raises an ``OSError``
without a file name: :func:`aioprintora.cli._errors.report` names the file from here instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import attrs
import click

__all__ = ["FilePath", "GivenFile", "forget", "given"]

Role = Literal["input", "output", "database"]


@attrs.frozen
class GivenFile:
    """One file argument: its option (``--journal``), its role and its path."""

    option: str
    role: Role
    path: Path

    def __str__(self) -> str:
        return f"{self.path} ({self.option})" if self.option.startswith("-") else str(self.path)


_GIVEN: list[GivenFile] = []


def given(role: Role | None = None) -> list[GivenFile]:
    """The files of the running command (those in ``role``)."""
    return [f for f in _GIVEN if role is None or f.role == role]


def forget() -> None:
    """Start a new command with no files."""
    _GIVEN.clear()


class FilePath(click.Path):
    """``click.Path`` (a file, as a :class:`~pathlib.Path`) that remembers the file it gave.

    Args:
        role: what the command does with it: ``input``, ``output`` or ``database`` (SQLite).
        exists: the file must exist already.
    """

    def __init__(self, role: Role, *, exists: bool = False) -> None:
        super().__init__(exists=exists, dir_okay=False, path_type=Path)
        self.role: Role = role

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        option = (param.opts[0] if param.param_type_name == "option" else "") if param else ""
        _GIVEN.append(GivenFile(option, self.role, Path(os.fsdecode(path))))
        return path
