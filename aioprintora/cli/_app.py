"""The root ``aioprintora`` group, and mapping what a command raised to its exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from . import errors
from .jobs import jobs
from .local import demo, sandbox
from .orders import orders
from .sessions import sessions
from .webhooks import webhooks
from .worker import worker

__all__ = ["cli", "run"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="aioprintora", prog_name="aioprintora")
def cli() -> None:
    """Operate a Printora Partner integration from the shell.

    Every API command takes --api-key and --base-url (default $PRINTORA_API_KEY and
    $PRINTORA_BASE_URL) and --json for machine output. Exit codes: 0 ok, 1 API or network
    error, 2 usage error, 130 Ctrl-C.

    \b
    Examples:
      aioprintora orders list --status paid
      aioprintora orders export --format csv -o orders.csv
      aioprintora webhooks listen --port 8000
      aioprintora sandbox --orders 100
    """


for group in (sessions, orders, webhooks, jobs, worker, sandbox, demo):
    cli.add_command(group)


def run(argv: Sequence[str]) -> int:
    """Run ``aioprintora`` with ``argv``; the exit status, never a traceback for expected errors."""
    try:
        code = cli.main(list(argv), prog_name="aioprintora", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (errors.InterruptedByUserError, click.Abort):
        print("interrupted", file=sys.stderr)
        return errors.INTERRUPTED
    except BrokenPipeError:  # ``aioprintora ... | head``
        sys.stderr.close()
        return errors.OK
    return code if isinstance(code, int) else errors.OK
