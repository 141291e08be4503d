"""The SDK functions between ``orders.iter`` and aiohttp: ``python -m benchmarks.call_path``.

One walk of ``client.orders.iter()`` over a one-page listing on a loopback server, traced with
``sys.setprofile`` (this thread only; the server's own code is aiohttp's, or the test app's):

- **stack**: the SDK frames on the await chain at the moment aiohttp's
  ``ClientSession._request`` is entered for the first page, outermost first: the functions a
  request goes through, each resumed again at every suspension of the exchange;
- **calls**: profile ``call`` events of SDK functions from the first ``__anext__`` until that
  moment (a coroutine's resumption counts as a call, as the profiler reports it), and how many
  distinct functions they are;
- the same two counts for the whole walk (the first item out, the walk's end included).

Figures go to the notes of issue 23 (before/after the request-path redesign).
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from aiohttp import web

import aioprintora
from aioprintora import PrintoraClient

SDK = str(Path(aioprintora.__file__).parent)
NOT_SDK = (f"{SDK}/sandbox",)


def _sdk(frame: FrameType) -> bool:
    name = frame.f_code.co_filename
    return name.startswith(SDK) and not name.startswith(NOT_SDK)


def _label(frame: FrameType) -> str:
    module = Path(frame.f_code.co_filename).relative_to(Path(SDK).parent).with_suffix("")
    return f"{'.'.join(module.parts)}:{frame.f_code.co_qualname}"


class Trace:
    """SDK calls until aiohttp's request starts, and the SDK stack at that moment."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.before_request: Counter[str] | None = None
        self.stack: list[str] = []

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        if _sdk(frame):
            self.calls[_label(frame)] += 1
        elif self.before_request is None and frame.f_code.co_qualname == "ClientSession._request":
            self.before_request = Counter(self.calls)
            chain, link = [], frame.f_back
            while link is not None:
                if _sdk(link):
                    chain.append(_label(link))
                link = link.f_back
            self.stack = chain[::-1]


async def run() -> Trace:
    """Walk a one-page listing under the trace."""

    async def orders(request: web.Request) -> web.Response:
        item = {"id": "ord_1", "status": "paid", "totalAmount": "1.00"}
        return web.json_response({"orders": [item], "total": 1})

    app = web.Application()
    app.router.add_get("/{tail:.*}", orders)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    trace = Trace()
    try:
        async with PrintoraClient("sk_test_trace", base_url=f"http://{host}:{port}") as client:
            await client.orders.list()  # warm: lazy imports and caches are not the path
            walk = client.orders.iter()
            sys.setprofile(trace)
            try:
                async for _ in walk:
                    pass
            finally:
                sys.setprofile(None)
    finally:
        await runner.cleanup()
    return trace


def main() -> None:
    """Print the counts and the stack."""
    trace = asyncio.run(run())
    before = trace.before_request or Counter()
    print(f"SDK frames on the stack when aiohttp's request starts: {len(trace.stack)}")
    for label in trace.stack:
        print(f"    {label}")
    print(
        f"SDK calls before the request: {sum(before.values())} ({len(before)} distinct functions)"
    )
    print(
        f"SDK calls for the whole walk: {sum(trace.calls.values())} "
        f"({len(trace.calls)} distinct functions)"
    )


if __name__ == "__main__":
    main()
