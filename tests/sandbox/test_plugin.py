"""The pytest plugin: the ``printora_sandbox`` fixture, and loading without pytest-asyncio."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp

from aioprintora.sandbox import Sandbox


async def test_fixture_yields_a_started_sandbox(printora_sandbox: Sandbox) -> None:
    assert printora_sandbox.base_url.startswith("http://127.0.0.1:")
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            printora_sandbox.base_url + "/api/v1/partners/orders",
            headers={"Authorization": f"Bearer {printora_sandbox.api_key}"},
        ) as resp,
    ):
        assert resp.status == 200


def test_without_pytest_asyncio_the_fixture_skips_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "test_uses_fixture.py").write_text(
        textwrap.dedent(
            """
            def test_needs_sandbox(printora_sandbox):
                raise AssertionError("must not run")
            """
        )
    )
    # A stub that fails to import shadows pytest_asyncio; its plugin ("asyncio") is not loaded.
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "pytest_asyncio.py").write_text("raise ImportError('hidden by the test')\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:asyncio",
            "-p",
            "no:cacheprovider",
            "-rs",
            "-q",
            "test_uses_fixture.py",
        ],
        env={**os.environ, "PYTHONPATH": str(stubs)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "needs pytest-asyncio" in done.stdout
