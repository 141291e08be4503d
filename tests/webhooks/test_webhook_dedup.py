"""MemoryDedupStore: claim → commit/release semantics, leases, ttl and the size bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioprintora.webhooks import ClaimState, DedupStore, MemoryDedupStore, RedisDedupStore
from aioprintora.webhooks._dedup import dedup_key_string


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryDedupStore:
    return MemoryDedupStore(ttl=60, lease=5, max_entries=3, clock=clock)


async def test_first_claim_acquires_then_others_see_in_progress(store: MemoryDedupStore) -> None:
    first = await store.claim("k")
    assert first.state is ClaimState.ACQUIRED
    assert first.token
    second = await store.claim("k")
    assert second.state is ClaimState.IN_PROGRESS
    assert not second.token


async def test_commit_makes_later_claims_duplicates_until_ttl(
    store: MemoryDedupStore, clock: FakeClock
) -> None:
    await store.commit(await store.claim("k"))
    assert (await store.claim("k")).state is ClaimState.DONE
    clock.now += 59
    assert (await store.claim("k")).state is ClaimState.DONE
    clock.now += 2
    assert (await store.claim("k")).state is ClaimState.ACQUIRED


async def test_release_lets_the_next_delivery_run(store: MemoryDedupStore) -> None:
    claim = await store.claim("k")
    await store.release(claim)
    assert (await store.claim("k")).state is ClaimState.ACQUIRED


async def test_stale_release_does_not_drop_someone_elses_claim(
    store: MemoryDedupStore, clock: FakeClock
) -> None:
    slow = await store.claim("k")
    clock.now += 6  # slow's lease lapsed; another delivery takes over
    fast = await store.claim("k")
    assert fast.state is ClaimState.ACQUIRED
    await store.release(slow)
    assert (await store.claim("k")).state is ClaimState.IN_PROGRESS
    await store.commit(fast)
    await store.release(slow)  # nor a commit
    assert (await store.claim("k")).state is ClaimState.DONE


async def test_releasing_a_non_acquired_claim_is_a_no_op(store: MemoryDedupStore) -> None:
    held = await store.claim("k")
    await store.release(await store.claim("k"))  # IN_PROGRESS claim, no token
    assert (await store.claim("k")).state is ClaimState.IN_PROGRESS
    await store.commit(held)


async def test_lease_lapses_when_the_worker_never_finishes(
    store: MemoryDedupStore, clock: FakeClock
) -> None:
    await store.claim("k")
    clock.now += 5.5
    assert (await store.claim("k")).state is ClaimState.ACQUIRED


async def test_bounded_least_recent_evicted_first(store: MemoryDedupStore) -> None:
    for key in ("a", "b", "c", "d"):
        await store.commit(await store.claim(key))
    assert len(store) == 3
    assert (await store.claim("a")).state is ClaimState.ACQUIRED  # evicted
    assert (await store.claim("d")).state is ClaimState.DONE


async def test_expired_entries_are_dropped(store: MemoryDedupStore, clock: FakeClock) -> None:
    await store.commit(await store.claim("a"))
    clock.now += 120
    await store.claim("b")
    assert len(store) == 1


def test_invalid_bound() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryDedupStore(max_entries=0)


def test_both_stores_satisfy_the_protocol() -> None:
    assert isinstance(MemoryDedupStore(), DedupStore)
    assert issubclass(RedisDedupStore, DedupStore)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("s", "order.paid"), ("s", "order.created")),
        (("a:b", "c"), ("b", "c:a")),
        (("1:x", "y"), ("x", "y:1")),
    ],
)
def test_key_strings_are_distinct_for_distinct_pairs(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    assert dedup_key_string(a) != dedup_key_string(b)
    # The same pair spelt by other string objects is the same key.
    assert dedup_key_string(a) == dedup_key_string(("".join(a[0]), "".join(a[1])))


def test_key_string_is_the_documented_form() -> None:
    assert dedup_key_string(("sess_x1y2z3", "order.paid")) == "10:order.paid:sess_x1y2z3"


@given(st.tuples(st.text(), st.text()))
def test_the_pair_can_be_read_back_from_its_key_string(pair: tuple[str, str]) -> None:
    # Decodable means injective: no two pairs share a key, whatever ':' they contain.
    length, rest = dedup_key_string(pair).split(":", 1)
    event, session_id = rest[: int(length)], rest[int(length) + 1 :]
    assert (session_id, event) == pair
