"""A webhook receiver process for the multi-worker Redis test.

``python _receiver_process.py REDIS_URL PREFIX SECRET``: serves the aiohttp receiver on
127.0.0.1 (free port, printed on stdout) with a RedisDedupStore; its callback appends the
event's session id to the Redis list ``PREFIX + "effects"`` after a short pause that widens the
race. Stops when stdin closes.
"""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aioredis
from aiohttp import web

from aioprintora.webhooks import RedisDedupStore, WebhookEvent, webhook_handler


async def main(url: str, prefix: str, secret: str) -> None:
    client = aioredis.from_url(url)
    store = RedisDedupStore(client, prefix=prefix, lease=10)

    async def side_effect(event: WebhookEvent) -> None:
        await asyncio.sleep(0.2)
        await client.rpush(prefix + "effects", event.session_id)

    app = web.Application()
    app.router.add_post("/hook", webhook_handler(secret, side_effect, store=store))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin
    await runner.cleanup()
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
