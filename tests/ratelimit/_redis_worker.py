"""One of several OS processes sharing a RedisRateLimiter (run by test_redis.py).

``python -m tests.ratelimit._redis_worker REDIS_URL KEY SERVER_URL WORKERS SECONDS``: waits until
WORKERS processes are ready, then for SECONDS sends GETs as fast as the limiter allows, through
an aiohttp client middleware that follows the client's contract (acquire, send, observe).
Prints the number of requests it sent.
"""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp
from redis.asyncio import Redis

from aioprintora.ratelimit._local import Window
from aioprintora.ratelimit._redis import RedisRateLimiter

WINDOW = Window(20, 2.0)


async def main(redis_url: str, key: str, server_url: str, workers: int, seconds: float) -> int:
    redis = Redis.from_url(redis_url)
    limiter = RedisRateLimiter(redis, key=key, windows=[WINDOW])

    async def throttle(
        req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        await limiter.acquire()
        response = await handler(req)
        await limiter.observe(response.status, response.headers)
        return response

    sent = 0
    try:
        async with aiohttp.ClientSession(middlewares=(throttle,)) as session:
            async with session.get(server_url + "/ready", middlewares=()) as warm:
                await warm.read()  # a connection in the pool before the start
            ready = await redis.incr(key + ":ready")
            await redis.expire(key + ":ready", 60)
            while ready < workers:
                await asyncio.sleep(0.01)
                ready = int(await redis.get(key + ":ready") or 0)
            stop_at = time.monotonic() + seconds

            async def hit() -> None:
                async with session.get(server_url + "/hit") as response:
                    await response.read()

            async def loop() -> None:
                nonlocal sent
                while (left := stop_at - time.monotonic()) > 0:
                    try:  # a cancelled wait for a token must cost nothing
                        await asyncio.wait_for(hit(), left)
                    except asyncio.TimeoutError:
                        return
                    sent += 1

            await asyncio.gather(loop(), loop())  # two tasks: the in-process line is used too
    finally:
        await limiter.aclose()
        await redis.aclose()
    return sent


if __name__ == "__main__":
    url, key, server, workers, seconds = sys.argv[1:6]
    print(asyncio.run(main(url, key, server, int(workers), float(seconds))))
