"""``aioprintora sandbox`` and ``aioprintora demo``: everything on this machine, nothing sent out.

The sandbox's options are one list (:data:`SANDBOX_OPTIONS`): add an option there and a keyword
in :func:`_sandbox_kwargs`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ._runtime import run_async

__all__ = ["SANDBOX_OPTIONS", "demo", "sandbox"]

SANDBOX_OPTIONS: tuple[Callable[[Any], Any], ...] = (
    click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind."),
    click.option(
        "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0: any."
    ),
    click.option(
        "--seed",
        type=int,
        default=None,
        help="Seed for ids, keys and prices (default: a random one, printed at start).",
    ),
    click.option(
        "--orders",
        type=click.IntRange(0),
        default=0,
        help="Orders to create at start, spread over the past six weeks as a real account has "
        "them (most delivered, the last days' in flight): Sandbox.seed_history.",
    ),
    click.option(
        "--no-rate-limits",
        is_flag=True,
        help="No limits at all. Answers then carry no X-RateLimit-* headers, unlike the real "
        "API's: for true headers with a limit that never binds, use --rate-limit 1000000/min.",
    ),
    click.option(
        "--rate-limit",
        "rate_limit",
        multiple=True,
        metavar="RATE",
        help="The limits to enforce, in the client's syntax: 120/min, 60/10s (repeatable; 'off'). "
        "Default 60/min and 10000/day.",
    ),
    click.option(
        "--webhook-url",
        metavar="URL",
        default=None,
        help="Where the partner's webhooks go (default: nowhere; each delivery is logged failed).",
    ),
    click.option(
        "--webhook-payload-style",
        type=click.Choice(["example", "collection"]),
        default="example",
        show_default=True,
        help="example: camelCase data with items, customer and payment, as the vendor's example "
        "integration documents it; collection: the Postman collection's five snake_case fields.",
    ),
    click.option(
        "--webhook-time-scale",
        type=click.FloatRange(min=0.0, min_open=True),
        default=1.0,
        show_default=True,
        help="Multiplies the webhook retry schedule (0.001: 1 min -> 60 ms).",
    ),
)


def _rate_limits(options: dict[str, Any]) -> tuple[tuple[int, float], ...] | None:
    from ..sandbox import DEFAULT_RATE_LIMITS
    from ._api import parse_rate_limit

    rates: tuple[str, ...] = options["rate_limit"]
    if options["no_rate_limits"]:
        if rates:
            raise click.UsageError("--no-rate-limits and --rate-limit exclude each other")
        return None
    if not rates:
        return DEFAULT_RATE_LIMITS
    try:
        windows = parse_rate_limit(rates)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    return None if windows is None else tuple((w.limit, w.period) for w in windows)


def _webhook_url(url: str | None) -> str | None:
    from ..sandbox._validation import URL_RE

    if url is not None and URL_RE.match(url) is None:
        raise click.BadParameter(
            f"{url!r} is not an http:// or https:// URL", param_hint="--webhook-url"
        )
    return url


def _sandbox_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "host": options["host"],
        "port": options["port"],
        "seed": options["seed"],
        "rate_limits": _rate_limits(options),
        "webhook_url": _webhook_url(options["webhook_url"]),
        "webhook_payload_style": options["webhook_payload_style"],
        "webhook_time_scale": options["webhook_time_scale"],
    }


async def _serve_sandbox(kwargs: dict[str, Any], orders: int) -> None:
    import asyncio

    from ..sandbox import Sandbox

    async with Sandbox(**kwargs) as sb:
        if orders:
            await sb.seed_history(orders)
        # The key and secret are printed on purpose: this is a local sandbox, and the user asked.
        print("Printora sandbox running (Ctrl-C to stop)", flush=True)
        print(f"base_url: {sb.base_url}", flush=True)
        print(f"api_key: {sb.api_key}", flush=True)
        print(f"webhook_secret: {sb.webhook_secret}", flush=True)
        print(f"seed: {sb.seed}", flush=True)  # --seed N repeats this run's ids and keys
        print(f"openapi: {sb.base_url}/_sandbox/openapi.json", flush=True)
        await asyncio.Event().wait()


def _with_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(SANDBOX_OPTIONS):
        command = option(command)
    return command


@click.command()
@_with_options
def sandbox(**options: Any) -> None:
    """Run a local, stateful Printora Partner API until Ctrl-C (SIGTERM: exit 0).

    \b
    Example:
      aioprintora sandbox --port 8080 --orders 100 \\
        --webhook-url http://127.0.0.1:9000/hooks
      PRINTORA_BASE_URL=http://127.0.0.1:8080 PRINTORA_API_KEY=sk_test_... \\
        aioprintora orders list
    """
    kwargs = _sandbox_kwargs(options)  # a bad option is a usage error before anything starts
    run_async(lambda: _serve_sandbox(kwargs, options["orders"]), stop_on_sigterm=True)


@click.command()
@click.option(
    "--orders",
    type=int,
    default=5,
    show_default=True,
    help="Customers who check out (1-45).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sandbox seed.")
@click.option("--quiet", is_flag=True, help="Print only the summary.")
def demo(orders: int, seed: int, quiet: bool) -> None:
    """An example integration, end to end, against an embedded sandbox (about a second).

    \b
    Example:
      aioprintora demo --orders 10
    """
    from ..demo import MAX_ORDERS, run_demo

    if not 1 <= orders <= MAX_ORDERS:
        raise click.BadParameter(f"must be between 1 and {MAX_ORDERS}", param_hint="--orders")
    run_async(lambda: run_demo(orders, seed=seed, quiet=quiet))
