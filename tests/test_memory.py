"""Leaks: memory after many requests (RELIABILITY 20) and connections after failures (18).

RELIABILITY 17 (no unclosed session or connector anywhere) is enforced by the suite running under
``filterwarnings = error``, and an unclosed client's ``ResourceWarning`` is tested in
``tests/test_client.py``.
"""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from aioprintora import PrintoraClient
from aioprintora import _errors as errors
from aioprintora._http.retry import RetryPolicy
from aioprintora.sandbox import Sandbox

from ._wait import until
from .conftest import assert_no_acquired

UNKNOWN_SESSION = "00000000-0000-4000-8000-000000000000"
CREATE: dict[str, Any] = {
    "image_url": "https://partner.example/design.png",
    "success_url": "https://partner.example/ok",
    "failed_url": "https://partner.example/failed",
}
#: Fast backoff, and a deadline no test comes near.
RETRY = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_cap=0.02, deadline=10.0)


class UserCodeError(Exception):
    """An error in the user's own code."""


def acquired(connector: aiohttp.BaseConnector) -> int:
    """Connections taken from the pool and not given back."""
    return len(connector._acquired)


def connector_of(client: PrintoraClient) -> aiohttp.BaseConnector:
    session = client._pool.session
    assert session is not None
    assert session.connector is not None
    return session.connector


# -- RELIABILITY 20: 1,000 requests leave nothing behind -------------------------------------------

CALLS = 1_000
#: The warm-up fills what is filled once per process (the converter's generated code, yarl's and
#: multidict's caches, the pool's connections). What remains is bounded but not zero: asyncio's
#: heap of cancelled timers (every attempt's ``wait_for`` leaves one; the loop purges them once
#: more than half of over 100 are cancelled) and CPython's own residue of building a
#: ``JSONDecoder`` per ``json.loads(..., parse_float=Decimal)``. Measured on CPython 3.11: about
#: 60 KB over the 1,000 measured calls after this warm-up, over 100 KB after a warm-up of 100.
WARM_UP = 1_000
#: RELIABILITY 20's bound; a leak of 40 bytes per call on top of the residue would cross it.
BOUND = 100_000


async def _mixed_call(client: PrintoraClient, i: int, session_id: str) -> None:
    """One call of a mix covering success, error and pagination paths."""
    kind = i % 5
    if kind == 0:
        page = await client.orders.list(limit=10)
        assert len(page.items) == 10
    elif kind == 1:
        await client.sessions.get(session_id)
    elif kind == 2:
        await client.webhook_logs.list(limit=5)
    elif kind == 3:
        with pytest.raises(errors.NotFoundError):
            await client.sessions.get(UNKNOWN_SESSION)
    else:
        # Two pages and a read-ahead abandoned by max_items.
        orders = await client.orders.iter(page_size=5, max_items=7).collect()
        assert len(orders) == 7


@pytest.fixture
async def quiet_sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox keeping no request log, so its own memory does not grow with each request."""
    async with Sandbox(rate_limits=None, request_log_size=0) as sb:
        yield sb


async def test_a_thousand_calls_leave_less_than_100kb_behind(quiet_sandbox: Sandbox) -> None:
    sb = quiet_sandbox
    await sb.seed_orders(30)
    async with PrintoraClient(
        sb.api_key, base_url=sb.base_url, rate_limit=None, retry=RETRY
    ) as client:
        session_id = (await client.sessions.create(**CREATE)).id
        # 2% of requests fail once and are retried: the retry path must not leak either.
        sb.set_faults(0.02, ("500", "503", "drop"), seed=20)
        for i in range(WARM_UP):
            await _mixed_call(client, i, session_id)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for i in range(CALLS):
                await _mixed_call(client, i, session_id)
            gc.collect()
            growth = tracemalloc.get_traced_memory()[0] - before
            top = tracemalloc.take_snapshot().statistics("lineno")[:5] if growth >= BOUND else []
        finally:
            tracemalloc.stop()
        sb.clear_faults()
        assert growth < BOUND, f"{growth} bytes still allocated after {CALLS} calls: {top}"
        assert_no_acquired(client)


# -- RELIABILITY 18: 0 acquired connections after failures -----------------------------------------


@pytest.mark.parametrize(
    ("kind", "error", "attempts"),
    [
        ("500", errors.ServerError, 4),
        ("502", errors.ServerError, 4),  # an HTML body, like a proxy's
        ("503", errors.ServerError, 4),
        ("commit_500", errors.ServerError, 4),
        ("drop", errors.APIConnectionError, 4),
        ("commit_drop", errors.APIConnectionError, 4),
        ("truncated", errors.APIConnectionError, 4),
        ("delay:1", errors.APITimeoutError, 4),
        ("malformed", errors.MalformedResponseError, 1),
    ],
)
async def test_failed_calls_give_every_connection_back(
    sandbox: Sandbox, kind: str, error: type[errors.PrintoraError], attempts: int
) -> None:
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=None, timeout=0.2, retry=RETRY
    ) as client:
        calls = (lambda: client.orders.list(limit=5), lambda: client.sessions.create(**CREATE))
        sandbox.fail_next(attempts, kind)
        for call in calls:
            sent = len(sandbox.requests)
            with pytest.raises(error) as caught:
                await call()
            assert caught.value.attempts == attempts
            assert len(sandbox.requests) - sent == attempts
            assert_no_acquired(client)
            sandbox.fail_next(attempts, kind)
        sandbox.clear_faults()
        # The pool still works: nothing is left half-read on a reused connection.
        await client.orders.list(limit=5)
        assert_no_acquired(client)


async def test_timeouts_under_concurrency_give_every_connection_back(sandbox: Sandbox) -> None:
    async with PrintoraClient(
        sandbox.api_key,
        base_url=sandbox.base_url,
        rate_limit=None,
        timeout=0.1,
        pool_size=3,
        retry=RetryPolicy(max_retries=1, backoff_base=0.01, backoff_cap=0.02),
    ) as client:
        sandbox.fail_next(20, "delay:1")
        results = await asyncio.gather(
            *(client.orders.list(limit=1) for _ in range(10)), return_exceptions=True
        )
        assert all(isinstance(r, errors.APITimeoutError) for r in results)
        assert_no_acquired(client)
        sandbox.clear_faults()
        await client.orders.list(limit=1)
        assert_no_acquired(client)


async def test_cancelled_calls_give_their_connections_back(sandbox: Sandbox) -> None:
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=None, retry=RETRY
    ) as client:
        connector = connector_of(client)
        # One call waits for a slow answer; another sleeps 5 s in backoff (Retry-After is
        # honoured exactly, so the sleep is certain to be under way when we cancel).
        sandbox.fail_next(1, "delay:5", method="GET")
        sandbox.fail_next(1, "429:5", method="POST")
        in_flight = asyncio.create_task(client.orders.list())
        backing_off = asyncio.create_task(client.sessions.create(**CREATE))
        await until(
            lambda: len(sandbox.requests) == 2 and acquired(connector) == 1,
            what="one call in flight, one in backoff",
        )
        in_flight.cancel()
        backing_off.cancel()
        for task in (in_flight, backing_off):
            with pytest.raises(asyncio.CancelledError):
                await task
        assert_no_acquired(client)
        await asyncio.sleep(0.05)
        assert len(sandbox.requests) == 2  # the backing-off call sent nothing more
        sandbox.clear_faults()


@pytest.mark.closes_in_flight
async def test_user_error_inside_async_with_releases_everything(sandbox: Sandbox) -> None:
    await sandbox.seed_orders(300)
    client = PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=None, retry=RETRY
    )
    tasks: list[asyncio.Task[object]] = []
    connectors: list[aiohttp.BaseConnector] = []

    async def user_code() -> None:
        async with client:
            connectors.append(connector_of(client))
            walk = client.orders.iter(page_size=50)
            await walk.__anext__()  # page 1 is read; page 2's read-ahead is queued, not sent
            # The user's code fails while that read-ahead and another call wait on a slow server.
            sandbox.fail_next(1_000, "delay:2", method="GET")
            tasks.append(asyncio.create_task(client.orders.list()))
            await until(lambda: acquired(connectors[0]) == 2, what="both calls in flight")
            raise UserCodeError

    with pytest.raises(UserCodeError):
        await user_code()
    (connector,) = connectors
    assert client.closed
    assert connector.closed
    assert acquired(connector) == 0
    # The abandoned call ends promptly instead of waiting for the slow server.
    done, pending = await asyncio.wait(tasks, timeout=1.0)
    assert not pending
    (task,) = done
    assert isinstance(task.exception(), errors.APIConnectionError)
    sandbox.clear_faults()


async def _fail_during_walk(client: PrintoraClient, sandbox: Sandbox) -> None:
    """User code failing on the first order of a walk, with page 2's read-ahead queued."""
    async for _ in client.orders.iter(page_size=50):
        # The read-ahead task exists but has not run yet: make the server slow for it.
        sandbox.fail_next(1_000, "delay:2", method="GET")
        raise UserCodeError


async def test_leaving_a_walk_by_an_exception_frees_its_connection(sandbox: Sandbox) -> None:
    await sandbox.seed_orders(300)
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=None, retry=RETRY
    ) as client:
        connector = connector_of(client)
        with pytest.raises(UserCodeError):
            await _fail_during_walk(client, sandbox)
        # Well before the slow server's 2 s: the read-ahead is cancelled, not waited out.
        await until(lambda: acquired(connector) == 0, timeout=1.0, what="connections released")
        sandbox.clear_faults()


# -- gaps found by these tests, now closed -------------------------------------------------------


@pytest.mark.closes_in_flight
async def test_a_call_in_flight_when_the_client_closes_raises_an_sdk_error(
    sandbox: Sandbox,
) -> None:
    sandbox.fail_next(1, "delay:2", method="GET")
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=None, retry=RETRY
    ) as client:
        call = asyncio.create_task(client.orders.list())
        await until(lambda: len(sandbox.requests) == 1, what="the call reached the server")
        closing = time.monotonic()
    (outcome,) = await asyncio.gather(call, return_exceptions=True)
    # Within a second, not after the server's 2 s: close() cuts the call off.
    assert time.monotonic() - closing < 1.0
    assert isinstance(outcome, errors.APIConnectionError), repr(outcome)
    assert "closed" in str(outcome)


async def test_leaving_a_walk_cancels_its_read_ahead_without_the_gc(sandbox: Sandbox) -> None:
    await sandbox.seed_orders(300)
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=None, retry=RETRY
    ) as client:
        connector = connector_of(client)
        gc.disable()
        try:
            with pytest.raises(UserCodeError):
                await _fail_during_walk(client, sandbox)
            await until(lambda: acquired(connector) == 0, timeout=1.0, what="released, no gc")
            held = acquired(connector)
        finally:
            gc.enable()
        sandbox.clear_faults()
        assert held == 0
