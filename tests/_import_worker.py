"""The child of the kill-an-import test: ``python -m tests._import_worker URL KEY N JOURNAL``."""

from __future__ import annotations

import asyncio
import sys

from aioprintora import PrintoraClient
from aioprintora.jobs._imports import Progress, SessionRequest
from aioprintora.ratelimit._local import Window


def rows(n: int) -> list[SessionRequest]:
    return [
        SessionRequest(
            ref=f"cart-{i}",
            image_url=f"https://img.example/{i}.png",
            success_url="https://shop.example/ok",
            failed_url="https://shop.example/failed",
        )
        for i in range(n)
    ]


async def main(base_url: str, key: str, n: int, journal: str) -> None:
    def progress(p: Progress) -> None:
        if p.result is not None:
            print(p.done, flush=True)

    # Paced, so the parent can kill it half way.
    async with PrintoraClient(key, base_url=base_url, rate_limit=[Window(10, 0.5)]) as client:
        results = await client.sessions.create_many(
            rows(n), concurrency=4, journal=journal, on_progress=progress
        )
    print("journaled", sum(r.journaled for r in results), "ok", sum(r.ok for r in results))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
