"""Imports on real workers: redis-server, the sandbox and ``aioprintora worker`` as subprocesses."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aioprintora.workers import import_status
from tests._redis_server import RedisServer
from tests.cli._run import start

from ._stack import rows_file, stack, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.mark.timeout(900)
async def test_600_rows_on_3_workers_one_killed_half_way(
    redis_server_factory: Callable[[], RedisServer], tmp_path: Path
) -> None:
    rows = rows_file(tmp_path / "rows.csv", 600)
    # The client paces the sandbox's 120/min evenly (10 per 5 s): a sliding window alone
    # would let 120 go at once, then nothing for a minute.
    async with stack(
        redis_server_factory, tmp_path, sandbox_rate="120/min", client_rate="120/min 10/5s"
    ) as s:
        for _ in range(3):
            await s.start_worker()
        done = await s.cli("sessions", "import", str(rows), "--queue", "--chunk-size", "50")
        assert done.code == 0, done.err
        import_id = done.out.strip()
        again = await s.cli("sessions", "import", str(rows), "--queue", "--chunk-size", "50")
        assert again.out.strip() == import_id  # same file: same import, nothing added

        await wait_until(
            lambda: len(s.hits) >= 300 and s.running_chunk(0), timeout=400, what="300 rows sent"
        )
        chunk = s.running_chunk(0)
        assert chunk is not None
        before = s.starts(chunk, besides=0)
        s.workers[0].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await s.workers[0].wait()

        def taken_over() -> bool:
            return s.starts(chunk, besides=0) > before

        await wait_until(taken_over, timeout=120, what="the killed worker's chunk re-runs")
        rerun_after = time.monotonic() - killed_at

        async def finished() -> bool:
            return (await import_status(s.redis_url, import_id)).finished

        await wait_until(finished, timeout=600, every=1.0, what="the import finishes")
        status = await import_status(s.redis_url, import_id)
        counts = await s.counts()
        ok = await s.cli("jobs", "status", import_id)

    assert ok.code == 0, ok.out + ok.err
    assert status.ok and status.done == 600
    assert counts["sessions"] == 600  # none lost, none duplicated
    # 0 x 429; a 409 is the replay of a row the killed worker sent but never journaled.
    assert {h.status for h in s.hits} <= {201, 409}
    assert s.max_gap() <= 10.0
    assert rerun_after <= 30.0
    span = s.hits[-1].at - s.hits[0].at
    rate = (len(s.hits) - 1) / span * 60
    print(  # the figure docs/benchmarks.md reports (pytest -s shows it)
        f"\n{len(s.hits)} requests in {span:.1f} s: {rate:.1f}/min of 120/min;"
        f" max gap {s.max_gap():.1f} s; killed chunk re-ran after {rerun_after:.1f} s"
    )


@pytest.mark.timeout(300)
async def test_a_spent_window_pauses_every_worker_until_it_resets(
    redis_server_factory: Callable[[], RedisServer], tmp_path: Path
) -> None:
    from saq import Queue

    rows = rows_file(tmp_path / "rows.csv", 150)
    rates = "60/10s 100/min"  # the minute stands for the day: the limiter uses Redis's clock
    async with stack(redis_server_factory, tmp_path, sandbox_rate=rates, client_rate=rates) as s:
        for _ in range(3):
            await s.start_worker()
        # --wait: the command follows the import to its end, as a local import would.
        follower = await start(
            "sessions", "import", str(rows), "--queue", "--wait", "--chunk-size", "25", env=s.env()
        )
        assert follower.stdout is not None
        line = await asyncio.wait_for(follower.stdout.readline(), 60)
        import_id = line.decode().strip()
        await wait_until(lambda: len(s.hits) >= 100, timeout=120, what="the window spent")

        queue = Queue.from_url(s.redis_url, name="aioprintora")
        await queue.connect()
        try:
            # Paused: every chunk handed back to the queue, none held by a worker.
            async def paused() -> bool:
                status = await import_status(s.redis_url, import_id)
                return status.deferred_until is not None and await queue.count("active") == 0

            await wait_until(paused, timeout=60, what="every chunk deferred")
            assert len(s.hits) == 100
        finally:
            await queue.disconnect()

        async def finished() -> bool:
            return (await import_status(s.redis_url, import_id)).finished

        await wait_until(finished, timeout=180, every=1.0, what="the import finishes")
        counts = await s.counts()
        _, err = await asyncio.wait_for(follower.communicate(), 60)

    assert follower.returncode == 0, err.decode()
    assert "150 of 150 rows" in err.decode()

    assert counts["sessions"] == 150
    assert {h.status for h in s.hits} == {201}  # the pause cost no request: no 429, no replay
    first = s.hits[0].at
    # Nothing was sent between the 100th request and the minute window's reset.
    assert all(h.at >= first + 59.0 for h in s.hits[100:])
