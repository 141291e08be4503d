"""``aioprintora sandbox`` as a real subprocess, and the parser's shape."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from aioprintora import PrintoraClient, cli
from aioprintora.jobs._sync import OrderSync
from aioprintora.sandbox import Sandbox

from .test_webhooks import Receiver


async def test_cli_serves_a_sandbox_until_terminated() -> None:
    proc, lines = await _start("--seed", "7", "--orders", "12", "--no-rate-limits")
    try:
        assert lines["base_url"].startswith("http://127.0.0.1:")
        assert lines["api_key"].startswith("sk_test_")
        assert lines["webhook_secret"].startswith("whsec_")
        # --seed 7 gives the key a Sandbox(seed=7) gives: runs repeat.
        assert lines["seed"] == "7"
        assert lines["api_key"] == Sandbox(seed=7).api_key
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                lines["base_url"] + "/api/v1/partners/orders",
                headers={"Authorization": f"Bearer {lines['api_key']}"},
            ) as resp,
        ):
            assert resp.status == 200
            assert "X-RateLimit-Limit" not in resp.headers  # --no-rate-limits
            assert (await resp.json())["data"]["pagination"]["total"] == 12
    finally:
        assert await _stop(proc) == 0


def test_the_sandbox_command_keeps_its_options_and_defaults() -> None:
    from aioprintora.cli._local import sandbox

    params = sandbox.make_context("sandbox", []).params
    expected = {"host": "127.0.0.1", "port": 8080, "seed": None, "orders": 0}
    expected |= {"no_rate_limits": False, "webhook_time_scale": 1.0, "webhook_url": None}
    expected |= {"webhook_payload_style": "example"}
    assert {name: params[name] for name in expected} == expected


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "Usage: aioprintora [OPTIONS] COMMAND" in err and "sandbox" in err


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    """``aioprintora sandbox --port 0 ARGS`` as a subprocess, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioprintora",
        "sandbox",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """The sandbox started, and the settings it printed."""
    proc = await _spawn(*args)
    assert proc.stdout is not None
    lines: dict[str, str] = {}
    while "openapi" not in lines:
        raw = await asyncio.wait_for(proc.stdout.readline(), 10)
        line = raw.decode().strip()
        assert line, "the CLI exited before printing its settings"
        name, _, value = line.partition(": ")
        lines[name] = value
    return proc, lines


async def _stop(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(proc.wait(), 10)
    assert proc.stderr is not None
    await proc.stderr.read()
    return code


async def test_rate_limit_sets_the_windows_the_sandbox_enforces() -> None:
    proc, lines = await _start("--rate-limit", "3/10s", "--rate-limit", "120/min")
    try:
        headers = {"Authorization": f"Bearer {lines['api_key']}"}
        statuses = []
        async with aiohttp.ClientSession() as http:
            for _ in range(4):
                async with http.get(
                    lines["base_url"] + "/api/v1/partners/orders", headers=headers
                ) as r:
                    statuses.append(r.status)
                    limit = r.headers.get("X-RateLimit-Limit")
        # The tightest window binds: three answers, then 429.
        assert statuses == [200, 200, 200, 429]
        assert limit == "3"
    finally:
        assert await _stop(proc) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate-limit", "fast"], "is not a rate like"),
        (["--rate-limit", "60/min", "--no-rate-limits"], "exclude each other"),
        (["--webhook-url", "hooks.example.com"], "is not an http:// or https:// URL"),
        (["--webhook-payload-style", "snake"], "'snake' is not one of 'example', 'collection'"),
    ],
)
async def test_a_bad_rate_limit_is_a_usage_error(args: list[str], message: str) -> None:
    proc = await _spawn(*args)
    _out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert message in err.decode() and "Traceback" not in err.decode()


@pytest.mark.parametrize(
    ("style", "fields"),
    [
        ([], {"orderId", "orderNumber", "totalAmount", "paymentStatus", "items"}),
        (
            ["--webhook-payload-style", "collection"],
            {"order_id", "session_id", "status", "total_amount", "currency"},
        ),
    ],
)
async def test_webhook_url_and_payload_style_from_the_command(
    style: list[str], fields: set[str]
) -> None:
    async with Receiver() as receiver:
        proc, lines = await _start("--webhook-url", receiver.url, "--no-rate-limits", *style)
        try:
            base, headers = lines["base_url"], {"Authorization": f"Bearer {lines['api_key']}"}
            async with aiohttp.ClientSession(headers=headers) as http:
                async with http.post(
                    base + "/api/v1/partner-session",
                    json={
                        "imageUrl": "https://p.example/i.png",
                        "successUrl": "https://p.example/ok",
                        "failedUrl": "https://p.example/ko",
                    },
                    headers={"Idempotency-Key": "cli-hook"},
                ) as resp:
                    session_id = (await resp.json())["data"]["sessionId"]
                async with http.post(f"{base}/_sandbox/sessions/{session_id}/checkout") as resp:
                    assert resp.status == 201
                async with http.post(base + "/_sandbox/webhooks/wait", json={}) as resp:
                    assert resp.status == 200
        finally:
            assert await _stop(proc) == 0
    ((_, _, body),) = receiver.hits
    payload = json.loads(body)
    assert payload["event"] == "order.created"
    assert set(payload["data"]) >= fields


async def test_orders_seed_a_past_a_second_sync_reads_in_few_requests(tmp_path: Path) -> None:
    proc, lines = await _start("--orders", "3000", "--no-rate-limits", "--seed", "4")
    try:
        async with PrintoraClient(
            lines["api_key"], base_url=lines["base_url"], rate_limit=None
        ) as client:
            first = OrderSync(client, state=tmp_path / "sync.sqlite")
            assert len([order async for order in first]) == 3000
            second = OrderSync(client, state=tmp_path / "sync.sqlite")
            assert [order async for order in second] == []
    finally:
        assert await _stop(proc) == 0
    # 31 then 52 when --orders put all 3000 inside the 2-minute overlap, two-thirds in flight.
    assert first.requests == 31
    assert second.requests <= 10, second.listings


def test_help_says_no_rate_limits_means_no_rate_limit_headers() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "aioprintora", "sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    flat = " ".join(out.split())
    assert "--no-rate-limits No limits at all. Answers then carry no X-RateLimit-* headers" in flat
    assert "--webhook-url URL" in flat and "--webhook-payload-style [example|collection]" in flat
