"""The Redis store: a journal shared by workers, against a real redis-server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from aioprintora import PrintoraClient
from aioprintora.jobs._imports import SessionRequest
from aioprintora.jobs._store import Store
from aioprintora.jobs._store_redis import RedisStore
from aioprintora.sandbox import Sandbox
from tests._redis_server import redis_url  # noqa: F401

pytestmark = pytest.mark.redis


@pytest.fixture
async def conn(redis_url: str) -> AsyncIterator[aioredis.Redis]:  # noqa: F811
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_two_workers_share_one_journal(
    conn: aioredis.Redis, api: PrintoraClient, sandbox: Sandbox
) -> None:
    store = RedisStore(conn, f"aioprintora-test:{uuid.uuid4()}")
    assert isinstance(store, Store)
    rows = [
        SessionRequest(
            ref=f"r{i}",
            image_url=f"https://img.example/{i}.png",
            success_url="https://shop.example/ok",
            failed_url="https://shop.example/no",
        )
        for i in range(10)
    ]
    await api.sessions.create_many(rows[:6], journal=store)
    other = RedisStore(aioredis.Redis(connection_pool=conn.connection_pool), store.name)
    results = await api.sessions.create_many(rows, journal=other)
    assert [r.journaled for r in results] == [True] * 6 + [False] * 4
    assert sandbox.session_count() == 10
    assert await store.get_many([]) == {}
    await conn.delete(store.name)
