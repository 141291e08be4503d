"""The leak check every test gets: each ``PrintoraClient`` it makes is inspected when it closes.

At ``aclose()`` no connection may still be acquired from the pool and no task running SDK code
may still be pending: either means a failure path forgot to release or cancel something. A
client never closed is inspected at the end of the test. Tests that close a client with calls
in flight on purpose say so with ``@pytest.mark.closes_in_flight``.

This wraps ``PrintoraClient.__init__`` and ``close`` to record, never the request path.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import aioprintora
from aioprintora import PrintoraClient

_SDK = Path(aioprintora.__file__).parent
_SANDBOX = _SDK / "sandbox"  # the sandbox server's own tasks are not the client's
#: Loop turns a cancelled task gets to unwind before aclose() counts it as leaked.
_UNWIND_TURNS = 5


def pool_session(client: PrintoraClient) -> aiohttp.ClientSession | None:
    """The client's aiohttp session (the one place that knows where it is kept)."""
    return client._pool.session


def acquired(client: PrintoraClient) -> int:
    """Connections taken from the client's pool and not given back."""
    session = pool_session(client)
    if session is None or session.connector is None or session.connector.closed:
        return 0
    return len(session.connector._acquired)


def _is_sdk_code(task: asyncio.Task[Any]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None) or getattr(task.get_coro(), "gi_code", None)
    if code is None:
        return False
    path = Path(code.co_filename)
    return path.is_relative_to(_SDK) and not path.is_relative_to(_SANDBOX)


def pending_sdk_tasks() -> list[asyncio.Task[Any]]:
    """Tasks of the running loop, other than the current one, still running SDK code."""
    current = asyncio.current_task()
    return [t for t in asyncio.all_tasks() if t is not current and not t.done() and _is_sdk_code(t)]


class LeakRecorder:
    """Collects the clients a test makes and what each left behind when it closed."""

    def __init__(self) -> None:
        self.clients: weakref.WeakSet[PrintoraClient] = weakref.WeakSet()
        self.problems: list[str] = []

    async def inspect(self, client: PrintoraClient) -> None:
        """Called just before the real ``aclose()``: give cancelled work a few turns, then look."""
        for _ in range(_UNWIND_TURNS):
            if not acquired(client) and not pending_sdk_tasks():
                return
            await asyncio.sleep(0)
        held, tasks = acquired(client), pending_sdk_tasks()
        if held or tasks:
            names = sorted(getattr(t.get_coro(), "__qualname__", repr(t)) for t in tasks)
            self.problems.append(f"{client!r} closed with {held} connection(s) acquired, {names}")

    def finish(self) -> None:
        """At the end of the test: a client still open must hold no connection either."""
        for client in list(self.clients):
            if not client.closed and acquired(client):
                self.problems.append(f"{client!r} left open with {acquired(client)} acquired")


@pytest.fixture(autouse=True)
def _no_leaked_connections(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LeakRecorder]:
    recorder = LeakRecorder()
    original_init: Callable[..., None] = PrintoraClient.__init__
    original_close = PrintoraClient.aclose

    @functools.wraps(original_init)  # its signature stays the client's (docs tests read it)
    def init(self: PrintoraClient, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        recorder.clients.add(self)

    async def aclose(self: PrintoraClient) -> None:
        if not self.closed:
            await recorder.inspect(self)
        await original_close(self)

    monkeypatch.setattr(PrintoraClient, "__init__", init)
    monkeypatch.setattr(PrintoraClient, "aclose", aclose)
    yield recorder
    recorder.finish()
    if recorder.problems and request.node.get_closest_marker("closes_in_flight") is None:
        pytest.fail("leak check: " + "; ".join(recorder.problems), pytrace=False)
