"""OrderSync(state=...): incremental runs against the sandbox, checked by a full-walk oracle."""

from __future__ import annotations

import enum
from datetime import datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from aioprintora import PrintoraClient
from aioprintora.jobs._sync import OrderSync
from aioprintora.sandbox import Sandbox
from aioprintora.sandbox._wire import iso

from ._sync_moves import Clock, move, moves, sandbox_settings
from .conftest import FAST_RETRY


def snapshot(sb: Sandbox) -> dict[str, tuple[str, float]]:
    """The oracle: every order's (status, updatedAt), read straight from the sandbox."""
    return {o.id: (o.status.value, _wire_time(o.updated_at)) for o in sb.orders()}


def _wire_time(ts: float) -> datetime:
    return datetime.fromisoformat(iso(ts).replace("Z", "+00:00"))


async def test_an_incremental_run_reads_only_what_changed(tmp_path: Path) -> None:
    clock = Clock()
    async with (
        Sandbox(rate_limits=None, clock=clock) as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None, retry=FAST_RETRY) as api,
    ):
        for _ in range(10):
            clock.now += 3600
            await sb.seed_orders(100, ["delivered", "cancelled"])
        for status in ("shipped", "paid", "pending"):
            clock.now += 3600
            await sb.seed_orders(30, [status])
        state = tmp_path / "sync.sqlite"
        first = OrderSync(api, state=state)
        assert len([o async for o in first]) == 1_090 and first.full_run
        again = OrderSync(api, state=state)
        assert [o async for o in again] == [] and not again.full_run
        assert again.requests <= 6  # new orders, four in-flight listings, nothing missing

        clock.now += 60
        movers = [o for o in sb.orders() if o.status.value in ("shipped", "paid")][:4]
        for order in movers:
            await sb.advance_order(order.id, "delivered")
        clock.now += 60
        fresh = await sb.seed_orders(3)
        third = OrderSync(api, state=state)
        got = [o.id async for o in third]
        assert sorted(got) == sorted([o.id for o in movers] + [o.id for o in fresh])
        assert not third.full_run
        assert third.requests < 20  # far from the 12 requests of one full walk... per listing

        # A run cut short commits nothing: the next one yields the same again.
        clock.now += 60
        await sb.advance_order(
            next(o for o in sb.orders() if o.status.value == "pending").id, "paid"
        )
        cut = OrderSync(api, state=state)
        async for _ in cut:
            break
        await cut.aclose()
        assert not cut.complete
        whole = OrderSync(api, state=state)
        assert len([o async for o in whole]) == 1 and whole.complete


async def test_a_status_the_sdk_does_not_know_makes_the_run_full(tmp_path: Path) -> None:
    clock = Clock()
    async with (
        Sandbox(rate_limits=None, clock=clock) as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None, retry=FAST_RETRY) as api,
    ):
        made = await sb.seed_orders(20, ["paid"])
        clock.now += 3600  # newer orders, so the first 20 are below the overlap window
        await sb.seed_orders(5, ["delivered"])
        state = tmp_path / "sync.sqlite"
        assert len([o async for o in OrderSync(api, state=state)]) == 25
        clock.now += 60
        partner, record = sb.world.find_order(made[3].id)
        # A status from the future, set the way the sandbox sets any status.
        future = enum.Enum("Future", {"ON_HOLD": "on_hold"}).ON_HOLD  # type: ignore[attr-defined]
        partner.state.set_order_status(record, future, clock.now)
        sync = OrderSync(api, state=state)
        got = [o async for o in sync]
        assert [o.id for o in got] == [made[3].id] and sync.full_run


@sandbox_settings(40)
@given(
    script=st.lists(
        st.tuples(
            st.integers(0, 6),  # new orders before the run
            moves(8),
            st.integers(0, 3),  # changes during the run, after this many orders yielded
            st.booleans(),  # cut the run short
            st.booleans(),  # full run
        ),
        min_size=2,
        max_size=5,
    )
)
async def test_property_no_change_before_a_run_is_missed(tmp_path_factory, script) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    state = tmp_path_factory.mktemp("sync") / "state.sqlite"
    async with (
        Sandbox(rate_limits=None, clock=clock) as sb,
        PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None, retry=FAST_RETRY) as api,
    ):
        await sb.seed_orders(60, ["pending", "paid", "processing", "shipped", "delivered"])
        committed = {}  # the oracle as of the start of the last complete run

        for new, moves, during, cut, full in script:
            clock.now += 600
            if new:
                await sb.seed_orders(new)
            for pick, how in moves:
                await move(sb, clock, pick, how)
            clock.now += 1
            before = snapshot(sb)
            expected = {k for k, v in before.items() if committed.get(k) != v}
            sync = OrderSync(api, state=state, full=full, page_size=7, overlap=_overlap())
            got: list[str] = []
            seen: dict[str, tuple[str, datetime]] = {}
            async for order in sync:
                got.append(order.id)
                assert order.updated_at is not None
                seen[order.id] = (str(order.status), order.updated_at)
                if len(got) == during:
                    await sb.seed_orders(1)
                    await move(sb, clock, len(got) * 31, "next")
                if cut and len(got) >= 1:
                    break
            await sync.aclose()
            if cut and got:
                assert not sync.complete
                continue
            assert sync.complete
            # Exactly once per complete run, and nothing that changed before it started is missed.
            assert len(got) == len(set(got))
            assert expected <= set(got), sorted(expected - set(got))[:3]
            after = snapshot(sb)
            # Anything else it yielded changed during the run.
            assert all(before.get(k) != after.get(k) or k in expected for k in got)
            # The oracle's next baseline: what was yielded, else what held before the run; an
            # order that changed during the run without being yielded must come out next time.
            committed = {**before, **seen}
            for k in list(committed):
                if k not in seen and after.get(k) != before.get(k):
                    committed.pop(k)


def _overlap():  # type: ignore[no-untyped-def]
    from datetime import timedelta

    return timedelta(seconds=30)
