"""What needs no sandbox: the missing extra, help with examples, --version, the pure helpers."""

from __future__ import annotations

import subprocess
import sys

import click
import click.testing
import pytest

from aioprintora.cli import _INSTALL_HINT as INSTALL_HINT
from aioprintora.cli._api import parse_rate_limit
from aioprintora.cli._app import cli
from aioprintora.cli._progress import eta_seconds
from aioprintora.cli._ratewatch import RateWatch, describe_window, wait_message
from aioprintora.ratelimit._local import RateLimiter, Window

from ._run import cli_env

# Hides click from the import system, as on a machine without the extra.
_WITHOUT_CLICK = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("click", "rich"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Hide())
sys.argv = ["aioprintora", *sys.argv[1:]]
from aioprintora.cli import main
sys.exit(main())
"""


def test_without_the_extra_it_says_what_to_install() -> None:
    done = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", _WITHOUT_CLICK, "orders", "list"],
        capture_output=True,
        text=True,
        timeout=30,
        env=cli_env(None),
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == f"{INSTALL_HINT}\n(missing: click, rich)\n"
    assert "pip install 'aioprintora[cli]'" in done.stderr and "Traceback" not in done.stderr


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


def test_every_command_has_help_with_an_example() -> None:
    runner = click.testing.CliRunner()
    leaves = [p for p in _commands(cli) if not isinstance(_lookup(p), click.Group)]
    assert len(leaves) == 14  # worker and jobs status (issue 26) included
    for path in leaves:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example" in result.output and "aioprintora " + " ".join(path) in result.output


def _lookup(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def test_version() -> None:
    result = click.testing.CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("aioprintora, version ")


def test_rate_limits_parse() -> None:
    assert parse_rate_limit(["600/min", "10000/day"]) == (Window(600, 60), Window(10000, 86400))
    assert parse_rate_limit(["5/30s", "2/3"]) == (Window(5, 30), Window(2, 3))
    assert parse_rate_limit(["off"]) is None
    for bad in ("60", "60/fortnight", "x/min", "60/"):
        with pytest.raises(ValueError, match="is not a rate"):
            parse_rate_limit([bad])
    assert [
        describe_window(w.limit, w.period) for w in parse_rate_limit(["1/2s", "9/h"]) or ()
    ] == [
        "1/2s",
        "9/h",
    ]


def test_the_ticker_says_when_and_how_long_the_limiter_holds_requests() -> None:
    now = [100.0]
    limiter = RateLimiter([Window(60, 60.0), Window(10_000, 86_400.0)], clock=lambda: now[0])
    seen: list[str | None] = []
    watch = RateWatch(limiter, seen.append, clock=lambda: now[0])
    watch.tick()
    assert seen == [] and wait_message(limiter, now[0]) is None
    for _ in range(60):
        assert limiter.try_acquire(now[0]) == 0.0
    now[0] += 18.0
    watch.tick()
    watch.tick()  # one line per wait, not per tick
    assert seen == ["waiting 42 s for the rate limit, 60/min"]
    now[0] += 42.5
    watch.tick()
    assert seen[-1] is None


def test_eta_counts_the_rate_limit() -> None:
    limiter = RateLimiter([Window(60, 60.0)], clock=lambda: 0.0)
    for _ in range(60):
        limiter.try_acquire(0.0)
    # 10 done in 1 s looks like 9 s left; the limiter says 120 more requests need 2 minutes.
    eta = eta_seconds(10, 130, 1.0, limiter=limiter, now=0.0)
    assert eta is not None and eta >= 119.0
    assert eta_seconds(10, 130, 1.0) == pytest.approx(12.0)
    assert eta_seconds(5, None, 1.0) is None
    assert eta_seconds(5, 5, 1.0) == 0.0
