"""OrderSync(webhooks=True): records from a real receiver, reconciled with the sandbox's logs."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from aioprintora import PrintoraClient
from aioprintora.jobs._store import AccountMismatchError, RecordStore, SQLiteStore, StoreLike
from aioprintora.jobs._store_redis import RedisStore
from aioprintora.jobs._sync import OrderSync, WebhookLogOrderError
from aioprintora.sandbox import Sandbox
from aioprintora.webhooks import WebhookEvent, construct_event

from ._loopback import serve
from ._redis_server import redis_url  # noqa: F401
from ._sync_moves import NEXT, Clock, move, moves, sandbox_settings
from .conftest import FAST_RETRY

Handler = Callable[[WebhookEvent, int], Awaitable[int]]


@contextlib.asynccontextmanager
async def receiver(sb: Sandbox, handle: Handler) -> AsyncIterator[None]:
    """A webhook endpoint on loopback: verifies, then ``handle(event, attempt)`` sets the status."""
    attempts: dict[tuple[str, str], int] = {}

    async def post(request: web.Request) -> web.Response:
        event = construct_event(
            await request.read(), request.headers.get("X-Printora-Signature"), sb.webhook_secret
        )
        n = attempts[event.dedup_key] = attempts.get(event.dedup_key, 0) + 1
        return web.json_response({}, status=await handle(event, n))

    app = web.Application()
    app.router.add_post("/hook", post)
    async with serve(app) as url:
        sb.set_webhook_url(f"{url}/hook")
        yield


def oracle(sb: Sandbox) -> dict[str, str]:
    return {o.id: o.status.value for o in sb.orders()}


async def run(sync: OrderSync) -> list[tuple[str, str]]:
    return [(o.id, str(o.status)) async for o in sync]


async def test_a_webhook_fed_run_yields_records_and_reconciles_in_three_requests(
    tmp_path: Path,
) -> None:
    clock = Clock()
    state = tmp_path / "sync.sqlite"
    async with (
        Sandbox(rate_limits=None, clock=clock, webhook_time_scale=1e-5) as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None, retry=FAST_RETRY) as api,
        contextlib.AsyncExitStack() as stack,
    ):
        await sb.seed_orders(300, ["delivered", "pending", "paid", "processing", "shipped"])
        listener = OrderSync(api, state=state, webhooks=True)
        lose: set[tuple[str | None, str]] = set()

        async def handle(event: WebhookEvent, attempt: int) -> int:
            if (event.order_id, str(event.event_type)) in lose:
                return 500  # every attempt fails: Printora gives up, the log says "failed"
            await listener.record(event)
            return 200

        await stack.enter_async_context(receiver(sb, handle))
        first = OrderSync(api, state=state, webhooks=True)
        assert len(await run(first)) == 300 and first.full_run
        assert ("webhook-logs", 1) in first.listings  # the mark, read before the walk

        clock.now += 60
        fresh = await sb.seed_orders(5, ["pending"], webhooks=True)
        flight = [o for o in sb.orders() if o.status.value in NEXT and o not in fresh]
        for order in flight[:20]:
            await sb.advance_order(order.id, NEXT[order.status.value])
        await sb.wait_for_deliveries(timeout=5)
        second = OrderSync(api, state=state, webhooks=True)
        got = await run(second)
        want = oracle(sb)
        assert sorted(got) == sorted((o.id, want[o.id]) for o in [*fresh, *flight[:20]])
        assert second.recorded > 0 and not second.full_run
        # One log page, the processing listing: nothing else.
        assert second.requests == 2, second.listings
        # Nothing changed: nothing yielded, and the records are gone from the state.
        third = OrderSync(api, state=state, webhooks=True)
        assert await run(third) == [] and third.recorded == 0
        assert await SQLiteStore(state, "order-sync").scan("rec:") == {}

        # Lost deliveries: a new order (its fields read from the head of the listing) and a
        # known order's payment (its fields from what the state kept of it).
        clock.now += 60
        payable = next(o for o in sb.orders() if o.status.value == "pending")
        lose.add((payable.id, "order.paid"))
        await sb.advance_order(payable.id, "paid")
        (lost_new,) = await sb.seed_orders(1, ["pending"], webhooks=True)
        lose.add((lost_new.id, "order.created"))  # before its delivery task first runs
        await sb.wait_for_deliveries(timeout=5)
        assert {log.status.value for log in sb.webhook_logs()[:2]} == {"failed"}
        fourth = OrderSync(api, state=state, webhooks=True)
        got_orders = {o.id: o async for o in fourth}
        assert {k: str(o.status) for k, o in got_orders.items()} == {
            lost_new.id: "pending",
            payable.id: "paid",
        }
        assert got_orders[payable.id].total_amount is not None  # from the kept row
        assert got_orders[lost_new.id].order_number == lost_new.order_number  # from the listing
        assert [name for name, _ in fourth.listings] == ["webhook-logs", "processing", "all"]
        assert fourth.requests == 3


async def test_logs_not_newest_first_stop_the_run_before_any_commit(tmp_path: Path) -> None:
    entries = [
        {
            "id": f"log-{i}",
            "eventType": "order.paid",
            "status": "sent",
            "orderId": f"o{i}",
            "createdAt": f"2026-12-0{i}T10:00:00Z",
        }
        for i in (1, 2)
    ]  # oldest first

    async def logs(request: web.Request) -> web.Response:
        page = {"total": 2, "limit": 100, "offset": 0, "hasMore": False}
        return web.json_response({"success": True, "data": {"logs": entries, "pagination": page}})

    app = web.Application()
    app.router.add_get("/api/v1/partners/webhook-logs", logs)
    state = tmp_path / "sync.sqlite"
    async with (
        serve(app) as url,
        PrintoraClient("sk_test_x", base_url=url, rate_limit=None, retry=FAST_RETRY) as api,
    ):
        sync = OrderSync(api, state=state, webhooks=True)
        with pytest.raises(WebhookLogOrderError, match="newest first") as caught:
            await run(sync)
        assert "log-2" in str(caught.value) and not sync.complete
    assert await SQLiteStore(state, "order-sync").get_many(["state"]) == {}


async def _recorded_during_a_run_is_kept(
    where: StoreLike, sb: Sandbox, api: PrintoraClient
) -> None:
    """The listener records while the cron's run is between yields and then commits."""
    sync = OrderSync(api, state=where, webhooks=True)
    assert len(await run(sync)) == 20
    listener = OrderSync(api, state=where, webhooks=True)
    moved = [o for o in sb.orders() if o.status.value == "pending"][:2]
    await sb.advance_order(moved[0].id, "paid")
    await listener.record(_event(sb, moved[0].id, "order.paid"))
    cron = OrderSync(api, state=where, webhooks=True)
    got = []
    async for order in cron:
        got.append(order.id)
        # Another writer, meanwhile: the run's commit must not overwrite this record.
        await sb.advance_order(moved[1].id, "paid")
        await listener.record(_event(sb, moved[1].id, "order.paid"))
    assert got == [moved[0].id] and cron.complete
    nxt = OrderSync(api, state=where, webhooks=True)
    assert await run(nxt) == [(moved[1].id, "paid")]
    await listener.aclose()


def _event(sb: Sandbox, order_id: str, event: str) -> WebhookEvent:
    from aioprintora._models import EventType
    from aioprintora.sandbox._payloads import build_payload
    from aioprintora.webhooks import parse_event

    _, order = sb.world.find_order(order_id)
    return parse_event(build_payload(order, EventType(event), sb.world.clock(), "example"))


async def test_an_event_recorded_during_a_run_survives_its_commit_sqlite(tmp_path: Path) -> None:
    async with (
        Sandbox(rate_limits=None) as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None, retry=FAST_RETRY) as api,
    ):
        await sb.seed_orders(20, ["pending"])
        await _recorded_during_a_run_is_kept(tmp_path / "s.sqlite", sb, api)


@pytest.mark.redis
async def test_an_event_recorded_during_a_run_survives_its_commit_redis(
    redis_url: str,  # noqa: F811
) -> None:
    async with (
        Sandbox(rate_limits=None) as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None, retry=FAST_RETRY) as api,
        redis_store(redis_url) as store,
    ):
        await sb.seed_orders(20, ["pending"])
        await _recorded_during_a_run_is_kept(store, sb, api)


@contextlib.asynccontextmanager
async def redis_store(url: str) -> AsyncIterator[RedisStore]:
    """A RedisStore in a hash of its own, deleted afterwards."""
    import redis.asyncio as aioredis

    conn = aioredis.from_url(url)
    name = f"aioprintora-test:{uuid.uuid4()}"
    try:
        yield RedisStore(conn, name)
    finally:
        await conn.delete(name)
        await conn.aclose()


async def test_record_refuses_a_state_of_another_account(tmp_path: Path) -> None:
    state = tmp_path / "s.sqlite"
    async with Sandbox(rate_limits=None) as sb:
        other = sb.add_partner()
        await sb.seed_orders(3, ["pending"])
        async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None) as api:
            assert len(await run(OrderSync(api, state=state, webhooks=True))) == 3
            event = _event(sb, sb.orders()[0].id, "order.paid")
        async with PrintoraClient(other.api_key, base_url=sb.base_url, rate_limit=None) as api:
            theirs = OrderSync(api, state=state, webhooks=True)
            with pytest.raises(AccountMismatchError, match="full=True"):
                await theirs.record(event)
            await theirs.aclose()
        assert await SQLiteStore(state, "order-sync").scan("rec:") == {}


FATES = ("ok", "lose", "crash", "crash_after", "drop", "dup")


@pytest.mark.slow
@sandbox_settings(12)
@given(
    script=st.lists(
        st.tuples(
            st.integers(0, 3),  # new orders (checkouts, each with its order.created) before the run
            moves(6),
            st.booleans(),  # wait for deliveries first (else some are delayed past the run)
            st.integers(0, 2),  # changes during the run after this many yields (0: none)
            st.booleans(),  # cut the run short
            st.booleans(),  # a full run (the weekly safety net)
        ),
        min_size=2,
        max_size=4,
    ),
    fates=st.lists(st.sampled_from(FATES), min_size=1, max_size=10),
)
async def test_property_nothing_missed_nothing_twice(tmp_path_factory, script, fates) -> None:  # type: ignore[no-untyped-def]
    """Deliveries lost, failing then retried (reordered, delayed past a run), duplicated, or
    crashing the receiver before or after ``record`` returns: after every complete run, each
    order not changed during it has, as last yielded, the status a full walk shows."""
    clock = Clock()
    state = tmp_path_factory.mktemp("sync") / "state.sqlite"
    async with (
        Sandbox(rate_limits=None, clock=clock, webhook_time_scale=1e-5) as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None, retry=FAST_RETRY) as api,
        contextlib.AsyncExitStack() as stack,
    ):
        listener = OrderSync(api, state=state, webhooks=True)
        stack.push_async_callback(listener.aclose)
        fate_of: dict[tuple[str, str], str] = {}

        async def handle(event: WebhookEvent, attempt: int) -> int:
            fate = fate_of.setdefault(event.dedup_key, fates[len(fate_of) % len(fates)])
            if fate == "lose" or (fate == "crash" and attempt == 1):
                return 500  # the receiver died before record returned
            if fate == "drop":
                return 200  # answered, never recorded: only the logs can tell
            await listener.record(event)
            if fate == "dup":
                await listener.record(event)
            return 500 if fate == "crash_after" and attempt == 1 else 200

        await stack.enter_async_context(receiver(sb, handle))
        await sb.seed_orders(30, ["pending", "paid", "processing", "shipped", "delivered"])
        view = dict(await run(OrderSync(api, state=state, webhooks=True)))
        assert view == oracle(sb)

        for new, moves, wait, during, cut, full in [*script, (0, [], True, 0, False, False)]:
            clock.now += 600
            if new:
                await sb.seed_orders(new, ["pending"], webhooks=True)
            for pick, how in moves:
                await move(sb, clock, pick, how)
            if wait:
                await sb.wait_for_deliveries(timeout=10)
            before = oracle(sb)
            sync = OrderSync(api, state=state, webhooks=True, full=full)
            got: list[tuple[str, str]] = []
            async for order in sync:
                got.append((order.id, str(order.status)))
                if len(got) == during:
                    clock.now += 1
                    await sb.seed_orders(1, ["pending"], webhooks=True)
                    await move(sb, clock, len(got) * 31, "next")
                if cut:
                    break
            await sync.aclose()
            if cut and got:
                assert not sync.complete
                continue
            assert sync.complete and sync.full_run == full
            ids = [k for k, _ in got]
            assert len(ids) == len(set(ids)), "an order yielded twice in one run"
            again = [(k, s) for k, s in got if view.get(k) == s]
            assert not again, f"yielded with a status an earlier run already yielded: {again}"
            view.update(got)
            after = oracle(sb)
            stale = {k: (view.get(k), v) for k, v in before.items() if after[k] == v != view.get(k)}
            assert not stale, stale
        await sb.wait_for_deliveries(timeout=10)
        final = OrderSync(api, state=state, webhooks=True)
        view.update(await run(final))
        assert view == oracle(sb)


async def _scan_and_update(store: RecordStore) -> None:
    await store.put_many({"rec:a": b"1", "rec:b*": b"2", "rec;c": b"3", "re": b"4", "state": b"s"})
    assert await store.scan("rec:") == {"rec:a": b"1", "rec:b*": b"2"}
    assert await store.scan("rec:b*") == {"rec:b*": b"2"}  # a glob character is literal
    await store.update({"state": b"t"}, ["rec:a", "rec:b*", "rec:never"])
    assert await store.scan("rec") == {"rec;c": b"3"}
    assert await store.get_many(["state", "re"]) == {"state": b"t", "re": b"4"}


async def test_the_sqlite_store_scans_by_prefix_and_updates_in_one_write(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite", "sync")
    assert isinstance(store, RecordStore)
    await _scan_and_update(store)
    await store.aclose()


@pytest.mark.redis
async def test_the_redis_store_scans_by_prefix_and_updates_in_one_write(
    redis_url: str,  # noqa: F811
) -> None:
    async with redis_store(redis_url) as store:
        assert isinstance(store, RecordStore)
        await _scan_and_update(store)


_RECORDER = """
import asyncio, sys
from aioprintora import PrintoraClient
from aioprintora.jobs._sync import OrderSync
from aioprintora.webhooks import parse_event

async def main():
    key, url, where, *ids = sys.argv[1:]
    conn = None
    if where.startswith("redis://"):  # redis://host:port/db#hash
        import redis.asyncio as aioredis
        from aioprintora.jobs._store_redis import RedisStore
        server, _, name = where.partition("#")
        conn = aioredis.from_url(server)
        where = RedisStore(conn, name)
    async with PrintoraClient(key, base_url=url, rate_limit=None) as client:
        sync = OrderSync(client, state=where, webhooks=True)
        for i in ids:
            event = parse_event({
                "sessionId": f"s{i}", "event": "order.paid", "timestamp": "2026-12-01T10:00:00Z",
                "data": {"orderId": i, "status": "paid", "currency": "USD"},
            })
            await sync.record(event)
        await sync.aclose()
    if conn is not None:
        await conn.aclose()

asyncio.run(main())
"""


async def _two_processes_lose_nothing(state: StoreLike, where: str) -> None:
    """Another process records 300 payments into ``where`` while this one runs and commits
    sync after sync on ``state`` (the same store): each is yielded by exactly one complete run."""
    async with (
        Sandbox(rate_limits=None) as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None, retry=FAST_RETRY) as api,
    ):
        ids = [o.id for o in await sb.seed_orders(300, ["pending"])]
        assert len(await run(OrderSync(api, state=state, webhooks=True))) == 300
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _RECORDER, sb.api_key, sb.base_url, where, *ids,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        seen: list[str] = []
        runs = 0
        while proc.returncode is None:
            seen += [k for k, _ in await run(OrderSync(api, state=state, webhooks=True))]
            runs += 1
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
        seen += [k for k, _ in await run(OrderSync(api, state=state, webhooks=True))]
        assert sorted(seen) == sorted(ids)  # each once, none lost
        assert runs > 1


async def test_a_listener_process_and_runs_on_one_sqlite_file_lose_nothing(
    tmp_path: Path,
) -> None:
    state = tmp_path / "s.sqlite"
    await _two_processes_lose_nothing(state, str(state))


@pytest.mark.redis
async def test_a_listener_process_and_runs_on_one_redis_hash_lose_nothing(
    redis_url: str,  # noqa: F811
) -> None:
    async with redis_store(redis_url) as store:
        await _two_processes_lose_nothing(store, f"{redis_url}#{store.name}")
