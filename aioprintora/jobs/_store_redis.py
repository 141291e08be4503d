"""A :class:`~aioprintora.jobs.Store` in one Redis hash, for jobs spread over several workers.

``pip install aioprintora[redis]``; pass a ``redis.asyncio.Redis`` of yours (never closed here)::

    store = RedisStore(redis.asyncio.Redis(), "imports:2026-12")
    await client.sessions.create_many(requests, journal=store)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["RedisStore"]


class RedisStore:
    """Keys and values in the Redis hash ``name``; every write is one atomic command or ``MULTI``.

    Several processes may share it: a webhook listener recording into a sync state while the
    cron runs the sync (each record is a field of its own, the run's commit one transaction).

    Args:
        redis: a ``redis.asyncio.Redis`` client.
        name: the hash's key.
    """

    def __init__(self, redis: Any, name: str) -> None:
        self.redis = redis
        self.name = name

    def __repr__(self) -> str:
        return f"RedisStore({self.name!r})"

    async def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The values stored under ``keys``."""
        wanted = list(keys)
        if not wanted:
            return {}
        values = await self.redis.hmget(self.name, wanted)
        return {k: bytes(v) for k, v in zip(wanted, values, strict=True) if v is not None}

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        """Store every item (durable as your Redis is configured: AOF for crash safety)."""
        if items:
            await self.redis.hset(self.name, mapping=dict(items))

    async def scan(self, prefix: str) -> dict[str, bytes]:
        """Every key starting with ``prefix``, with its value (``HSCAN ... MATCH``)."""
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"
        found: dict[str, bytes] = {}
        async for key, value in self.redis.hscan_iter(self.name, match=pattern, count=500):
            found[key.decode() if isinstance(key, bytes) else key] = bytes(value)
        return found

    async def update(self, put: Mapping[str, bytes], delete: Iterable[str]) -> None:
        """Store ``put`` and remove ``delete`` in one ``MULTI`` transaction."""
        gone = list(delete)
        async with self.redis.pipeline(transaction=True) as pipe:
            if put:
                pipe.hset(self.name, mapping=dict(put))
            if gone:
                pipe.hdel(self.name, *gone)
            await pipe.execute()

    async def aclose(self) -> None:
        """Nothing to release: the Redis client is yours."""
