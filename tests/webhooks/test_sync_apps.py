"""The webhook-fed sync's apps, as docs/jobs.md prints them, against the sandbox.

The FastAPI service (its webhook router recording into the sync) is served by uvicorn in this
loop; the reconcile script runs as its own process, as a cron would start it, on the same file.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from aioprintora.jobs._store import SQLiteStore
from aioprintora.sandbox import Sandbox

from .conftest import serve_asgi

DOC = Path(__file__).parents[2] / "docs" / "jobs.md"
NEXT = {"pending": "paid", "paid": "processing", "processing": "shipped", "shipped": "delivered"}


def doc_block(first_line: str) -> str:
    """The Python block of docs/jobs.md that starts with ``first_line``."""
    for code in re.findall(r"^```python\n(.*?)^```", DOC.read_text("utf-8"), re.S | re.M):
        if code.startswith(first_line):
            return str(code)
    raise AssertionError(f"docs/jobs.md has no block starting {first_line!r}")


async def reconcile(sb: Sandbox, cwd: Path, *args: str) -> tuple[dict[str, str], str]:
    """Run the documented reconcile script in its own process: ``({id: status}, summary)``."""
    env = {**os.environ, "PRINTORA_API_KEY": sb.api_key, "PRINTORA_BASE_URL": sb.base_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        doc_block("# reconcile.py"),
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    *rows, summary = out.decode().splitlines()
    return dict(row.split() for row in rows), summary  # type: ignore[misc]


async def test_the_fastapi_service_and_the_nightly_reconcile_of_the_docs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Sandbox(rate_limits=None, webhook_time_scale=1e-5) as sb:
        monkeypatch.chdir(tmp_path)  # the service's state path is relative, as the cron's
        monkeypatch.setenv("PRINTORA_API_KEY", sb.api_key)
        monkeypatch.setenv("PRINTORA_BASE_URL", sb.base_url)
        monkeypatch.setenv("PRINTORA_WEBHOOK_SECRET", sb.webhook_secret)
        await sb.seed_orders(40, ["pending", "paid", "processing", "shipped", "delivered"])
        first, summary = await reconcile(sb, tmp_path)
        assert len(first) == 40, summary

        namespace: dict[str, Any] = {"__name__": "app"}
        exec(compile(doc_block("# app.py"), "app.py", "exec"), namespace)  # noqa: S102
        async with serve_asgi(namespace["app"], lifespan="on") as base:
            sb.set_webhook_url(f"{base}/webhooks/printora")
            fresh = await sb.seed_orders(3, ["pending"], webhooks=True)
            movers = [o for o in sb.orders() if o.status.value in NEXT and o not in fresh][:6]
            for order in movers:
                await sb.advance_order(order.id, NEXT[order.status.value])
            await sb.wait_for_deliveries(timeout=10)
            assert {log.status.value for log in sb.webhook_logs()} == {"sent"}
            records = await SQLiteStore(tmp_path / "orders-sync.sqlite", "order-sync").scan("rec:")
            assert len(records) == len(sb.webhook_logs())  # the service recorded every delivery

            changed, summary = await reconcile(sb, tmp_path)
            truth = {o.id: o.status.value for o in sb.orders()}
            assert changed == {o.id: truth[o.id] for o in [*fresh, *movers]}
            recorded, deliveries, requests = map(int, re.findall(r"\d+", summary))
            assert recorded == len(records) and deliveries == len(records)
            assert requests == 2, summary  # one log page, the processing listing

            quiet, summary = await reconcile(sb, tmp_path)
            assert quiet == {} and summary.startswith("0 recorded, 0 deliveries"), summary
            weekly, _ = await reconcile(sb, tmp_path, "--full")
            assert weekly == {}  # the full run: everything was already yielded
