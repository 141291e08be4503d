"""Enqueuing an import: deterministic chunk jobs, checked before anything is queued."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from aioprintora.jobs._imports import SessionRequest
from aioprintora.workers import enqueue_import, import_id_for, import_status
from tests._redis_server import RedisServer
from tests.cli._run import run

from ._stack import rows_file

pytestmark = pytest.mark.redis


#: A valid request's fields: a SessionRequest with bad ones is refused when built (issue 23).
_VALID = {
    "image_url": "https://cdn.example.com/x.png",
    "success_url": "https://shop.example.com/ok",
    "failed_url": "https://shop.example.com/no",
}


def _requests(count: int, tag: str) -> list[SessionRequest]:
    return [
        SessionRequest(
            ref=f"{tag}-{i}",
            image_url=f"https://cdn.example.com/{i}.png",
            success_url="https://shop.example.com/ok",
            failed_url="https://shop.example.com/no",
        )
        for i in range(count)
    ]


@pytest.fixture
def queue_name() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_enqueuing_twice_adds_nothing(redis_url: str, redis: Redis, queue_name: str) -> None:
    requests = _requests(25, uuid.uuid4().hex)
    first = await enqueue_import(redis_url, requests, chunk_size=10, queue_name=queue_name)
    queued = await redis.lrange(f"saq:{queue_name}:queued", 0, -1)
    second = await enqueue_import(redis_url, iter(requests), chunk_size=10, queue_name=queue_name)
    assert first == second == import_id_for(requests)
    assert await redis.lrange(f"saq:{queue_name}:queued", 0, -1) == queued
    assert sorted(queued) == [f"saq:job:{queue_name}:import:{first}:{n}".encode() for n in range(3)]
    status = await import_status(redis_url, first)
    assert (status.total, status.chunks, status.done, status.finished) == (25, 3, 0, False)


async def test_the_id_follows_the_content(redis_url: str) -> None:
    requests = _requests(3, "same")
    changed = [*requests[:2], SessionRequest(ref="same-2", **_VALID)]
    assert import_id_for(requests) == import_id_for(list(requests))
    assert import_id_for(requests) != import_id_for(changed)
    assert import_id_for(requests) != import_id_for(requests[::-1])


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([SessionRequest(**_VALID)], "ref on every row"),
        ([SessionRequest(ref="x", **_VALID)] * 2, "appears twice"),
        ([], "no rows"),
    ],
)
async def test_bad_rows_queue_nothing(
    redis_url: str, redis: Redis, queue_name: str, requests: list[SessionRequest], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await enqueue_import(redis_url, requests, queue_name=queue_name)
    assert await redis.keys(f"saq:{queue_name}:*") == []


async def test_unknown_import_is_a_lookup_error(redis_url: str) -> None:
    with pytest.raises(LookupError):
        await import_status(redis_url, "nosuchimport")


async def test_cli_queue_and_status(
    redis_server_factory: Callable[[], RedisServer], tmp_path: Path
) -> None:
    server = redis_server_factory()
    rows = rows_file(tmp_path / "rows.csv", 12)
    env = {"PRINTORA_REDIS_URL": server.url, "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    queued = await run("sessions", "import", str(rows), "--queue", "--chunk-size", "5", env=env)
    assert queued.code == 0, queued.err
    import_id = queued.out.strip()
    running = await run("jobs", "status", import_id, "--redis-url", server.url, env=env)
    assert running.code == 3  # queued, no worker yet
    assert "0 of 12 rows" in running.err and "0 of 3 chunks" in running.err
    unknown = await run("jobs", "status", "nope", env=env)
    assert unknown.code == 2 and "no queued import" in unknown.err

    bad = tmp_path / "bad.csv"
    bad.write_text(rows.read_text() + "row-00001,https://x/1.png,https://a,https://b\n")
    refused = await run("sessions", "import", str(bad), "--queue", env=env)
    assert refused.code == 2 and "appears twice" in refused.err
    without = await run("sessions", "import", str(rows), "--queue", env={"PATH": "/usr/bin"})
    assert without.code == 2 and "PRINTORA_REDIS_URL" in without.err
    both = await run("sessions", "import", str(rows), "--queue", "--journal", "j.db", env=env)
    assert both.code == 2
