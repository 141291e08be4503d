"""The README's main command: ``python -m aioprintora demo`` runs the whole flow and says so."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from aioprintora.demo import MAX_ORDERS, main, run_demo
from aioprintora.sandbox import Sandbox


def _credentials(seed: int) -> tuple[str, str]:
    """The key and secret a sandbox with this seed issues (ids are seeded)."""
    sb = Sandbox(seed=seed)
    return sb.api_key, sb.webhook_secret


def test_main_runs_the_whole_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--orders", "3", "--seed", "7"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    for step in ("1. Sessions", "3. Webhooks", "4. Orders", "5. The webhook log", "6. Resend"):
        assert step in out
    assert "sessions.create_many -> 2 created, 0 failed" in out
    assert "sessions.validate_token -> is_valid=True" in out
    # 3 created + 3 paid + 2 shipped + 1 delivered events, each processed once.
    assert "callback runs       9 (one per event)" in out
    assert "orders by status    paid 1, shipped 1, delivered 1" in out
    assert "got HTTP 401 and was not processed" in out
    assert "the endpoint answered {'status': 'duplicate'}" in out
    assert "attempts=2" in out  # the delivery refused with 503 was retried by the sandbox
    key, secret = _credentials(7)
    assert key not in out and secret not in out


async def test_run_demo_summary_counts_every_delivery() -> None:
    out = io.StringIO()
    summary = await run_demo(4, quiet=True, out=out)
    text = out.getvalue()
    assert "1. Sessions" not in text and text.lstrip().startswith("Summary")
    assert summary.sessions == 4
    assert summary.orders == {"paid": 1, "shipped": 1, "delivered": 2}
    events = 4 + 4 + 3 + 2  # created, paid, shipped, delivered
    assert summary.processed == events
    assert summary.log_entries == events
    assert summary.outcomes == {
        "processed (200)": events,
        "duplicate (200)": 1,
        "refused (503, endpoint down)": 1,
        "rejected (401)": 1,
    }
    assert 0 < summary.api_requests <= 60


@pytest.mark.parametrize("orders", ["0", str(MAX_ORDERS + 1), "many"])
def test_bad_order_count_is_a_usage_error(orders: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--orders", orders])
    assert exc.value.code == 2
    assert "--orders" in capsys.readouterr().err


def test_python_m_aioprintora_demo() -> None:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    done = subprocess.run(
        [sys.executable, "-m", "aioprintora", "demo", "--orders", "2", "--quiet"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "callback runs       5 (one per event)" in done.stdout
    assert done.stderr == ""
