"""The real thing on 127.0.0.1: a redis-server, the sandbox and ``aioprintora worker`` processes,
all subprocesses, with a recording proxy in front of the sandbox.

The proxy is the test's eye on the wire: it forwards every request unchanged and notes when each
session creation arrived and what the sandbox answered, so a test can count 429s and measure the
gaps between requests without reaching into the sandbox process.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import attrs
from aiohttp import web

from tests._redis_server import RedisServer
from tests.cli._run import Done, run

__all__ = ["Hit", "Stack", "rows_file", "stack"]

ROOT = Path(__file__).resolve().parents[2]


@attrs.frozen
class Hit:
    """One session creation as the proxy saw it."""

    at: float  # time.monotonic() when it arrived
    status: int


def rows_file(path: Path, count: int) -> Path:
    """A CSV of ``count`` valid import rows."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ref", "image_url", "success_url", "failed_url"])
        for i in range(count):
            writer.writerow(
                [
                    f"row-{i:05d}",
                    f"https://cdn.example.com/{i}.png",
                    "https://shop.example.com/thanks",
                    "https://shop.example.com/failed",
                ]
            )
    return path


@attrs.define
class Stack:
    """What :func:`stack` started."""

    redis_url: str
    sandbox_url: str
    proxy_url: str
    api_key: str
    rate_limit: str
    tmp: Path
    hits: list[Hit] = attrs.Factory(list)
    workers: list[asyncio.subprocess.Process] = attrs.Factory(list)
    logs: list[Path] = attrs.Factory(list)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PRINTORA_")}
        env.update(
            PRINTORA_API_KEY=self.api_key,
            PRINTORA_BASE_URL=self.proxy_url,
            PRINTORA_REDIS_URL=self.redis_url,
            PRINTORA_RATE_LIMIT=self.rate_limit,
            NO_COLOR="1",
        )
        env.update(extra)
        return env

    async def start_worker(self) -> asyncio.subprocess.Process:
        """One more ``aioprintora worker``; its output goes to a file (a pipe could fill)."""
        log = self.tmp / f"worker-{len(self.workers)}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "aioprintora",
                "worker",
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env=self.env(),
            )
        self.workers.append(proc)
        self.logs.append(log)
        return proc

    def running_chunk(self, index: int) -> str | None:
        """The chunk worker ``index`` is running now, from its log (None: between chunks).

        Its own lines tell: a chunk starts with "Processing" and ends with "Finished" or with
        the one line a deferral or the end of its turn logs. (The "Retrying" lines its sweeps
        write are about other workers' chunks.)
        """
        running = None
        for line in self.logs[index].read_text(errors="replace").splitlines():
            if "saq Processing Job<function: import_chunk" in line:
                running = line.split("key: import:", 1)[1].split(",", 1)[0].rsplit(":", 1)[1]
            elif "saq Finished Job<function: import_chunk" in line or " saq chunk " in line:
                running = None
        return running

    def starts(self, chunk: str, *, besides: int) -> int:
        """How often workers other than ``besides`` have started ``chunk`` (from their logs)."""
        needle = f":{chunk}, attempts"
        return sum(
            line.count(needle)
            for i, log in enumerate(self.logs)
            if i != besides
            for line in log.read_text(errors="replace").splitlines()
            if "saq Processing Job<function: import_chunk" in line
        )

    async def cli(self, *args: str, timeout: float = 60.0) -> Done:
        return await run(*args, env=self.env(), timeout=timeout)

    async def counts(self) -> dict[str, int]:
        """The sandbox's own counts, asked directly (not through the proxy)."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{self.sandbox_url}/_sandbox/counts",
                headers={"Authorization": f"Bearer {self.api_key}"},
            ) as response,
        ):
            return dict(json.loads(await response.read())["data"])

    def created(self) -> list[Hit]:
        return [h for h in self.hits if h.status < 300]

    def max_gap(self) -> float:
        times = [h.at for h in self.hits]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


async def _proxy(target: str, hits: list[Hit]) -> tuple[web.AppRunner, str]:
    session = aiohttp.ClientSession(auto_decompress=False)

    async def forward(request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with session.request(
            request.method, f"{target}{request.rel_url}", data=body, headers=headers
        ) as upstream:
            payload = await upstream.read()
            if request.method == "POST" and request.path.endswith("/partner-session"):
                hits.append(Hit(arrived, upstream.status))
            drop = {"content-length", "transfer-encoding", "connection"}
            return web.Response(
                status=upstream.status,
                body=payload,
                headers={k: v for k, v in upstream.headers.items() if k.lower() not in drop},
            )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)

    async def close_session(_: web.Application) -> None:
        await session.close()

    app.on_cleanup.append(close_session)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def _sandbox(rates: list[str]) -> tuple[asyncio.subprocess.Process, str, str]:
    args = ["sandbox", "--port", "0"]
    for rate in rates:
        args += ["--rate-limit", rate]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioprintora",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    found: dict[str, str] = {}
    while "api_key" not in found:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line:
            raise RuntimeError("the sandbox exited before it printed its key")
        name, _, value = line.partition(": ")
        found[name.strip()] = value.strip()
    return proc, found["base_url"], found["api_key"]


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGKILL)
    await proc.wait()


@asynccontextmanager
async def stack(
    redis_server: Callable[[], RedisServer], tmp: Path, *, sandbox_rate: str, client_rate: str
) -> AsyncIterator[Stack]:
    """Redis, the sandbox (``sandbox_rate``, space-separated) and the proxy; workers on demand."""
    server = redis_server()  # started by the test: its own, killed afterwards
    sandbox, sandbox_url, api_key = await _sandbox(sandbox_rate.split())
    hits: list[Hit] = []
    runner, proxy_url = await _proxy(sandbox_url, hits)
    built = Stack(server.url, sandbox_url, proxy_url, api_key, client_rate, tmp, hits)
    try:
        yield built
    finally:
        await asyncio.gather(*(_stop(w) for w in built.workers))
        await runner.cleanup()
        await _stop(sandbox)
        server.stop(kill=True)


async def wait_until(
    check: Callable[[], object], *, timeout: float, every: float = 0.5, what: str = ""
) -> None:
    """Poll an async or sync check until it is true; fail past ``timeout`` (a real hang)."""
    give_up = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > give_up:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(every)
