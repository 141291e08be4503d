"""The ``aioprintora`` command for operators (the ``cli`` extra: click and rich).

``aioprintora sessions|orders|webhooks ...`` talk to the Partner API; ``aioprintora sandbox`` and
``aioprintora demo`` run locally. Each command group lives in its own module and is registered
in :mod:`aioprintora.cli._app`; output, exit codes, the rate-limit ticker and file handling are
small modules of their own.

Only :func:`main` lives here, and it imports nothing optional until it runs: without the extra
it says what to install instead of failing with a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

#: What a user without the extra is told (exactly; tests compare it).
_INSTALL_HINT = (
    "The aioprintora command needs the 'cli' extra (click and rich):\n"
    "    pip install 'aioprintora[cli]'\n"
    "(from a checkout: pip install -e '.[cli]')"
)


def _missing_extra() -> list[str]:
    missing = []
    for name in ("click", "rich"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 API error, 2 usage, 130 Ctrl-C).

    Args:
        argv: the arguments (``sys.argv[1:]`` when None).
    """
    missing = _missing_extra()
    if missing:
        print(f"{_INSTALL_HINT}\n(missing: {', '.join(missing)})", file=sys.stderr)
        return 1
    from ._app import run

    return run(list(argv) if argv is not None else sys.argv[1:])
