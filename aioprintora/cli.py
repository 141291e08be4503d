"""The ``aioprintora`` command line.

``aioprintora sandbox [--host H] [--port P] [--seed N] [--orders N]`` runs the local sandbox;
``aioprintora demo [--orders N] [--seed S] [--quiet]`` runs an example integration against one.

Each subcommand is a small function registered in :func:`build_parser`; add one by writing an
``add_<name>`` function that creates its subparser and sets ``handler``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Sequence

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


async def _serve_sandbox(args: argparse.Namespace) -> None:
    from .sandbox import (
        DEFAULT_RATE_LIMITS,
        Sandbox,
    )  # imported late: the CLI may grow commands that need less

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no handlers
            loop.add_signal_handler(sig, stop.set)
    sandbox = Sandbox(
        host=args.host,
        port=args.port,
        seed=args.seed,
        rate_limits=None if args.no_rate_limits else DEFAULT_RATE_LIMITS,
        webhook_time_scale=args.webhook_time_scale,
    )
    async with sandbox as sb:
        if args.orders:
            await sb.seed_orders(args.orders)
        # The key and secret are printed on purpose: this is a local sandbox, and the user asked.
        print("Printora sandbox running (Ctrl-C to stop)", flush=True)
        print(f"base_url: {sb.base_url}", flush=True)
        print(f"api_key: {sb.api_key}", flush=True)
        print(f"webhook_secret: {sb.webhook_secret}", flush=True)
        print(f"seed: {sb.seed}", flush=True)  # --seed N repeats this run's ids and keys
        print(f"openapi: {sb.base_url}/_sandbox/openapi.json", flush=True)
        await stop.wait()


def run_sandbox(args: argparse.Namespace) -> int:
    """Serve a sandbox until Ctrl-C (or SIGTERM)."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_sandbox(args))
    return 0


def add_sandbox(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``aioprintora sandbox``."""
    parser = commands.add_parser(
        "sandbox",
        help="run a local, stateful Printora Partner API",
        description="Run a local, stateful Printora Partner API until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080; 0: any)")
    parser.add_argument(
        "--seed", type=int, default=None, help="seed for ids and keys (default: a random one)"
    )
    parser.add_argument("--orders", type=int, default=0, help="orders to create at start")
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="no 60/min, 10,000/day limits (fuzzing)"
    )
    parser.add_argument(
        "--webhook-time-scale",
        type=float,
        default=1.0,
        help="multiplies the webhook retry schedule (0.001: 1 min -> 60 ms)",
    )
    parser.set_defaults(handler=run_sandbox)


def add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``aioprintora demo``."""
    from . import demo

    parser = commands.add_parser(
        "demo",
        help="run an example integration against an embedded sandbox",
        description="Create sessions, check out, follow orders and webhooks, all locally.",
    )
    demo.add_arguments(parser)

    def run_demo(args: argparse.Namespace) -> int:
        demo.check_arguments(parser, args)
        return demo.run(args)

    parser.set_defaults(handler=run_demo)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="aioprintora", description="The aioprintora command line."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_sandbox(commands)
    add_demo(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Args:
        argv: the arguments (``sys.argv[1:]`` when None).
    """
    args = build_parser().parse_args(list(argv) if argv is not None else sys.argv[1:])
    handler: Handler = args.handler
    return handler(args)
