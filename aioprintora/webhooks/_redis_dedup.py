"""A duplicate store shared by several workers, in Redis (``pip install aioprintora[redis]``).

Each key holds either a claim token (an event being processed, expiring with the lease) or
``done`` (processed, expiring with the ttl). Claims, renewals and releases are Lua scripts, so
they are atomic across every worker: two workers receiving the same event run the callback once.
Every round trip is bounded by ``redis_timeout`` (default 1 s) whatever the Redis client was
configured with: a frozen Redis makes the receiver answer 503 (the sender retries later)
instead of hanging the delivery.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aioprintora.webhooks._dedup import DEFAULT_LEASE, DEFAULT_TTL, Claim, ClaimState

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisDedupStore"]

_DONE = "done"

# KEYS[1] = key; ARGV[1] = token; ARGV[2] = lease in ms.
_CLAIM = """
local current = redis.call('GET', KEYS[1])
if not current then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 'acquired'
end
if current == 'done' then return 'done' end
return 'in_progress'
"""

# KEYS[1] = key; ARGV[1] = token. Deletes only our own claim, never a commit or another's claim.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS[1] = key; ARGV[1] = token; ARGV[2] = lease in ms. Extends only our own claim.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

_STATES = {"acquired": ClaimState.ACQUIRED, "done": ClaimState.DONE}


def _millis(value: timedelta | float) -> int:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds <= 0:
        raise ValueError("ttl and lease must be positive")
    return max(1, int(seconds * 1000))


class RedisDedupStore:
    """Dedup marks in Redis, shared by every receiver process pointing at the same server.

    Args:
        redis: a ``redis.asyncio.Redis`` client (yours: the store never closes it).
        prefix: prepended to every key.
        ttl: how long a processed event is remembered (timedelta or seconds).
        lease: how long an unfinished claim holds the key if its worker dies (renewed every
            third of it while the callback runs).
        redis_timeout: seconds one Redis round trip may take (then ``TimeoutError``).
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "aioprintora:webhook:",
        ttl: timedelta | float = DEFAULT_TTL,
        lease: timedelta | float = DEFAULT_LEASE,
        redis_timeout: float = 1.0,
    ) -> None:
        if redis_timeout <= 0:
            raise ValueError("redis_timeout must be positive")
        self.redis = redis
        self.prefix = prefix
        self.redis_timeout = redis_timeout
        self._ttl_ms = _millis(ttl)
        self._lease_ms = _millis(lease)
        self.lease = self._lease_ms / 1000
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)

    def __repr__(self) -> str:
        return f"<RedisDedupStore prefix={self.prefix!r}>"

    async def claim(self, key: str) -> Claim:
        """Try to take ``key``; see :class:`~aioprintora.webhooks.ClaimState`."""
        token = "claim:" + secrets.token_hex(8)
        result: Any = await self._bounded(
            self._claim(keys=[self.prefix + key], args=[token, self._lease_ms])
        )
        state = _STATES.get(_text(result), ClaimState.IN_PROGRESS)
        return Claim(key, state, token if state is ClaimState.ACQUIRED else "")

    async def commit(self, claim: Claim) -> None:
        """Remember ``claim.key`` as processed for ``ttl``."""
        await self._bounded(self.redis.set(self.prefix + claim.key, _DONE, px=self._ttl_ms))

    async def release(self, claim: Claim) -> None:
        """Delete ``claim.key`` if this claim still holds it."""
        if claim.token:
            await self._bounded(self._release(keys=[self.prefix + claim.key], args=[claim.token]))

    async def renew(self, claim: Claim) -> None:
        """Extend ``claim``'s lease from now, if it still holds the key."""
        if claim.token:
            await self._bounded(
                self._renew(keys=[self.prefix + claim.key], args=[claim.token, self._lease_ms])
            )

    async def _bounded(self, call: Awaitable[Any]) -> Any:
        return await asyncio.wait_for(call, self.redis_timeout)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
