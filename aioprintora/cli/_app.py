"""The root ``aioprintora`` group, and mapping what a command raised to its exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from . import _errors as errors
from ._files import forget
from ._jobs import jobs
from ._local import demo, sandbox
from ._orders import orders
from ._sessions import sessions
from ._webhooks import webhooks
from ._worker import worker

__all__ = ["cli", "run"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="aioprintora", prog_name="aioprintora")
@click.option(
    "--debug",
    is_flag=True,
    help="On an error, print the traceback too; and the SDK's debug log (as PRINTORA_LOG=debug).",
)
def cli(debug: bool) -> None:
    """Operate a Printora Partner integration from the shell.

    Every API command takes --api-key and --base-url (default $PRINTORA_API_KEY and
    $PRINTORA_BASE_URL) and --json for machine output. Exit codes: 0 ok, 1 API, network or
    file error, 2 usage error (a bad import file too), 130 Ctrl-C. Every error is one line
    (--debug adds the traceback).

    \b
    Examples:
      aioprintora orders list --status paid
      aioprintora orders export --format csv -o orders.csv
      aioprintora webhooks listen --port 8000
      aioprintora sandbox --orders 100
    """
    errors.set_debug(debug)


for group in (sessions, orders, webhooks, jobs, worker, sandbox, demo):
    cli.add_command(group)


def run(argv: Sequence[str]) -> int:
    """Run ``aioprintora`` with ``argv``; the exit status, never a traceback (but with --debug)."""
    forget()
    errors.set_debug(False)
    # A server string may hold a lone surrogate: shown escaped rather than crashing the print.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
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
    except Exception as exc:
        return errors.report(exc)
    return code if isinstance(code, int) else errors.OK
