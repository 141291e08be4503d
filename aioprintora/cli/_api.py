"""What every API command shares: ``--api-key``/``--base-url``/``--rate-limit``/``--json``, and
the client (its retries shown on stderr as they happen)."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._output import Output
from ._runtime import run_async

if TYPE_CHECKING:
    from .._client import PrintoraClient
    from ..ratelimit._local import Window

__all__ = ["Api", "api_options", "parse_rate_limit"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_PERIODS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "hour": 3600.0, "day": 86_400.0}
_RATE = re.compile(r"(\d+)/(\d+(?:\.\d+)?)?([a-z]*)")


def parse_rate_limit(values: Sequence[str]) -> tuple[Window, ...] | None:
    """``("600/min", "10000/day")`` as windows; ``("off",)`` as None (raises ValueError)."""
    from ..ratelimit._local import Window

    if list(values) == ["off"]:
        return None
    windows = []
    for value in values:
        match = _RATE.fullmatch(value.strip().lower())
        unit = (match[3] or "s") if match else ""
        if not match or not (match[2] or match[3]) or unit not in _PERIODS:
            raise ValueError(f"{value!r} is not a rate like 60/min, 10000/day, 5/30s or 'off'")
        windows.append(Window(int(match[1]), float(match[2] or 1) * _PERIODS[unit]))
    return tuple(windows)


class Api:
    """The parsed shared options of one command; :meth:`run` runs it with a client.

    Args:
        api_key: ``--api-key`` / ``$PRINTORA_API_KEY``.
        base_url: ``--base-url`` / ``$PRINTORA_BASE_URL``.
        rate_limit: ``--rate-limit`` values (empty: the documented 60/min and 10,000/day).
        json_mode: ``--json``.
    """

    def __init__(
        self, api_key: str | None, base_url: str | None, rate_limit: Sequence[str], json_mode: bool
    ) -> None:
        self._api_key = api_key  # never echoed: not in a repr, an error or a log line
        self.base_url = base_url
        self.rate_limit = tuple(rate_limit)
        self.output = Output(json_mode)

    def __repr__(self) -> str:
        return f"<Api base_url={self.base_url!r} api_key=<redacted>>"

    def client(self) -> PrintoraClient:
        """A new client (usage errors for a missing key or a bad URL or rate)."""
        from .._client import DEFAULT_RATE_LIMIT, PrintoraClient
        from ._retries import RetryNotice

        if not self._api_key:
            raise click.UsageError("no API key: pass --api-key or set PRINTORA_API_KEY")
        try:
            windows = parse_rate_limit(self.rate_limit) if self.rate_limit else DEFAULT_RATE_LIMIT
            return PrintoraClient(
                self._api_key,
                base_url=self.base_url,
                rate_limit=windows,
                hooks=[RetryNotice(self.output)],
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

    def run(self, work: Callable[[PrintoraClient], Awaitable[T]]) -> T | None:
        """Run ``work(client)`` to the end (what it raises: see :func:`.errors.explain`).

        A ValueError is the SDK refusing an argument before sending anything: a usage error.
        """
        from ..jobs._store import AccountMismatchError

        client = self.client()

        async def main() -> T:
            async with client:
                return await work(client)

        try:
            return run_async(main)
        except (UnicodeError, AccountMismatchError):
            raise  # output, data or a file, not an argument: errors.explain says which
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None


def api_options(command: F) -> F:
    """Add the shared options; the command gets an :class:`Api` as its first argument."""

    @click.option(
        "--api-key",
        envvar="PRINTORA_API_KEY",
        show_envvar=True,
        metavar="KEY",
        help="Partner API key (prefer the environment variable: flags land in shell history).",
    )
    @click.option(
        "--base-url",
        envvar="PRINTORA_BASE_URL",
        show_envvar=True,
        metavar="URL",
        help="API root (default: production; http only to a loopback sandbox).",
    )
    @click.option(
        "--rate-limit",
        envvar="PRINTORA_RATE_LIMIT",
        show_envvar=True,
        multiple=True,
        metavar="RATE",
        help="Client-side limit, e.g. 600/min (repeatable; 'off'). Default 60/min and 10000/day.",
    )
    @click.option("--json", "json_mode", is_flag=True, help="Machine output: JSON (Lines).")
    @functools.wraps(command)
    def wrapper(
        *args: Any,
        api_key: str | None,
        base_url: str | None,
        rate_limit: tuple[str, ...],
        json_mode: bool,
        **kwargs: Any,
    ) -> Any:
        return command(Api(api_key, base_url, rate_limit, json_mode), *args, **kwargs)

    return wrapper  # type: ignore[return-value]
