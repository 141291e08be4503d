"""``python -m aioprintora demo``: an example integration, end to end, against a local sandbox.

It starts a :class:`~aioprintora.sandbox.Sandbox` and an aiohttp webhook endpoint on loopback,
then does what a partner's backend does: create sessions, let customers check out (a sandbox
control), follow the orders to delivery through verified, de-duplicated webhooks, list orders,
read the webhook log and resend one delivery. Webhook retries are time-scaled, so it takes about
a second; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

import aiohttp
import attrs
from aiohttp import web

from ._client import PrintoraClient
from ._models import OrderStatus, UserData
from .jobs._imports import SessionRequest
from .sandbox import Sandbox
from .webhooks import (
    SIGNATURE_HEADER,
    OrderStatusTracker,
    WebhookEvent,
    WebhookReceiver,
    aiohttp_handler,
    sign_payload,
)

__all__ = ["run_demo"]

#: Requests the demo makes besides one per session; keeps a run under the 60/min limit.
_OVERHEAD = 15
MAX_ORDERS = 60 - _OVERHEAD
_Say = Callable[[str], None]
_SHOP = "https://shop.example.com"


@attrs.define
class DemoSummary:
    """What one run did, for the final report and for tests."""

    sessions: int = 0
    orders: dict[str, int] = attrs.Factory(dict)
    outcomes: Counter[str] = attrs.Factory(Counter)  # what the endpoint answered, by kind
    processed: int = 0  # callback runs
    log_entries: int = 0
    api_requests: int = 0
    seconds: float = 0.0


class _LogLines(logging.Handler):
    """Keeps the receiver's warnings to show them in order, instead of on stderr."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class _Endpoint:
    """The partner's webhook endpoint: the SDK's aiohttp receiver, plus a first-delivery outage."""

    def __init__(self, secret: str, summary: DemoSummary) -> None:
        self.tracker = OrderStatusTracker()
        self.summary = summary
        self.down_for = 1  # answer the first delivery 503, so the sandbox has to retry it
        self.url = ""
        self.log = _LogLines()
        self.handler = aiohttp_handler(WebhookReceiver(secret, self.on_event))

    async def on_event(self, event: WebhookEvent) -> None:
        self.summary.processed += 1
        self.tracker.apply(event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.down_for > 0:
            self.down_for -= 1
            self.summary.outcomes["refused (503, endpoint down)"] += 1
            return web.json_response({"error": "temporarily unavailable"}, status=503)
        response = await self.handler(request)
        body = response.body if isinstance(response, web.Response) else None
        kind = json.loads(body).get("status") if isinstance(body, bytes) else None
        self.summary.outcomes[f"{kind or 'rejected'} ({response.status})"] += 1
        return response


async def run_demo(
    orders: int = 5, *, seed: int = 0, quiet: bool = False, out: TextIO | None = None
) -> DemoSummary:
    """Run the example flow once and print it.

    Args:
        orders: how many customers check out (1 to :data:`MAX_ORDERS`).
        seed: the sandbox's seed (same seed, same ids).
        quiet: print only the summary.
        out: where to print (default ``sys.stdout``).
    """
    if not 1 <= orders <= MAX_ORDERS:
        raise ValueError(f"orders must be between 1 and {MAX_ORDERS}")
    stream = out or sys.stdout

    def say(text: str = "") -> None:
        if not quiet:
            print(text, file=stream)

    summary, started = DemoSummary(), time.monotonic()
    # Webhook retries 1000x faster than Printora's (1 min -> 60 ms).
    async with Sandbox(seed=seed, webhook_time_scale=0.001) as sb:
        endpoint = _Endpoint(sb.webhook_secret, summary)
        app = web.Application()
        app.router.add_post("/webhooks/printora", endpoint.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        receiver_log = logging.getLogger("aioprintora.webhooks")
        receiver_log.addHandler(endpoint.log)
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            hook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/printora"
            endpoint.url = hook_url
            sb.set_webhook_url(hook_url)
            say("aioprintora demo: a partner integration against the local sandbox")
            say(f"  sandbox  {sb.base_url}  (API key sk_test_…, webhook secret whsec_…)")
            say(f"  webhooks {hook_url}")
            async with PrintoraClient(sb.api_key, base_url=sb.base_url) as client:
                await _flow(client, sb, endpoint, orders, say)
                summary.api_requests = len(sb.requests)
        finally:
            receiver_log.removeHandler(endpoint.log)
            await runner.cleanup()
    summary.seconds = time.monotonic() - started
    _print_summary(summary, stream)
    return summary


async def _flow(
    client: PrintoraClient, sb: Sandbox, endpoint: _Endpoint, n: int, say: _Say
) -> None:
    summary = endpoint.summary
    say("\n1. Sessions")
    first = await client.sessions.create(
        image_url="https://cdn.example.com/designs/0.png",
        success_url=f"{_SHOP}/thanks",
        failed_url=f"{_SHOP}/payment-failed",
        user_data=UserData(email="ada@example.com", first_name="Ada", last_name="Lovelace"),
    )
    say(f"   sessions.create -> {first.id}, send the customer to {first.redirect_url}")
    batch = [
        SessionRequest(
            image_url=f"https://cdn.example.com/designs/{i}.png",
            success_url=f"{_SHOP}/thanks",
            failed_url=f"{_SHOP}/payment-failed",
        )
        for i in range(1, n)
    ]
    results = await client.sessions.create_many(batch, concurrency=4)
    failed = [r for r in results if not r.ok]
    say(f"   sessions.create_many -> {len(results) - len(failed)} created, {len(failed)} failed")
    session_ids = [first.id] + [r.session.id for r in results if r.session]
    summary.sessions = len(session_ids)
    token = await client.sessions.validate_token(first.token or "")
    say(f"   sessions.validate_token -> is_valid={token.is_valid}")

    say("\n2. Customers check out; the orders move on (sandbox test controls)")
    order_ids = [(await sb.simulate_checkout(sid)).id for sid in session_ids]
    targets = Counter[str]()
    for i, order_id in enumerate(order_ids):  # one stays paid, one shipped, the rest delivered
        target = ("paid", "shipped")[i] if i < 2 else "delivered"
        await sb.advance_order(order_id, target)
        targets[target] += 1
    await sb.wait_for_deliveries(timeout=10)
    moved = ", ".join(f"{count} to {status}" for status, count in targets.items())
    say(f"   {len(order_ids)} checkouts (order.created each); advanced {moved}")
    say("\n3. Webhooks, as the endpoint saw them")
    forged = await _forged_delivery(endpoint.url, session_ids[-1])
    say(f"   a forged delivery (wrong secret) got HTTP {forged} and was not processed")
    for line in endpoint.log.lines:
        say(f"   receiver log: {line}")
    for kind, count in sorted(summary.outcomes.items()):
        say(f"   {count:3d} x {kind}")
    final = Counter(str(s) for s in endpoint.tracker.snapshot().values())
    say(f"   order statuses from the events (any arrival order): {dict(sorted(final.items()))}")

    say("\n4. Orders, with client.orders.iter(status=...)")
    for status in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        found = await client.orders.iter(status=status).collect()
        summary.orders[status.value] = len(found)
        sample = ", ".join(f"{o.order_number} {o.total_amount} {o.currency}" for o in found[:2])
        more = ", …" if len(found) > 2 else ""
        say(f"   {status.value:9} {len(found):3d}  {sample}{more}".rstrip())

    say("\n5. The webhook log, with client.webhook_logs.iter()")
    logs = await client.webhook_logs.iter().collect()
    summary.log_entries = len(logs)
    for log in sorted(logs, key=lambda entry: entry.attempt_count, reverse=True)[:3]:
        say(
            f"   {log.event_type!s:16} {log.status!s:8} attempts={log.attempt_count} "
            f"last HTTP {log.status_code}"
        )
    say(f"   … {len(logs)} entries in all")

    say("\n6. Resend one webhook")
    delivery = await client.webhook_logs.resend(order_id=order_ids[0], event_type="order.paid")
    await sb.wait_for_deliveries(timeout=10)
    page = await client.webhook_logs.list(event_type="order.paid", limit=100)
    resent = next(log for log in page.items if log.id == delivery.webhook_log_id)
    say(f"   webhook_logs.resend -> new log entry {delivery.webhook_log_id} ({delivery.status})")
    say(f"   delivered: {resent.status}; the endpoint answered {resent.response_data}")
    say("   (a duplicate: the callback did not run again)")


async def _forged_delivery(url: str, session_id: str) -> int:
    """Post an event signed with the wrong secret, as an attacker would; the endpoint's status."""
    body = json.dumps(
        {"sessionId": session_id, "event": "order.paid", "timestamp": "2026-01-30T10:40:00Z"}
    ).encode()
    headers = {SIGNATURE_HEADER: sign_payload(body, "whsec_not_the_real_one")}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


def _print_summary(summary: DemoSummary, out: TextIO) -> None:
    print("\nSummary", file=out)
    print(f"  sessions created    {summary.sessions}", file=out)
    orders = ", ".join(f"{k} {v}" for k, v in summary.orders.items())
    print(f"  orders by status    {orders}", file=out)
    answers = ", ".join(f"{v} {k}" for k, v in sorted(summary.outcomes.items()))
    print(f"  webhooks received   {sum(summary.outcomes.values())}: {answers}", file=out)
    print(f"  callback runs       {summary.processed} (one per event)", file=out)
    print(f"  webhook log entries {summary.log_entries}", file=out)
    print(f"  API requests        {summary.api_requests} (within 60/min)", file=out)
    print(f"  took                {summary.seconds:.2f} s", file=out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options, shared by ``aioprintora demo`` and :func:`main`."""
    parser.add_argument(
        "--orders", type=int, default=5, help=f"customers who check out (1-{MAX_ORDERS})"
    )
    parser.add_argument("--seed", type=int, default=0, help="sandbox seed (same seed, same ids)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")


def run(args: argparse.Namespace) -> int:
    """Run the demo with parsed options; returns the exit status."""
    asyncio.run(run_demo(args.orders, seed=args.seed, quiet=args.quiet))
    return 0


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit with a usage error when the options are out of range."""
    if not 1 <= args.orders <= MAX_ORDERS:
        parser.error(f"--orders must be between 1 and {MAX_ORDERS}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``aioprintora demo``; returns the exit status.

    Args:
        argv: the arguments after ``demo`` (default ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(
        prog="aioprintora demo", description="Run an example integration against a local sandbox."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    return run(args)
