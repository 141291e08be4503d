"""``PRINTORA_LOG`` logs what it says: a client in a subprocess, against a loopback server here.

At ``debug``: one line per attempt (method, URL, status, milliseconds, attempt number, request
id); at ``info``: every retry and every rate-limit wait, with its length and reason. Never the key.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import textwrap

import pytest
from aiohttp import web

from tests._loopback import serve

pytestmark = pytest.mark.timeout(60)

API_KEY = "sk_test_logging_7d1e4a9b2c"

# Two calls through a limiter of one request per 0.2 s: the first is answered 503 once (a
# retry), the second queues behind the window (a rate-limit wait).
CLIENT = textwrap.dedent(
    """
    import asyncio, sys
    from aioprintora import PrintoraClient, RetryPolicy
    from aioprintora.ratelimit._local import Window

    async def main(url):
        retry = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_cap=0.01)
        async with PrintoraClient(
            "{key}", base_url=url, retry=retry, rate_limit=[Window(1, 0.2)]
        ) as api:
            await api.orders.list(status="paid")
            await api.orders.list(status="paid")

    asyncio.run(main(sys.argv[1]))
    """
).format(key=API_KEY)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PRINTORA_")}


async def _run(level: str) -> str:
    hits: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(1)
        headers = {"X-Request-Id": f"req-{len(hits)}"}
        if len(hits) == 1:
            return web.json_response({"error": "busy"}, status=503, headers=headers)
        return web.json_response({"orders": [], "total": 0}, headers=headers)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    async with serve(app) as url:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLIENT,
            url,
            env={**_clean_env(), "PRINTORA_LOG": level},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), 50)
    text = err.decode()
    assert process.returncode == 0, text
    assert len(hits) == 3
    assert API_KEY not in text
    return text


ATTEMPT = re.compile(
    r"GET http://127\.0\.0\.1:\d+/api/v1/partners/orders\?limit=20&offset=0&status=paid "
    r"-> (\d{3}) in \d+ ms \(attempt (\d), request id (req-\d)\)"
)


async def test_debug_logs_one_line_per_attempt() -> None:
    text = await _run("debug")
    attempts = [m.groups() for m in ATTEMPT.finditer(text)]
    assert attempts == [("503", "1", "req-1"), ("200", "2", "req-2"), ("200", "1", "req-3")]
    assert all(" DEBUG] " in line for line in text.splitlines() if ATTEMPT.search(line))


async def test_info_logs_every_retry_and_every_rate_limit_wait_but_no_attempt() -> None:
    text = await _run("info")
    assert not ATTEMPT.search(text)
    retries = re.findall(r"INFO\] retrying GET after .*503.* waiting (\d+\.\d+) s", text)
    assert len(retries) == 1
    waits = re.findall(
        r"INFO\] rate limiter held GET http://127\.0\.0\.1:\d+/\S+ for (\d+\.\d+) s "
        r"\((window full|server pause)\)",
        text,
    )
    # The retry and the second call each wait for the window (one request per 0.2 s).
    assert len(waits) == 2
    assert all(float(seconds) > 0.0 and reason == "window full" for seconds, reason in waits)
