"""``webhooks logs|resend|retry`` and the ``webhooks listen`` receiver, against a sandbox."""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp
from aiohttp import web

from aioprintora import PrintoraClient
from aioprintora.sandbox import Sandbox
from aioprintora.webhooks import SIGNATURE_HEADER, sign_payload

from ._run import cli_env, interrupt, run, start, wait_for_line


async def _checked_out_order(api: PrintoraClient, sb: Sandbox) -> str:
    session = await api.sessions.create(
        image_url="https://cdn.example.com/1.png",
        success_url="https://shop.example.com/ok",
        failed_url="https://shop.example.com/no",
    )
    return (await sb.simulate_checkout(session.id)).id


async def test_logs_resend_and_retry(sandbox: Sandbox, api: PrintoraClient) -> None:
    order_id = await _checked_out_order(api, sandbox)  # no webhook URL: the delivery fails
    await sandbox.wait_for_deliveries(timeout=10)
    env = cli_env(sandbox)
    logs = await run("webhooks", "logs", "--event-type", "order.created", "--json", env=env)
    assert logs.code == 0, logs.err
    (entry,) = json.loads(logs.out)["items"]
    assert entry["order_id"] == order_id and entry["status"] == "failed"

    resent, retried = await asyncio.gather(
        run("webhooks", "resend", "--order-id", order_id, "--event-type", "order.paid", env=env),
        run("webhooks", "retry", entry["id"], "--json", env=env),
    )
    assert resent.code == 0, resent.err
    assert retried.code == 0, retried.err
    assert json.loads(retried.out)["webhook_log_id"] == entry["id"]
    paid = [log for log in sandbox.webhook_logs() if log.event_type == "order.paid"]
    assert len(paid) == 1 and paid[0].id in resent.out  # the table shows the new entry's id
    assert len(sandbox.webhook_logs()) == 2  # the retry reused its entry


async def test_resend_needs_exactly_one_target(sandbox: Sandbox) -> None:
    done = await run("webhooks", "resend", "--event-type", "order.paid", env=cli_env(sandbox))
    assert done.code == 2 and "exactly one of --order-id, --session-id" in done.err


async def test_listen_verifies_prints_forwards_and_rejects_a_forgery(
    sandbox: Sandbox, api: PrintoraClient
) -> None:
    forwarded: list[tuple[bytes, str | None]] = []

    async def app_hook(request: web.Request) -> web.Response:
        forwarded.append((await request.read(), request.headers.get(SIGNATURE_HEADER)))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", app_hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    app_url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    env = cli_env(sandbox, PRINTORA_WEBHOOK_SECRET=sandbox.webhook_secret)
    proc = await start(
        "webhooks", "listen", "--port", "0", "--forward-to", app_url, "--json", env=env
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        ready = await wait_for_line(proc.stderr, "listening on")
        match = re.search(r"(http://127\.0\.0\.1:\d+/webhooks/printora)", ready)
        assert match, ready
        url = match.group(1)
        sandbox.set_webhook_url(url)
        order_id = await _checked_out_order(api, sandbox)
        await sandbox.wait_for_deliveries(timeout=10)
        (log,) = sandbox.webhook_logs()
        assert log.status == "sent"

        line = json.loads(await asyncio.wait_for(proc.stdout.readline(), 10))
        assert line["status"] == 200 and line["outcome"] == {"status": "processed"}
        assert line["event"]["event"] == "order.created" and line["forwarded"] == 200
        assert line["event"]["data"]["orderId"] == order_id or order_id in json.dumps(line)
        ((body, signature),) = forwarded
        assert signature == sign_payload(body, sandbox.webhook_secret)  # the raw delivery
        assert json.loads(body)["event"] == "order.created"

        forged = json.dumps({"sessionId": "x", "event": "order.paid"}).encode()
        headers = {SIGNATURE_HEADER: sign_payload(forged, "whsec_not_the_secret")}
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, data=forged, headers=headers) as r,
        ):
            assert r.status == 401
        rejected = json.loads(await asyncio.wait_for(proc.stdout.readline(), 10))
        assert rejected["status"] == 401 and "event" not in rejected
        assert len(forwarded) == 1
    finally:
        if proc.returncode is None:
            done = await interrupt(proc)
        await runner.cleanup()
    assert done.code == 130, done.err
    assert sandbox.webhook_secret not in done.err + done.out
