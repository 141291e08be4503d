"""One of several OS processes whose PrintoraClients share a RedisRateLimiter (test_limits.py).

``python -m tests._client_worker REDIS_URL KEY BASE_URL API_KEY WORKERS CALLS``: waits until
WORKERS processes are ready, makes CALLS ``orders.list`` calls (4 at a time), and prints a JSON
line ``{"ok": n, "errors": [...], "started": t0, "finished": t1}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from redis.asyncio import Redis

from aioprintora import PrintoraClient, PrintoraError, RetryPolicy
from aioprintora.ratelimit._local import Window
from aioprintora.ratelimit._redis import RedisRateLimiter

# No slack on the server's 20 per 2 s: slots stay held until their answers arrive.
WINDOW = Window(20, 2.0)


async def main(argv: list[str]) -> None:
    redis_url, key, base_url, api_key = argv[:4]
    workers, calls = int(argv[4]), int(argv[5])
    redis = Redis.from_url(redis_url)
    limiter = RedisRateLimiter(redis, key=key, windows=[WINDOW])
    ok, errors = 0, []
    try:
        async with PrintoraClient(
            api_key, base_url=base_url, rate_limit=limiter, retry=RetryPolicy(deadline=60.0)
        ) as client:
            ready = await redis.incr(key + ":ready")
            await redis.expire(key + ":ready", 60)
            while ready < workers:
                await asyncio.sleep(0.01)
                ready = int(await redis.get(key + ":ready") or 0)
            started = time.time()  # wall clock: comparable across the worker processes
            todo = iter(range(calls))

            async def run() -> None:
                nonlocal ok
                for _ in todo:
                    try:
                        await client.orders.list(limit=1)
                        ok += 1
                    except PrintoraError as exc:
                        errors.append(repr(exc))

            await asyncio.gather(*(run() for _ in range(4)))
            finished = time.time()
    finally:
        await limiter.aclose()
        await redis.aclose()
    print(json.dumps({"ok": ok, "errors": errors, "started": started, "finished": finished}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
