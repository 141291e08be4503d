"""``orders sync`` on a full disk, and ``sessions import`` counts at Ctrl-C (#21)."""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sqlite3
from pathlib import Path

from aioprintora.sandbox import Sandbox

from ._run import cli_env, interrupt, run, start

_LIMIT = 1 << 20  # RLIMIT_FSIZE of the run on a "full disk": far above the state file's size


def _small_files() -> None:  # pragma: no cover - runs in the child, before exec
    """``ulimit -f``: no file may grow past ``_LIMIT``."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (_LIMIT, _LIMIT))


async def test_a_sync_whose_output_cannot_be_written_commits_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    seeded = await sandbox.seed_orders(40, ["paid"])
    state, first_out = tmp_path / "sync.sqlite", tmp_path / "first.jsonl"
    args = ("orders", "sync", "--state", str(state), "--json")
    first = await run(*args, "-o", str(first_out), env=cli_env(sandbox))
    assert first.code == 0, first.err
    assert len(first_out.read_text().splitlines()) == 40
    for order in seeded[:15]:  # a quiet night: 15 orders changed
        await sandbox.advance_order(order.id, "shipped")

    # The output alone is on a full disk: it was grown past the limit, so only its appends fail
    # (the state, a few KB, can still be written: the bug is committing it).
    full = tmp_path / "full.jsonl"
    with full.open("wb") as file:
        file.truncate(2 * _LIMIT)
    failed = await run(
        *args,
        "-o",
        str(full),
        env=cli_env(sandbox),
        preexec_fn=_small_files,
    )
    assert failed.code != 0
    assert full.stat().st_size == 2 * _LIMIT  # nothing of it reached the disk

    later_out = tmp_path / "later.jsonl"
    later = await run(*args, "-o", str(later_out), env=cli_env(sandbox))
    assert later.code == 0, later.err
    changed = [json.loads(line)["id"] for line in later_out.read_text().splitlines()]
    assert sorted(changed) == sorted(o.id for o in seeded[:15])  # not lost: appended now
    assert "state not saved" in failed.err, failed.err


async def test_the_summary_of_an_interrupted_import_counts_every_answer(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    rows, journal = tmp_path / "rows.jsonl", tmp_path / "j.sqlite"
    base = {"success_url": "https://s.example.com/ok", "failed_url": "https://s.example.com/no"}
    rows.write_text(
        "".join(
            json.dumps({"ref": f"r{i}", "image_url": f"https://cdn.example.com/{i}.png", **base})
            + "\n"
            for i in range(400)
        )
    )
    args = ("sessions", "import", str(rows), "--journal", str(journal), "--concurrency", "8")
    proc = await start(*args, env=cli_env(sandbox, PRINTORA_RATE_LIMIT="100/s"))
    for _ in range(1_000):
        if sandbox.session_count() >= 60 or proc.returncode is not None:
            break
        await asyncio.sleep(0.01)
    stopped = await interrupt(proc)
    assert stopped.code == 130, stopped.err
    found = re.search(r"imported ([\d,]+) of 400 rows: ([\d,]+) created", stopped.err)
    assert found is not None, stopped.err
    created = int(found[2].replace(",", ""))
    with sqlite3.connect(journal) as db:  # every answer that arrived was journaled
        values = [v for (v,) in db.execute("SELECT value FROM aioprintora_kv WHERE key LIKE 'r%'")]
    journaled = sum("session" in json.loads(value) for value in values)
    assert created == journaled
    again = await run(*args, env=cli_env(sandbox))
    assert again.code == 0, again.err
    assert f"{400 - created} created, {created} already in the journal" in again.err
    assert sandbox.session_count() == 400


async def test_a_sync_state_of_another_key_is_refused_naming_full(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    other = sandbox.add_partner()
    await sandbox.seed_orders(3, ["paid"])
    await sandbox.seed_orders(5, ["paid"], api_key=other.api_key)
    state, out = tmp_path / "sync.sqlite", tmp_path / "changes.jsonl"
    args = ("orders", "sync", "--state", str(state), "-o", str(out))
    assert (await run(*args, env=cli_env(sandbox))).code == 0
    theirs = cli_env(sandbox, PRINTORA_API_KEY=other.api_key)
    sent = len(sandbox.requests)
    refused = await run(*args, env=theirs)
    assert refused.code == 2 and "another API key" in refused.err and "--full" in refused.err
    assert other.api_key not in refused.err and sandbox.api_key not in refused.err
    assert len(sandbox.requests) == sent
    assert (await run(*args, "--full", env=theirs)).code == 0
    assert len(out.read_text().splitlines()) == 3 + 5
