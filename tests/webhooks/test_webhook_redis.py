"""RedisDedupStore against a real redis-server, and two receiver processes sharing it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

pytest.importorskip("redis")

import redis.asyncio as aioredis

from aioprintora.webhooks import ClaimState, RedisDedupStore

from .._wait import BOUND
from .conftest import SECRET, event_body, signed_headers

pytestmark = pytest.mark.redis


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    conn = aioredis.from_url(redis_url)
    try:
        yield conn
    finally:
        await conn.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


async def test_claim_commit_release_semantics(client: aioredis.Redis, prefix: str) -> None:
    store = RedisDedupStore(client, prefix=prefix, ttl=60, lease=5)
    first = await store.claim("k")
    assert first.state is ClaimState.ACQUIRED
    assert (await store.claim("k")).state is ClaimState.IN_PROGRESS
    await store.release(first)
    again = await store.claim("k")
    assert again.state is ClaimState.ACQUIRED
    await store.commit(again)
    assert (await store.claim("k")).state is ClaimState.DONE
    assert 0 < await client.pttl(prefix + "k") <= 60_000
    await store.release(first)  # a stale claim never removes a commit
    assert (await store.claim("k")).state is ClaimState.DONE


async def test_lease_lapses_and_stale_release_is_harmless(
    client: aioredis.Redis, prefix: str
) -> None:
    store = RedisDedupStore(client, prefix=prefix, ttl=60, lease=0.1)
    slow = await store.claim("k")
    assert 0 < await client.pttl(prefix + "k") <= 100  # held for the lease, not the ttl

    # Lapsed as Redis sees it, however long this machine takes (no guess at a sleep).
    give_up = asyncio.get_running_loop().time() + BOUND
    while await client.exists(prefix + "k"):
        assert asyncio.get_running_loop().time() < give_up, "the lease never lapsed"
        await asyncio.sleep(0.01)
    fast = await store.claim("k")
    assert fast.state is ClaimState.ACQUIRED
    await store.release(slow)
    assert (await store.claim("k")).state is ClaimState.IN_PROGRESS


async def test_concurrent_claims_from_two_clients_one_winner(
    redis_url: str, client: aioredis.Redis, prefix: str
) -> None:
    other = aioredis.from_url(redis_url)
    try:
        stores = [RedisDedupStore(c, prefix=prefix) for c in (client, other)]
        claims = await asyncio.gather(*(stores[i % 2].claim("k") for i in range(20)))
    finally:
        await other.aclose()
    states = [c.state for c in claims]
    assert states.count(ClaimState.ACQUIRED) == 1
    assert states.count(ClaimState.IN_PROGRESS) == 19


async def test_decoded_responses_client_works_too(redis_url: str, prefix: str) -> None:
    conn = aioredis.from_url(redis_url, decode_responses=True)
    try:
        store = RedisDedupStore(conn, prefix=prefix)
        await store.commit(await store.claim("k"))
        assert (await store.claim("k")).state is ClaimState.DONE
    finally:
        await conn.aclose()


def test_invalid_durations() -> None:
    with pytest.raises(ValueError, match="positive"):
        RedisDedupStore(aioredis.Redis(), ttl=0)


async def _start_receiver(redis_url: str, prefix: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("_receiver_process.py")),
        redis_url,
        prefix,
        SECRET,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    port = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
    assert port.isdigit(), port
    return proc, f"http://127.0.0.1:{port}/hook"


async def test_two_receiver_processes_run_the_callback_once(
    redis_url: str, client: aioredis.Redis, prefix: str, http: aiohttp.ClientSession
) -> None:
    """RELIABILITY 23 across processes: the same event delivered to both workers at once."""
    started = await asyncio.gather(*(_start_receiver(redis_url, prefix) for _ in range(2)))
    try:
        body = event_body(session_id="multi-worker")

        async def deliver(url: str) -> str:
            async with http.post(url, data=body, headers=signed_headers(body)) as resp:
                answer = await resp.json()
                return f"{resp.status} {answer.get('status') or answer.get('error')}"

        urls = [url for _, url in started]
        first = await asyncio.gather(*(deliver(u) for u in urls * 2))
        assert first.count("200 processed") == 1
        # The others overlapped the callback (409) or, on a slow machine, came after it.
        assert set(first) <= {"200 processed", "409 in_progress", "200 duplicate"}
        later = await asyncio.gather(*(deliver(u) for u in urls))
        assert later == ["200 duplicate", "200 duplicate"]  # on either worker
        assert await client.lrange(prefix + "effects", 0, -1) == [b"multi-worker"]
    finally:
        for proc, _ in started:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc, _ in started:
            await asyncio.wait_for(proc.wait(), 10)
