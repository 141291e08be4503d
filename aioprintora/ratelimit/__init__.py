"""Rate limiting: the limiters the client holds a slot of before every attempt.

- :class:`RateLimiter`: the exact sliding-log limiter of one process (the default).
- :class:`TokenBucket`: a token bucket, for a limiter shaped like the server's.
- :class:`RedisRateLimiter`: the same windows shared by every process using one key
  (``pip install 'aioprintora[redis]'``; redis is imported only when you read the name).
- :class:`Limiter` / :class:`SlotLimiter`: the protocols a limiter of your own provides.
"""

from __future__ import annotations

import typing

from .._lazy import exports as _exports

if typing.TYPE_CHECKING:
    from ._bucket import TokenBucket
    from ._local import Limiter, RateLimiter, SlotLimiter
    from ._redis import RedisRateLimiter, redis_key_for
    from ._window import DEFAULT_WINDOWS, Window

#: Where each public name lives.
_HOMES: dict[str, str] = {
    "DEFAULT_WINDOWS": "_window",
    "Window": "_window",
    "Limiter": "_local",
    "RateLimiter": "_local",
    "SlotLimiter": "_local",
    "TokenBucket": "_bucket",
    "RedisRateLimiter": "_redis",
    "redis_key_for": "_redis",
}

__getattr__, __dir__ = _exports(__name__, _HOMES, globals())

__all__ = [
    "DEFAULT_WINDOWS",
    "Limiter",
    "RateLimiter",
    "RedisRateLimiter",
    "SlotLimiter",
    "TokenBucket",
    "Window",
    "redis_key_for",
]
