"""``aioprintora webhooks listen``: a local receiver that verifies, prints and forwards deliveries.

It is the SDK's own :class:`~aioprintora.webhooks.WebhookReceiver` behind a small aiohttp app:
signatures are checked on the raw bytes, duplicates are answered without running again, and
with ``--forward-to`` the raw verified delivery (body and signature) goes on to your app; the
sender gets your app's failure as a 500, so it retries, and the listener prints one line for it
and goes on. With ``--sync-state`` each verified delivery is recorded into an order-sync state
(:meth:`~aioprintora.jobs.OrderSync.record`, durable before the 2xx) for ``orders sync
--webhooks`` to yield.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import _errors as errors
from ._api import Api, api_options
from ._files import FilePath
from ._output import Output
from ._runtime import run_async

if TYPE_CHECKING:
    import aiohttp
    from aiohttp import web

    from .._client import PrintoraClient
    from ..jobs._sync import OrderSync
    from ..webhooks import WebhookEvent

__all__ = ["listen"]

_CHUNK = 64 * 1024


class _Delivery:
    """The request being handled, for the receiver's callback (which only gets the event)."""

    __slots__ = ("body", "failure", "forwarded", "recorded", "signature")

    def __init__(self, body: bytes, signature: str | None) -> None:
        self.body = body
        self.signature = signature
        self.forwarded: int | None = None
        self.recorded: bool | None = None  # --sync-state: whether the event held a change
        self.failure: str | None = None


class ForwardError(Exception):
    """The app behind ``--forward-to`` failed a delivery (the sender gets a 500 and retries)."""


def _quiet_forward_errors(record: logging.LogRecord) -> bool:
    """Drop the receiver's traceback for a forwarding failure: the delivery line says it."""
    return not (record.exc_info and isinstance(record.exc_info[1], ForwardError))


_CURRENT: contextvars.ContextVar[_Delivery] = contextvars.ContextVar("delivery")


class _Listener:
    """The receiver's callback and the per-delivery printing."""

    def __init__(self, output: Output, forward_to: str | None) -> None:
        self.output = output
        self.forward_to = forward_to
        self.http: aiohttp.ClientSession | None = None
        self.sync: OrderSync | None = None

    async def on_event(self, event: WebhookEvent) -> None:
        if self.sync is not None:  # durable before the 2xx, so a crash means a redelivery
            _CURRENT.get().recorded = await self.sync.record(event)
        if self.forward_to is None or self.http is None:
            return
        import aiohttp

        from ..webhooks import SIGNATURE_HEADER

        delivery = _CURRENT.get()
        headers = {"Content-Type": "application/json"}
        if delivery.signature is not None:
            headers[SIGNATURE_HEADER] = delivery.signature
        try:
            async with self.http.post(self.forward_to, data=delivery.body, headers=headers) as r:
                await r.read()
                delivery.forwarded = r.status
        except (OSError, asyncio.TimeoutError, aiohttp.ClientError) as exc:
            delivery.failure = f"{self.forward_to}: {exc or type(exc).__name__}"
            raise ForwardError(delivery.failure) from exc
        if r.status >= 300:
            delivery.failure = f"{self.forward_to} answered {r.status}"
            raise ForwardError(delivery.failure)

    def show(
        self, status: int, outcome: dict[str, str], event: WebhookEvent | None, delivery: _Delivery
    ) -> None:
        forwarded = delivery.forwarded
        if self.output.json_mode:
            record: dict[str, object] = {"status": status, "outcome": outcome}
            if event is not None:
                record["event"] = dict(event.raw)
            if forwarded is not None:
                record["forwarded"] = forwarded
            if delivery.failure is not None:
                record["forward_error"] = delivery.failure
            if delivery.recorded is not None:
                record["recorded"] = delivery.recorded
            self.output.json_line(record)
            return
        when = datetime.now().strftime("%H:%M:%S")
        if event is None:
            reason = outcome.get("message") or outcome.get("error", "")
            self.output.line(f"{when} rejected ({status}): {reason}")
            return
        kind = outcome.get("status") or outcome.get("error", "")
        data = event.data
        line = (
            f"{when} {event.event_type} session={event.session_id} order={data.order_id or '-'}"
            f" status={data.status or '-'} -> {kind} ({status})"
        )
        if delivery.recorded:
            line += ", recorded"
        if delivery.failure is not None:
            line += f", forwarding failed: {delivery.failure}"
        elif forwarded is not None:
            line += f", forwarded: {forwarded}"
        self.output.line(line)


async def _serve(
    *,
    secret: str,
    host: str,
    port: int,
    path: str,
    forward_to: str | None,
    output: Output,
    client: PrintoraClient | None,
    sync_state: Path | None,
) -> None:
    listener = _Listener(output, forward_to)
    async with contextlib.AsyncExitStack() as stack:
        if client is not None and sync_state is not None:
            from ..jobs._store import AccountMismatchError
            from ..jobs._sync import OrderSync

            await stack.enter_async_context(client)
            listener.sync = OrderSync(client, state=str(sync_state), webhooks=True)
            stack.push_async_callback(listener.sync.aclose)
            try:
                await listener.sync.check_state()  # before listening, not at the first event
            except AccountMismatchError as exc:
                raise click.UsageError(f"--sync-state {sync_state}: {exc}") from None
        await _listen(listener, secret=secret, host=host, port=port, path=path, output=output)


async def _listen(
    listener: _Listener, *, secret: str, host: str, port: int, path: str, output: Output
) -> None:
    import aiohttp
    from aiohttp import web

    from ..webhooks import SIGNATURE_HEADER, WebhookReceiver

    forward_to = listener.forward_to
    receiver = WebhookReceiver(secret, listener.on_event)

    async def handle(request: web.Request) -> web.Response:
        body = bytearray()
        async for chunk in request.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > receiver.max_body_size:
                break
        delivery = _Delivery(bytes(body), request.headers.get(SIGNATURE_HEADER))
        _CURRENT.set(delivery)
        if len(body) > receiver.max_body_size:
            outcome = receiver.too_large()
        else:
            outcome = await receiver.process(delivery.body, delivery.signature)
        listener.show(outcome.status_code, outcome.body, outcome.event, delivery)
        return web.json_response(outcome.body, status=outcome.status_code)

    app = web.Application()
    app.router.add_post(path, handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        listener.http = http
        try:
            await web.TCPSite(runner, host, port).start()
            bound = runner.addresses[0][1]
            shown = f"[{host}]" if ":" in host else host
            target = f", forwarding to {forward_to}" if forward_to else ""
            if listener.sync is not None:
                target += ", recording into the sync state"
            output.say(f"listening on http://{shown}:{bound}{path}{target} (Ctrl-C to stop)")
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--path", default="/webhooks/printora", show_default=True, help="URL path.")
@click.option("--forward-to", metavar="URL", help="Also POST each verified delivery here, raw.")
@click.option(
    "--sync-state",
    type=FilePath("database"),
    metavar="PATH",
    help="Record each verified delivery into this order-sync state (SQLite) before answering "
    "2xx, for 'orders sync --webhooks --state PATH'. Needs the API key and base URL the state "
    "belongs to.",
)
@click.option(
    "--secret",
    envvar="PRINTORA_WEBHOOK_SECRET",
    show_envvar=True,
    metavar="SECRET",
    help="Only for a throwaway test secret: a real one on the command line lands in shell "
    "history. Prefer PRINTORA_WEBHOOK_SECRET.",
)
@api_options
def listen(
    api: Api,
    *,
    host: str,
    port: int,
    path: str,
    forward_to: str | None,
    sync_state: Path | None,
    secret: str | None,
) -> None:
    """Receive webhooks locally: verify each signature, print the event, optionally forward it.

    With --sync-state, each delivery is recorded into an order-sync state (durable before the
    2xx, so a crash means a redelivery), and 'orders sync --webhooks --state PATH' (a cron, on
    the same file) yields the recorded changes, then reconciles with the webhook logs. --json:
    one JSON line per delivery.

    \b
    Examples:
      PRINTORA_WEBHOOK_SECRET=whsec_... aioprintora webhooks listen --port 8000 \\
        --forward-to http://127.0.0.1:5000/webhooks/printora
      aioprintora webhooks listen --sync-state orders-sync.sqlite
    """
    if not secret:
        raise click.UsageError("no webhook secret: set PRINTORA_WEBHOOK_SECRET (or --secret)")
    if not path.startswith("/"):
        raise click.UsageError("--path must start with /")
    output = api.output
    client = api.client() if sync_state is not None else None  # no key: a usage error now
    if not errors.debugging():
        logging.getLogger("aioprintora.webhooks").addFilter(_quiet_forward_errors)
    try:
        run_async(
            lambda: _serve(
                secret=secret,
                host=host,
                port=port,
                path=path,
                forward_to=forward_to,
                output=output,
                client=client,
                sync_state=sync_state,
            ),
            stop_on_sigterm=True,
        )
    except OSError as exc:  # the port is taken, the host is not ours...
        output.error(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        raise click.exceptions.Exit(errors.API_ERROR) from None
