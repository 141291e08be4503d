"""Exit codes, and turning what went wrong into one line for the operator (never a traceback).

=====  ==============================================================================
code   when
=====  ==============================================================================
0      the command did what it was asked
1      the API answered with an error, or could not be reached (its code and message)
2      a usage error: unknown flag, bad value, no API key
130    Ctrl-C, after the command stopped cleanly (files flushed, connections closed)
=====  ==============================================================================
"""

from __future__ import annotations

from ..errors import APIConnectionError, APIError, PrintoraError

__all__ = ["API_ERROR", "INTERRUPTED", "OK", "USAGE", "InterruptedByUserError", "describe"]

OK = 0
API_ERROR = 1
USAGE = 2
INTERRUPTED = 130


class InterruptedByUserError(Exception):
    """Ctrl-C reached the command; it has already stopped cleanly."""


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
