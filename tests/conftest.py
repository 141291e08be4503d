"""Shared fixtures: the sandbox every client test talks to, and a scripted server for faults."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest

from aioprintora import PrintoraClient
from aioprintora._http.retry import RetryPolicy
from aioprintora.sandbox import Sandbox

from ._leaks import _no_leaked_connections, acquired
from .scripted import ScriptedServer

__all__ = ["_no_leaked_connections"]  # the autouse leak check, for every test under tests/

API_KEY = "sk_test_scripted_0123456789"
FAST_RETRY = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_cap=0.05, deadline=10.0)


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    server = await ScriptedServer().start()
    yield server
    await server.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "closes_in_flight: the test closes a client with calls in flight on purpose"
    )


def assert_no_acquired(client: PrintoraClient) -> None:
    """Every connection is back in the pool."""
    assert acquired(client) == 0


@pytest.fixture
async def client(scripted: ScriptedServer) -> AsyncIterator[PrintoraClient]:
    """A client on the scripted server, fast backoff, no limiter."""
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, timeout=2.0, retry=FAST_RETRY
    ) as c:
        yield c
        assert_no_acquired(c)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox with generous limits: tests that study rate limiting set their own."""
    async with Sandbox(rate_limits=None, webhook_time_scale=0.001) as sb:
        yield sb


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[PrintoraClient]:
    """A client on the sandbox: fast backoff, no client-side limiter."""
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=None, retry=FAST_RETRY
    ) as c:
        yield c
        assert_no_acquired(c)


@pytest.fixture(params=["UTC0", "NPT-5:45"], ids=["TZ=UTC", "TZ=+05:45"])
def local_tz(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test in UTC and in a zone 5:45 east: "naive means UTC" must not mean local time.

    CI runs in UTC, where local time and UTC agree; only another zone tells them apart.
    """
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    try:
        yield request.param
    finally:
        monkeypatch.undo()
        time.tzset()
