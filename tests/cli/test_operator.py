"""What an operator meets: a failing forward target, help that matches the command, CSV errors
at the right line, only what the API answered, and retries that are never silent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from aioprintora.sandbox import Sandbox
from aioprintora.webhooks import SIGNATURE_HEADER, sign_payload

from ._run import cli_env, interrupt, run, start, wait_for_line

SECRET = "whsec_operator"
URLS = "https://s.example.com/ok,https://s.example.com/no"


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
async def failing_app() -> AsyncIterator[tuple[str, list[bytes]]]:
    """An app whose webhook route answers 500: its URL and the bodies it got."""
    got: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        got.append(await request.read())
        return web.Response(status=500, text="boom")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner, url = await _serve(app)
    try:
        yield f"{url}/hook", got
    finally:
        await runner.cleanup()


def _delivery(n: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "event": "order.paid",
            "sessionId": f"session-{n}",
            "timestamp": "2026-12-06T06:00:00Z",
            "data": {"orderId": f"order-{n}", "status": "paid"},
        }
    ).encode()
    return body, {SIGNATURE_HEADER: sign_payload(body, SECRET)}


async def test_listen_says_one_line_when_the_target_fails_and_goes_on(
    failing_app: tuple[str, list[bytes]],
) -> None:
    target, got = failing_app
    env = cli_env(None, PRINTORA_WEBHOOK_SECRET=SECRET)
    proc = await start("webhooks", "listen", "--port", "0", "--forward-to", target, env=env)
    lines = []
    try:
        assert proc.stdout is not None and proc.stderr is not None
        ready = await wait_for_line(proc.stderr, "listening on")
        url = ready.split("listening on ", 1)[1].split(",", 1)[0]
        async with aiohttp.ClientSession() as http:
            for n in (1, 2):
                body, headers = _delivery(n)
                async with http.post(url, data=body, headers=headers) as response:
                    assert response.status == 500  # so the sender retries
                lines.append((await asyncio.wait_for(proc.stdout.readline(), 10)).decode())
    finally:
        done = await interrupt(proc)
    assert len(got) == 2  # still listening after the first failure
    for n, line in enumerate(lines, 1):
        assert f"session=session-{n} order=order-{n}" in line
        assert f"forwarding failed: {target} answered 500" in line, line
    assert done.code == 130
    assert "Traceback" not in done.err and "RuntimeError" not in done.err, done.err
    assert "callback failed" not in done.err, done.err


async def test_resend_offers_only_the_events_it_accepts(sandbox: Sandbox) -> None:
    shown = await run("webhooks", "resend", "--help", env=cli_env(sandbox))
    assert shown.code == 0
    for event in ("order.created", "order.paid", "order.shipped", "order.delivered"):
        assert event in shown.out
    assert "order.cancelled" not in shown.out
    refused = await run(
        "webhooks", "resend", "--order-id", "x", "--event-type", "order.cancelled",
        env=cli_env(sandbox),
    )  # fmt: skip
    assert refused.code == 2 and "order.cancelled" in refused.err
    assert len(sandbox.requests) == 0


async def _import_error(sandbox: Sandbox, tmp_path: Path, text: str) -> str:
    rows = tmp_path / "rows.csv"
    rows.write_text(text)
    done = await run(
        "sessions", "import", str(rows), "--journal", str(tmp_path / "j.sqlite"),
        env=cli_env(sandbox),
    )  # fmt: skip
    assert done.code == 2, done.err
    assert "Traceback" not in done.err
    (line,) = [line for line in done.err.splitlines() if line.startswith("Error:")]
    assert line.startswith(f"Error: {rows}: line ")
    return line.split(": ", 2)[2]


async def test_csv_errors_point_at_the_header_and_the_right_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    typo = await _import_error(
        sandbox,
        tmp_path,
        f"ref,imag_url,success_url,failed_url\na,https://c.example.com/a,{URLS}\n",
    )
    assert typo.startswith("line 1: unknown column(s) imag_url"), typo
    twice = await _import_error(
        sandbox,
        tmp_path,
        "ref,image_url,success_url,failed_url\n"
        f"a,https://c.example.com/a,{URLS}\nb,https://c.example.com/b,{URLS}\n"
        f"a,https://c.example.com/c,{URLS}\n",
    )
    assert twice == "line 4: ref 'a' appears twice (first on line 2)", twice
    no_url = await _import_error(sandbox, tmp_path, "ref,image_url,failed_url\na,x,y\n")
    assert no_url == "line 1: no success_url column (required)", no_url
    no_flow = await _import_error(sandbox, tmp_path, f"ref,success_url,failed_url\na,{URLS}\n")
    assert no_flow == "line 1: no image_url or creator_id or merch_id column (required)", no_flow
    assert len(sandbox.requests) == 0


async def test_sessions_create_shows_only_what_the_api_answered(sandbox: Sandbox) -> None:
    args = ("sessions", "create", "--image-url", "https://cdn.example.com/1.png")
    shop = ("--success-url", "https://s.example.com/ok", "--failed-url", "https://s.example.com/no")
    env = cli_env(sandbox)
    as_json, as_table = await asyncio.gather(
        run(*args, *shop, "--json", env=env), run(*args, *shop, env=env)
    )
    assert as_json.code == 0 and as_table.code == 0, as_json.err + as_table.err
    answered = json.loads(as_json.out)
    assert answered["redirect_url"].startswith(sandbox.base_url)
    assert None not in answered.values(), answered
    # The sandbox answers a create as Printora does: no status, expiry or URLs of the shop.
    assert list(answered) == ["id", "redirect_url", "image_url", "created_at"], answered
    shown = [line.split() for line in as_table.out.splitlines() if line.strip()]
    assert [fields[0] for fields in shown] == list(answered)
    assert all(len(fields) == 2 for fields in shown), as_table.out


async def test_each_retry_is_shown_as_it_happens() -> None:
    calls = 0

    async def orders(_: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls <= 2:
            return web.json_response(
                {"success": False, "error": {"code": "UNAVAILABLE", "message": "try later"}},
                status=503,
                headers={"Retry-After": "0"},
            )
        pagination = {"total": 0, "limit": 20, "offset": 0, "hasMore": False}
        return web.json_response(
            {"success": True, "data": {"orders": [], "pagination": pagination}}
        )

    app = web.Application()
    app.router.add_get("/api/v1/partners/orders", orders)
    runner, url = await _serve(app)
    try:
        done = await run(
            "orders", "list", env=cli_env(None, PRINTORA_BASE_URL=url, PRINTORA_API_KEY="sk_test_x")
        )
    finally:
        await runner.cleanup()
    assert done.code == 0, done.err
    waits = [line for line in done.err.splitlines() if "to retry" in line]
    assert waits == [
        "waiting 0.0 s to retry orders.list: attempt 1 failed (HTTP 503: try later)",
        "waiting 0.0 s to retry orders.list: attempt 2 failed (HTTP 503: try later)",
    ], done.err
    assert calls == 3
