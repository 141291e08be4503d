"""``orders export``: every order once, both formats, whole rows even when stopped, atomic."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import attrs

from aioprintora._models import Order
from aioprintora.sandbox import Sandbox

from ._run import cli_env, interrupt, run, start, wait_for_line

COLUMNS = [f.name for f in attrs.fields(Order)]


async def test_export_5000_orders_in_both_formats(sandbox: Sandbox, tmp_path: Path) -> None:
    await sandbox.seed_orders(5000)
    env = cli_env(sandbox)
    ids = {o.id for o in sandbox.orders()}
    csv_path, jsonl_path = tmp_path / "orders.csv", tmp_path / "orders.jsonl"
    as_csv, as_jsonl = await asyncio.gather(
        run("orders", "export", "--format", "csv", "-o", str(csv_path), env=env, timeout=60),
        run("orders", "export", "--format", "jsonl", "-o", str(jsonl_path), env=env, timeout=60),
    )
    assert as_csv.code == 0, as_csv.err
    assert as_jsonl.code == 0, as_jsonl.err
    assert "exported 5,000 in" in as_csv.err

    with csv_path.open(newline="") as file:
        reader = csv.DictReader(file)
        assert reader.fieldnames == COLUMNS
        rows = list(reader)
    assert len(rows) == 5000 and {r["id"] for r in rows} == ids

    records = [json.loads(line) for line in jsonl_path.read_text().splitlines()]
    assert len(records) == 5000 and {r["id"] for r in records} == ids
    assert all(list(r) == COLUMNS for r in records)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv", "orders.jsonl"]  # noqa: ASYNC240


async def test_ctrl_c_keeps_whole_rows_and_the_wait_is_announced(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await sandbox.seed_orders(1000)
    out = tmp_path / "orders.csv"
    out.write_text("an older export\n")
    # One page per 2 s: the limiter holds the command back, and it says so.
    env = cli_env(sandbox, PRINTORA_RATE_LIMIT="1/2s")
    proc = await start("orders", "export", "--format", "csv", "-o", str(out), env=env)
    assert proc.stderr is not None
    line = await wait_for_line(proc.stderr, "for the rate limit")
    assert "waiting" in line and "1/2s" in line
    # A third request means the first page is written (each is asked for as the last is used).
    for _ in range(400):
        if len(sandbox.requests) >= 3:
            break
        await asyncio.sleep(0.05)
    done = await interrupt(proc)
    assert done.code == 130, done.err
    assert "Traceback" not in done.err and "stopped early" in done.err

    with out.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert 100 <= len(rows) < 1000
    assert all(len(r) == len(COLUMNS) and r["id"] and r["updated_at"] for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    assert [p.name for p in tmp_path.iterdir()] == ["orders.csv"]  # noqa: ASYNC240 - no temp left
