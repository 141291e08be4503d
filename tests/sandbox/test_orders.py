"""Orders: checkout, lifecycle, listing (newest first, filters, pagination), seeding."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

import pytest

from aioprintora._models import OrderStatus
from aioprintora.sandbox import Sandbox

from .conftest import Api

ORDER_NUMBER = re.compile(r"^PRT-\d{13}-[A-Z0-9]{6}$")


async def _session(api: Api, key: str = "k") -> str:
    _, _, body = await api.create_session(key)
    return str(body["data"]["sessionId"])


async def test_checkout_creates_a_pending_order_as_the_api_lists_it(api: Api, sb: Sandbox) -> None:
    session_id = await _session(api)
    order = await sb.simulate_checkout(session_id)
    assert order.status is OrderStatus.PENDING and order["status"] == "pending"
    status, _, body = await api.call("GET", "/api/v1/partners/orders")
    assert status == 200
    (listed,) = body["data"]["orders"]
    assert listed["id"] == order.id
    assert ORDER_NUMBER.match(listed["orderNumber"])
    assert listed["status"] == "pending"
    assert listed["currency"] == "USD"
    assert listed["source"] == "partner"
    assert listed["partnershipHistoryId"] == session_id
    assert listed["createdAt"] == listed["updatedAt"]
    assert body["data"]["pagination"] == {"total": 1, "limit": 20, "offset": 0, "hasMore": False}


async def test_total_amount_is_a_json_number_with_two_decimals(api: Api, sb: Sandbox) -> None:
    await sb.seed_orders(60)
    async with api.http.get(
        f"{sb.base_url}/api/v1/partners/orders?limit=100",
        headers={"Authorization": f"Bearer {sb.api_key}"},
    ) as resp:
        text = await resp.text()
    amounts = re.findall(r'"totalAmount":([^,}]+)', text)
    assert len(amounts) == 60
    assert all(re.fullmatch(r"\d+\.\d\d", a) for a in amounts), amounts
    assert any(a.endswith("0") for a in amounts)  # 34.50 stays 34.50, not 34.5


async def test_advance_walks_the_lifecycle_and_rejects_bad_moves(api: Api, sb: Sandbox) -> None:
    order = await sb.simulate_checkout(await _session(api))
    created = order.updated_at
    await asyncio.sleep(0.002)
    await sb.advance_order(order.id, "shipped")  # passes paid and processing
    assert order.status is OrderStatus.SHIPPED
    assert order.updated_at > created
    with pytest.raises(ValueError, match="shipped to paid"):
        await sb.advance_order(order.id, "paid")
    with pytest.raises(ValueError, match="cannot cancel"):
        await sb.advance_order(order.id, OrderStatus.CANCELLED)
    with pytest.raises(ValueError):
        await sb.advance_order(order.id, "teleported")
    with pytest.raises(KeyError):
        await sb.advance_order("no-such-order", "paid")
    await sb.advance_order(order.id, "delivered")
    with pytest.raises(ValueError):
        await sb.advance_order(order.id, "delivered")
    events = [log.event_type.value for log in reversed(sb.webhook_logs())]
    assert events == ["order.created", "order.paid", "order.shipped", "order.delivered"]


async def test_cancel_emits_order_cancelled(api: Api, sb: Sandbox) -> None:
    order = await sb.simulate_checkout(await _session(api))
    await sb.advance_order(order.id, "paid")
    await sb.advance_order(order.id, "cancelled")
    assert order.status is OrderStatus.CANCELLED
    assert sb.webhook_logs()[0].event_type.value == "order.cancelled"
    with pytest.raises(ValueError):
        await sb.advance_order(order.id, "paid")


async def test_listing_is_newest_first_with_filters_and_pagination(api: Api, sb: Sandbox) -> None:
    seeded = await sb.seed_orders(250)
    created = [o.created_at for o in seeded]
    assert created == sorted(set(created))  # distinct and increasing
    ids: list[str] = []
    for offset in range(0, 250, 100):
        _, _, body = await api.call("GET", f"/api/v1/partners/orders?limit=100&offset={offset}")
        ids += [o["id"] for o in body["data"]["orders"]]
        assert body["data"]["pagination"]["hasMore"] is (offset + 100 < 250)
    assert ids == [o.id for o in reversed(seeded)]
    paid = [o.id for o in reversed(seeded) if o.status is OrderStatus.PAID]
    _, _, body = await api.call("GET", "/api/v1/partners/orders?status=paid&limit=100")
    assert [o["id"] for o in body["data"]["orders"]] == paid[:100]
    assert body["data"]["pagination"]["total"] == len(paid)
    _, _, body = await api.call("GET", "/api/v1/partners/orders?offset=1000")
    assert body["data"]["orders"] == []
    assert body["data"]["pagination"] == {
        "total": 250,
        "limit": 20,
        "offset": 1000,
        "hasMore": False,
    }


async def test_a_status_change_moves_the_order_between_filtered_listings(
    api: Api, sb: Sandbox
) -> None:
    order = await sb.simulate_checkout(await _session(api))
    await sb.advance_order(order.id, "paid")
    _, _, pending = await api.call("GET", "/api/v1/partners/orders?status=pending")
    _, _, paid = await api.call("GET", "/api/v1/partners/orders?status=paid")
    assert pending["data"]["orders"] == []
    assert [o["id"] for o in paid["data"]["orders"]] == [order.id]


async def test_seeding_again_inserts_at_the_head(api: Api, sb: Sandbox) -> None:
    first = await sb.seed_orders(30)
    more = await sb.insert_orders(5, ["delivered"])
    assert all(o.status is OrderStatus.DELIVERED for o in more)
    _, _, body = await api.call("GET", "/api/v1/partners/orders?limit=10")
    ids = [o["id"] for o in body["data"]["orders"]]
    assert ids[:5] == [o.id for o in reversed(more)]
    assert ids[5:] == [o.id for o in reversed(first)][:5]
    assert sb.webhook_logs() == []  # no webhooks by default


async def test_seeding_ten_thousand_orders(api: Api, sb: Sandbox) -> None:
    seeded = await sb.seed_orders(10_000)
    assert len(sb.orders()) == 10_000 == sb.session_count()
    assert len({o.id for o in seeded}) == 10_000
    _, _, body = await api.call("GET", "/api/v1/partners/orders?limit=1&offset=9999")
    assert [o["id"] for o in body["data"]["orders"]] == [seeded[0].id]  # the oldest is last


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=abc", "limit=1.5", "offset=-1", "offset=x", "status=lost"],
)
async def test_bad_order_queries_are_400(api: Api, query: str) -> None:
    status, _, body = await api.call("GET", f"/api/v1/partners/orders?{query}")
    assert status == 400
    assert body["error"]["code"] == "VALIDATION_ERROR"


async def test_drift_alias_lists_the_same_orders(api: Api, sb: Sandbox) -> None:
    await sb.seed_orders(3)
    _, _, canonical = await api.call("GET", "/api/v1/partners/orders")
    _, _, alias = await api.call("GET", f"/api/v1/partners/{sb.partner_id}/orders")
    assert alias == canonical
    other = sb.add_partner()
    status, _, _ = await api.call("GET", f"/api/v1/partners/{other.partner_id}/orders")
    assert status == 403


async def test_order_amount_follows_merch_quantity(api: Api, sb: Sandbox) -> None:
    body = {
        "merchId": "22222222-2222-4222-8222-222222222222",
        "quantity": 3,
        "successUrl": "https://p.example/ok",
        "failedUrl": "https://p.example/ko",
    }
    _, _, created = await api.create_session("m", body)
    order = await sb.simulate_checkout(created["data"]["sessionId"])
    assert order.total_amount / 3 in {
        Decimal(p) for p in ("19.99", "24.99", "29.99", "34.50", "39.00", "45.90")
    }
