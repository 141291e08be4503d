"""Auto-pagination against the sandbox: exactly once under inserts, faults, removals
(RELIABILITY 15, 16), laziness, read-ahead and clean exits."""

from __future__ import annotations

import asyncio

import pytest

from aioprintora import Order, Page, PaginationError, PrintoraClient
from aioprintora.resources import orders as orders_resource
from aioprintora.resources import webhook_logs as logs_resource
from aioprintora.response import RawResponse
from aioprintora.sandbox import Sandbox

from ._leaks import acquired
from ._wait import until
from .conftest import API_KEY, FAST_RETRY, assert_no_acquired
from .scripted import ScriptedServer, ok


async def test_ten_thousand_orders_each_exactly_once(api: PrintoraClient, sandbox: Sandbox) -> None:
    made = await sandbox.seed_orders(10_000)
    pager = api.orders.iter()
    ids = [order.id async for order in pager]
    assert len(ids) == 10_000
    assert set(ids) == {o.id for o in made}
    assert pager.stats.pages >= 100


# Read-ahead on is the default: the next page is read before the drift the test makes.
READ_AHEAD = pytest.mark.parametrize(
    "read_ahead", [True, False], ids=["read-ahead", "no-read-ahead"]
)


@READ_AHEAD
async def test_inserts_at_the_head_while_iterating_make_no_duplicates(
    api: PrintoraClient, sandbox: Sandbox, read_ahead: bool
) -> None:
    made = await sandbox.seed_orders(500)
    seen: list[str] = []
    pager = api.orders.iter(page_size=50, read_ahead=read_ahead)
    async for order in pager:
        seen.append(order.id)
        if len(seen) % 50 == 0:
            await sandbox.seed_orders(50)  # a full page of new orders before each request
    assert len(seen) == len(set(seen))
    assert {o.id for o in made} <= set(seen)
    assert pager.stats.duplicates_skipped > 0


async def test_fifty_new_orders_during_a_ten_thousand_walk(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    made = await sandbox.seed_orders(10_000)
    seen: list[str] = []
    async for order in api.orders.iter():
        seen.append(order.id)
        if len(seen) == 5_000:
            await sandbox.seed_orders(50)
    assert len(seen) == len(set(seen))
    assert {o.id for o in made} <= set(seen)


async def test_injected_faults_lose_nothing(api: PrintoraClient, sandbox: Sandbox) -> None:
    made = await sandbox.seed_orders(10_000)
    sandbox.set_faults(0.2, kinds=("500", "502", "503", "drop"), seed=7)
    # Four faults in a row on one of 100 pages is likely enough at 20%: allow more retries.
    patient = api.with_options(max_retries=10)
    ids = [order.id async for order in patient.orders.iter()]
    sandbox.clear_faults()
    assert sorted(ids) == sorted(o.id for o in made)


@READ_AHEAD
async def test_status_changes_between_pages_are_caught_by_stepping_back(
    api: PrintoraClient, sandbox: Sandbox, read_ahead: bool
) -> None:
    made = await sandbox.seed_orders(300, statuses=["paid"])
    newest_first = [o.id for o in reversed(made)]
    seen: list[str] = []
    pager = api.orders.iter(status="paid", page_size=50, read_ahead=read_ahead)
    async for order in pager:
        seen.append(order.id)
        if len(seen) == 50:
            # Ten orders we already saw leave the "paid" listing: offsets slide back by ten.
            for order_id in newest_first[:10]:
                await sandbox.advance_order(order_id, "processing")
    assert len(seen) == len(set(seen)) == 300
    assert pager.stats.backtracks >= 1


async def test_filters_persist_and_max_items_caps(api: PrintoraClient, sandbox: Sandbox) -> None:
    await sandbox.seed_orders(120, statuses=["paid", "shipped"])
    paid = await api.orders.iter(status="paid", page_size=7).collect()
    assert paid and all(o.status == "paid" for o in paid)
    few = await api.orders.iter(max_items=13, page_size=5).collect()
    assert len(few) == 13


async def test_pages_are_lazy(api: PrintoraClient, sandbox: Sandbox) -> None:
    await sandbox.seed_orders(1_000)
    before = len(sandbox.requests)
    pages = api.orders.pages(page_size=100, read_ahead=False)
    first = await pages.__anext__()
    assert len(first.items) == 100
    assert len(sandbox.requests) == before + 1
    await pages.aclose()


async def test_read_ahead_fetches_the_next_page_early(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    await sandbox.seed_orders(300)
    before = len(sandbox.requests)
    pages = api.orders.pages(page_size=100)
    await pages.__anext__()
    assert len(sandbox.requests) == before + 1  # page 2 is only queued so far
    await until(lambda: len(sandbox.requests) == before + 2, what="the read-ahead request")
    await pages.aclose()


async def test_break_releases_connection_and_read_ahead(sandbox: Sandbox) -> None:
    await sandbox.seed_orders(500)
    async with PrintoraClient(sandbox.api_key, base_url=sandbox.base_url, rate_limit=None) as api:
        async for order in api.orders.iter(page_size=100):
            assert isinstance(order, Order)
            # The read-ahead is queued, not yet sent: its answer will take 30 s, so a connection
            # freed within until()'s bound (far less) was freed by cancelling it.
            sandbox.fail_next(1_000, "delay:30", method="GET", path="/api/v1/partners/orders")
            break
        # No gc.collect(): the pager's read-ahead is cancelled as the pager goes away.
        await until(lambda: acquired(api) == 0, what="the read-ahead released")
        sandbox.clear_faults()
        assert_no_acquired(api)


async def test_breaking_out_of_pages_releases_the_read_ahead(sandbox: Sandbox) -> None:
    await sandbox.seed_orders(500)
    async with PrintoraClient(sandbox.api_key, base_url=sandbox.base_url, rate_limit=None) as api:
        async for page in api.orders.pages(page_size=100):
            assert len(page) == 100
            sandbox.fail_next(1_000, "delay:30", method="GET", path="/api/v1/partners/orders")
            break
        # The pages generator is closed as the loop lets go of it, and its read-ahead with it.
        await until(lambda: acquired(api) == 0, what="the read-ahead released")
        sandbox.clear_faults()
        assert_no_acquired(api)


async def test_cancelling_the_walk_leaks_nothing(sandbox: Sandbox) -> None:
    await sandbox.seed_orders(500)
    async with PrintoraClient(sandbox.api_key, base_url=sandbox.base_url, rate_limit=None) as api:

        async def walk() -> None:
            async for _ in api.orders.iter(page_size=100):
                await asyncio.sleep(0.01)

        task = asyncio.create_task(walk())
        await until(lambda: len(sandbox.requests) >= 2, what="the walk under way")
        sandbox.fail_next(1_000, "delay:30", method="GET", path="/api/v1/partners/orders")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Answers now take 30 s: only cancelling frees the connections within until()'s bound.
        await until(lambda: acquired(api) == 0, what="the walk's connections released")
        assert_no_acquired(api)


async def test_webhook_logs_iterate_with_filters(api: PrintoraClient, sandbox: Sandbox) -> None:
    for _ in range(3):
        session = await api.sessions.create(
            image_url="https://img.example/a.png",
            success_url="https://s.example/ok",
            failed_url="https://s.example/no",
        )
        await sandbox.simulate_checkout(session.id)
    logs = await api.webhook_logs.iter(event_type="order.created", page_size=2).collect()
    assert len(logs) == 3
    assert len({log.id for log in logs}) == 3


async def test_a_server_repeating_a_page_stops_with_an_error(scripted: ScriptedServer) -> None:
    orders = [
        {"id": f"o{i}", "status": "paid", "createdAt": f"2026-01-01T00:00:{59 - i:02d}Z"}
        for i in range(3)
    ]
    page = {"orders": orders, "pagination": {"total": 10, "limit": 3, "offset": 0, "hasMore": True}}
    scripted.default = lambda _: ok(page)
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, retry=FAST_RETRY
    ) as api:
        with pytest.raises(PaginationError):
            await api.orders.iter(page_size=3).collect()
    assert len(scripted.seen) == 2


def test_bad_page_size_fails_at_once() -> None:
    api = PrintoraClient(API_KEY, base_url="http://127.0.0.1:1", rate_limit=None)
    with pytest.raises(ValueError, match="limit"):
        api.orders.iter(page_size=101)
    with pytest.raises(ValueError, match="status"):
        api.orders.iter(status="Lost Orders")


# -- one listing object: await, async for, pages() -------------------------------------------------


async def test_one_listing_is_a_page_awaited_and_every_item_walked(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    await sandbox.seed_orders(50)
    everything = [order.id async for order in api.orders.iter()]
    listing = api.orders.list(limit=10, offset=5)
    before = len(sandbox.requests)
    page = await listing  # one request: the page the listing names
    assert [order.id for order in page] == everything[5:15]
    assert len(sandbox.requests) == before + 1
    assert [order.id for order in await listing] == everything[5:15]  # and again
    # Walked: from its offset on, in requests of its limit, each item once.
    walked = [order.id async for order in api.orders.list(limit=10, offset=5)]
    assert walked == everything[5:]
    before = len(sandbox.requests)
    pages = [found async for found in listing.pages()]
    assert [order.id for found in pages for order in found] == everything[5:]
    asked = [(r.query["offset"], r.query["limit"]) for r in list(sandbox.requests)[before:]]
    assert asked == [("5", "10"), ("14", "10"), ("23", "10"), ("32", "10"), ("41", "10")]
    assert listing.stats.pages == len(pages) == 5
    assert listing.stats.items == 45
    assert [order.id async for order in listing] == []  # a listing walks once


async def test_a_listing_is_also_a_coroutine_for_tasks_and_gather(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    await sandbox.seed_orders(3)
    task = asyncio.create_task(api.orders.list(limit=2))
    both = await asyncio.gather(api.orders.list(limit=1), api.webhook_logs.list())
    assert len(await asyncio.wait_for(task, 10)) == 2
    assert len(both[0]) == 1


async def test_the_raw_twin_of_list_still_answers_a_raw_response(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    await sandbox.seed_orders(3)
    raw = await api.orders.with_raw_response.list(limit=2)
    assert isinstance(raw, RawResponse)
    assert raw.status_code == 200
    assert [order.id for order in raw.parse()] == [o.id for o in await api.orders.list(limit=2)]
    logs = await api.webhook_logs.with_raw_response.list(event_type="order.paid")
    assert isinstance(logs, RawResponse)
    assert isinstance(await api.webhook_logs.list(), Page)  # the twin's context is gone


async def test_a_bad_argument_fails_at_the_call_before_any_request(
    scripted: ScriptedServer,
) -> None:
    async with PrintoraClient(API_KEY, base_url=scripted.base_url, rate_limit=None) as api:
        with pytest.raises(ValueError, match="limit"):
            api.orders.list(limit=0)  # not awaited: the call itself refuses it
        with pytest.raises(ValueError, match="event_type"):
            api.webhook_logs.list(event_type="order.Lost")
        with pytest.raises(ValueError, match="max_items"):
            api.orders.iter(max_items=-1)
        with pytest.raises(ValueError, match="limit"):
            api.orders.pages(page_size=0)
        with pytest.raises(ValueError, match="offset"):
            api.orders.list(offset=-1)
    assert scripted.seen == []


@pytest.mark.parametrize("listing", ["orders", "webhook_logs"])
async def test_parameters_are_validated_once_per_listing_not_per_page(
    api: PrintoraClient, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, listing: str
) -> None:
    await sandbox.seed_orders(15, ["paid"], webhooks=True)
    module = orders_resource if listing == "orders" else logs_resource
    name = "order_params" if listing == "orders" else "log_params"
    calls: list[object] = []
    validate = getattr(module, name)

    def counted(*args: object) -> object:
        calls.append(args)
        return validate(*args)

    monkeypatch.setattr(module, name, counted)
    walk = getattr(api, listing).iter(page_size=5)
    found = [entry async for entry in walk]
    assert walk.stats.pages >= 3
    assert len(found) >= 10
    assert len(calls) == 1
