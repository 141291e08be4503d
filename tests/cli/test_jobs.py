"""``sessions import`` (killed half way and re-run: exactly once) and ``orders sync``."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest

from aioprintora.sandbox import Sandbox

from ._run import cli_env, interrupt, run, start

ROWS = 200


def _write_rows(path: Path) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["ref", "image_url", "success_url", "failed_url", "email", "first_name"])
        for i in range(ROWS):
            writer.writerow(
                [
                    f"cart-{i}",
                    f"https://cdn.example.com/designs/{i}.png",
                    "https://shop.example.com/thanks",
                    "https://shop.example.com/failed",
                    f"customer{i}@example.com" if i % 2 else "",
                    "Ada" if i % 3 == 0 else "",
                ]
            )


async def test_import_killed_half_way_then_rerun_creates_each_row_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    rows, journal, results = tmp_path / "carts.csv", tmp_path / "j.sqlite", tmp_path / "out.jsonl"
    _write_rows(rows)
    args = ("sessions", "import", str(rows), "--journal", str(journal), "--out", str(results))
    # Slow enough to stop half way; the re-run gets the raised limit.
    proc = await start(
        *args, "--concurrency", "4", env=cli_env(sandbox, PRINTORA_RATE_LIMIT="40/s")
    )
    for _ in range(600):
        if sandbox.session_count() >= ROWS // 2 or proc.returncode is not None:
            break
        await asyncio.sleep(0.02)
    at_signal = sandbox.session_count()
    stopped = await interrupt(proc)
    assert stopped.code == 130, (at_signal, stopped.err)
    assert "Traceback" not in stopped.err
    made_before = sandbox.session_count()
    assert 0 < made_before < ROWS, (at_signal, stopped.err)
    partial = [json.loads(line) for line in results.read_text().splitlines()]
    assert 0 < len(partial) <= made_before

    again = await run(*args, env=cli_env(sandbox))
    assert again.code == 0, again.err
    assert sandbox.session_count() == ROWS  # none twice
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(lines) == ROWS
    assert {line["ref"] for line in lines} == {f"cart-{i}" for i in range(ROWS)}
    assert all(line["session_id"] and line["error"] is None for line in lines)
    assert len({line["session_id"] for line in lines}) == ROWS
    journaled = sum(line["journaled"] for line in lines)
    assert len(partial) <= journaled <= made_before
    assert f"{ROWS - journaled} created, {journaled} already in the journal, 0 failed" in again.err
    made = {s.image_url: s.user_data for s in sandbox.partner().state.sessions.values()}
    assert made["https://cdn.example.com/designs/3.png"] == {
        "email": "customer3@example.com",
        "firstName": "Ada",
    }


_MERCH = {"image_url": None, "merch_id": "3f0c9a52-6f1e-4c8e-9a7b-2d4e6f8a0b1c"}


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"image_url": "x"}, "image_url"),
        ({**_MERCH, "quantity": 2.7}, "quantity must be a whole number, not 2.7"),  # not 2
    ],
)
async def test_a_bad_row_refuses_the_file_before_sending(
    sandbox: Sandbox, tmp_path: Path, bad: dict[str, object], named: str
) -> None:
    rows = tmp_path / "rows.jsonl"
    good = {"ref": "a", "image_url": "https://cdn.example.com/a.png"}
    good |= {"success_url": "https://s.example.com/ok", "failed_url": "https://s.example.com/no"}
    rows.write_text(json.dumps(good) + "\n" + json.dumps({**good, "ref": "b", **bad}))
    done = await run(
        "sessions",
        "import",
        str(rows),
        "--journal",
        str(tmp_path / "j.sqlite"),
        env=cli_env(sandbox),
    )
    assert done.code == 2 and "line 2" in done.err and named in done.err, done.err
    assert len(sandbox.requests) == 0


async def test_sync_twice_appends_exactly_the_changed_orders(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    seeded = await sandbox.seed_orders(300, ["paid"])
    state, out = tmp_path / "sync.sqlite", tmp_path / "changes.jsonl"
    args = ("orders", "sync", "--state", str(state), "-o", str(out), "--json")
    first = await run(*args, env=cli_env(sandbox))
    assert first.code == 0, first.err
    assert json.loads(first.out)["changed"] == 300
    assert len(out.read_text().splitlines()) == 300

    moved = [o.id for o in seeded[::60]]  # 5 orders ship
    for order_id in moved:
        await sandbox.advance_order(order_id, "shipped")
    new = [o.id for o in await sandbox.seed_orders(3, ["pending"])]
    second = await run(*args, env=cli_env(sandbox))
    assert second.code == 0, second.err
    summary = json.loads(second.out)
    assert summary["changed"] == 8 and summary["complete"] is True
    assert summary["requests"] < 300 // 100 + 10  # the job's own efficiency is tested there
    appended = [json.loads(line) for line in out.read_text().splitlines()[300:]]
    assert sorted(o["id"] for o in appended) == sorted(moved + new)
    assert {o["id"]: o["status"] for o in appended if o["id"] in moved} == dict.fromkeys(
        moved, "shipped"
    )
