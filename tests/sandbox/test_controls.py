"""The /_sandbox/ control routes, driven over HTTP as a non-Python partner would."""

from __future__ import annotations

import json

from aioprintora.sandbox import Sandbox

from .conftest import Api


async def _session_id(api: Api, key: str = "k") -> str:
    _, _, body = await api.create_session(key)
    return str(body["data"]["sessionId"])


async def test_controls_need_a_partner_key_except_the_openapi_document(api: Api) -> None:
    status, _, body = await api.call("GET", "/_sandbox/counts", auth=False)
    assert (status, body["error"]["code"]) == (401, "INVALID_API_KEY")
    async with api.http.get(f"{api.sb.base_url}/_sandbox/openapi.json") as resp:
        assert resp.status == 200
        doc = json.loads(await resp.text())
    assert doc["openapi"] == "3.1.0"
    assert "/api/v1/partner-session" in doc["paths"]


async def test_checkout_open_and_advance_over_http(api: Api, sb: Sandbox) -> None:
    session_id = await _session_id(api)
    status, _, opened = await api.call("POST", f"/_sandbox/sessions/{session_id}/open")
    assert (status, opened["data"]["status"]) == (200, "active")
    status, _, order = await api.call("POST", f"/_sandbox/sessions/{session_id}/checkout")
    assert status == 201
    assert order["data"]["status"] == "pending"
    assert order["data"]["partnershipHistoryId"] == session_id
    status, _, again = await api.call("POST", f"/_sandbox/sessions/{session_id}/checkout")
    assert (status, again["error"]["code"]) == (409, "SESSION_NOT_USABLE")
    order_id = order["data"]["id"]
    path = f"/_sandbox/orders/{order_id}/advance"
    status, _, moved = await api.call("POST", path, json={"status": "delivered"})
    assert (status, moved["data"]["status"]) == (200, "delivered")
    status, _, back = await api.call("POST", path, json={"status": "paid"})
    assert (status, back["error"]["code"]) == (409, "INVALID_TRANSITION")
    status, _, bad = await api.call("POST", path, json={"status": "lost"})
    assert (status, bad["error"]["code"]) == (400, "VALIDATION_ERROR")
    events = [log.event_type.value for log in sb.webhook_logs()]
    assert events == ["order.delivered", "order.shipped", "order.paid", "order.created"]


async def test_controls_act_only_on_the_callers_data(api: Api, sb: Sandbox) -> None:
    session_id = await _session_id(api)
    other = Api(api.http, sb, sb.add_partner().api_key)
    status, _, body = await other.call("POST", f"/_sandbox/sessions/{session_id}/checkout")
    assert (status, body["error"]["code"]) == (404, "SESSION_NOT_FOUND")
    order = await sb.simulate_checkout(session_id)
    status, _, body = await other.call(
        "POST", f"/_sandbox/orders/{order.id}/advance", json={"status": "paid"}
    )
    assert (status, body["error"]["code"]) == (404, "ORDER_NOT_FOUND")


async def test_seed_counts_and_reset(api: Api, sb: Sandbox) -> None:
    status, _, body = await api.call(
        "POST", "/_sandbox/orders/seed", json={"count": 40, "statuses": ["paid", "shipped"]}
    )
    assert (status, body["data"]) == (201, {"created": 40})
    _, _, paid = await api.call("GET", "/api/v1/partners/orders?status=paid&limit=100")
    _, _, shipped = await api.call("GET", "/api/v1/partners/orders?status=shipped&limit=100")
    assert paid["data"]["pagination"]["total"] + shipped["data"]["pagination"]["total"] == 40
    _, _, counts = await api.call("GET", "/_sandbox/counts")
    assert counts["data"]["orders"] == 40
    assert counts["data"]["sessions"] == 40
    assert counts["data"]["partnerId"] == sb.partner_id
    status, _, _ = await api.call("POST", "/_sandbox/orders/seed", json={"count": -1})
    assert status == 400
    status, _, _ = await api.call(
        "POST", "/_sandbox/orders/seed", json={"count": 1, "statuses": ["x"]}
    )
    assert status == 400
    status, _, _ = await api.call("POST", "/_sandbox/reset")
    assert status == 200
    _, _, counts = await api.call("GET", "/_sandbox/counts")
    assert (counts["data"]["orders"], counts["data"]["sessions"]) == (0, 0)
    assert (await api.create_session("k"))[0] == 201  # credentials survive a reset


async def test_seed_history_over_http(api: Api, sb: Sandbox) -> None:
    status, _, body = await api.call(
        "POST", "/_sandbox/orders/seed-history", json={"count": 200, "days": 21, "webhooks": True}
    )
    assert (status, body["data"]) == (201, {"created": 200})
    orders = sb.orders()
    assert len(orders) == 200 and min(o.created_at for o in orders) >= sb.clock() - 21 * 86_400
    assert sum(o.status.value == "delivered" for o in orders) > 100
    await sb.wait_for_deliveries(timeout=5)
    assert len(sb.webhook_logs()) > 200  # every order's events, not one each
    for bad in ({"count": 5, "days": 0}, {"count": 5, "days": "7"}, {"count": "5"}):
        status, _, body = await api.call("POST", "/_sandbox/orders/seed-history", json=bad)
        assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR"), bad


async def test_faults_over_http(api: Api, sb: Sandbox) -> None:
    status, _, body = await api.call(
        "POST", "/_sandbox/faults", json={"kind": "503", "count": 2, "method": "GET"}
    )
    assert (status, body["data"]["pending"]) == (200, 2)
    assert (await api.call("GET", "/api/v1/partners/orders"))[0] == 503
    assert (await api.call("DELETE", "/_sandbox/faults"))[0] == 200
    assert (await api.call("GET", "/api/v1/partners/orders"))[0] == 200
    status, _, _ = await api.call("POST", "/_sandbox/faults", json={"kind": "teapot"})
    assert status == 400
    status, _, _ = await api.call(
        "PUT", "/_sandbox/faults/random", json={"rate": 1, "kinds": ["500"], "seed": 3}
    )
    assert status == 200
    assert (await api.call("GET", "/api/v1/partners/orders"))[0] == 500
    await api.call("PUT", "/_sandbox/faults/random", json={"rate": 0})
    assert (await api.call("GET", "/api/v1/partners/orders"))[0] == 200


async def test_new_partner_and_webhook_url_over_http(api: Api, sb: Sandbox) -> None:
    status, _, body = await api.call("POST", "/_sandbox/partners", json={})
    assert status == 201
    new = body["data"]
    assert new["apiKey"].startswith("sk_test_") and new["webhookSecret"].startswith("whsec_")
    other = Api(api.http, sb, new["apiKey"])
    status, _, body = await other.call(
        "PUT", "/_sandbox/webhook-url", json={"url": "http://127.0.0.1:9/hook"}
    )
    assert (status, body["data"]["url"]) == (200, "http://127.0.0.1:9/hook")
    assert sb.partner(new["apiKey"]).webhook_url == "http://127.0.0.1:9/hook"
    assert sb.default_partner.webhook_url is None
    status, _, _ = await other.call("POST", "/_sandbox/webhooks/wait", json={"timeout": 1})
    assert status == 200


async def test_request_log_never_keeps_the_key(api: Api, sb: Sandbox) -> None:
    await api.create_session("k")
    record = sb.requests[-1]
    assert record.idempotency_key == "k"
    assert record.partner_id == sb.partner_id
    assert record.status == 201
    assert json.loads(record.body)["imageUrl"]
    assert sb.api_key not in repr(list(sb.requests))
    assert all("authorization" not in {h.lower() for h in r.headers} for r in sb.requests)
    assert sb.api_key not in repr(sb) and sb.webhook_secret not in repr(sb)
