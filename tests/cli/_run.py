"""Running ``python -m aioprintora`` as a real subprocess, bounded in time."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

import attrs

from aioprintora.sandbox import Sandbox

#: Where the limit is not what a test studies: far above anything a test sends.
FAST = "100000/min"


@attrs.frozen
class Done:
    code: int
    out: str
    err: str


def cli_env(sb: Sandbox | None = None, **extra: str) -> dict[str, str]:
    """The environment of a CLI run against ``sb``: its key and URL, a raised limit, no colour."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PRINTORA_") and k not in ("COLUMNS", "FORCE_COLOR")
    }
    env.update(PYTHONWARNINGS="error", NO_COLOR="1", PRINTORA_RATE_LIMIT=FAST)
    if sb is not None:
        env.update(PRINTORA_BASE_URL=sb.base_url, PRINTORA_API_KEY=sb.api_key)
    env.update(extra)
    return env


async def start(*args: str, env: Mapping[str, str], **popen: Any) -> asyncio.subprocess.Process:
    """Start ``aioprintora ARGS`` with pipes (``popen``: more ``Popen`` options)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioprintora",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
        **popen,
    )


async def run(*args: str, env: Mapping[str, str], timeout: float = 40.0, **popen: Any) -> Done:
    """Run ``aioprintora ARGS`` to the end."""
    proc = await start(*args, env=env, **popen)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode())


async def interrupt(proc: asyncio.subprocess.Process, timeout: float = 20.0) -> Done:
    """Ctrl-C (SIGINT), then wait for the clean stop."""
    proc.send_signal(signal.SIGINT)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode())


async def wait_for_line(stream: asyncio.StreamReader, needle: str, timeout: float = 20.0) -> str:
    """Read lines until one contains ``needle``; return it."""

    async def scan() -> str:
        while True:
            raw = await stream.readline()
            if not raw:
                raise AssertionError(f"the command ended before printing {needle!r}")
            line = raw.decode()
            if needle in line:
                return line

    return await asyncio.wait_for(scan(), timeout)
