"""The command-line pair: ``webhooks listen --sync-state`` and ``orders sync --webhooks``, as
two processes on one state file, against a sandbox with its webhooks on."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aioprintora.sandbox import Sandbox

from .._sync_moves import NEXT
from ._run import cli_env, interrupt, run, start, wait_for_line


def appended(path: Path) -> dict[str, str]:
    """id -> status of the lines a run appended (each id once: checked)."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert len({r["id"] for r in rows}) == len(rows), "an order appended twice in one run"
    return {r["id"]: r["status"] for r in rows}


async def test_listen_records_and_orders_sync_yields_then_reconciles(tmp_path: Path) -> None:
    async with Sandbox(rate_limits=None, webhook_time_scale=1e-5) as sb:
        await sb.seed_orders(30, ["pending", "paid", "processing", "shipped", "delivered"])
        state = tmp_path / "orders-sync.sqlite"
        env = cli_env(sb, PRINTORA_WEBHOOK_SECRET=sb.webhook_secret)
        sync = ("orders", "sync", "--webhooks", "--state", str(state), "--json", "-o")
        first = await run(*sync, str(tmp_path / "0.jsonl"), env=env)
        assert first.code == 0, first.err
        assert len(appended(tmp_path / "0.jsonl")) == 30

        listener = await start(
            "webhooks", "listen", "--port", "0", "--sync-state", str(state), "--json", env=env
        )
        try:
            assert listener.stderr is not None
            ready = await wait_for_line(listener.stderr, "listening on")
            assert "recording into the sync state" in ready
            url = re.search(r"(http://127\.0\.0\.1:\d+/webhooks/printora)", ready)
            assert url, ready
            sb.set_webhook_url(url.group(1))
            fresh = await sb.seed_orders(3, ["pending"], webhooks=True)
            movers = [o for o in sb.orders() if o.status.value in NEXT and o not in fresh][:5]
            for order in movers[:4]:
                await sb.advance_order(order.id, NEXT[order.status.value])
            await sb.wait_for_deliveries(timeout=10)
            # One delivery the listener never sees: only the logs tell the run of it.
            sb.set_webhook_url("http://127.0.0.1:9/nothing-listens-here")
            lost = movers[4]
            await sb.advance_order(
                lost.id, "cancelled" if lost.status.value != "shipped" else "delivered"
            )
            await sb.wait_for_deliveries(timeout=10)
            sb.set_webhook_url(url.group(1))

            second = await run(*sync, str(tmp_path / "1.jsonl"), env=env)
            assert second.code == 0, second.err
            truth = {o.id: o.status.value for o in sb.orders()}
            assert appended(tmp_path / "1.jsonl") == {o.id: truth[o.id] for o in [*fresh, *movers]}
            summary = json.loads(second.out)
            sent = sum(1 for log in sb.webhook_logs() if log.status.value == "sent")
            assert summary["recorded"] == sent and summary["complete"], summary
            assert summary["deliveries"] == sent + 1, summary  # and the lost one
            assert summary["requests"] <= 3, summary  # logs, processing, maybe nothing more

            third = await run(*sync, str(tmp_path / "2.jsonl"), env=env)
            assert third.code == 0, third.err
            assert appended(tmp_path / "2.jsonl") == {}
        finally:
            done = await interrupt(listener)
        assert done.code == 130, done.err
        lines = [json.loads(line) for line in done.out.splitlines()]
        assert sum(1 for line in lines if line.get("recorded")) == sent
        assert sb.webhook_secret not in done.out + done.err and sb.api_key not in done.err


async def test_listen_refuses_a_state_of_another_account_before_listening(
    tmp_path: Path,
) -> None:
    async with Sandbox(rate_limits=None) as sb:
        await sb.seed_orders(3)
        state = tmp_path / "orders-sync.sqlite"
        env = cli_env(sb, PRINTORA_WEBHOOK_SECRET=sb.webhook_secret)
        out = str(tmp_path / "o.jsonl")
        first = await run("orders", "sync", "--webhooks", "--state", str(state), "-o", out, env=env)
        assert first.code == 0, first.err
        other = sb.add_partner()
        theirs = cli_env(sb, PRINTORA_WEBHOOK_SECRET=sb.webhook_secret)
        theirs["PRINTORA_API_KEY"] = other.api_key
        done = await run(
            "webhooks", "listen", "--port", "0", "--sync-state", str(state), env=theirs
        )
        assert done.code == 2, done.err
        assert "another API key" in done.err and "full=True" in done.err
        assert "listening on" not in done.err and other.api_key not in done.err

        no_key = cli_env(sb, PRINTORA_WEBHOOK_SECRET=sb.webhook_secret)
        del no_key["PRINTORA_API_KEY"]
        done = await run(
            "webhooks", "listen", "--port", "0", "--sync-state", str(state), env=no_key
        )
        assert done.code == 2 and "no API key" in done.err, done.err
