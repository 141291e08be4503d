"""The public surface around the calls: pages by hand, serializable models, env logging, filters."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest

import aioprintora
from aioprintora import PrintoraClient
from aioprintora import _errors as errors
from aioprintora._convert import structure
from aioprintora._models import Order, Page, Pagination, Session, SessionToken, WebhookLog
from aioprintora.sandbox import Sandbox
from aioprintora.webhooks import parse_event

pytestmark = pytest.mark.timeout(30)


def test_every_exception_drawn_in_the_tree_is_importable_from_the_package() -> None:
    drawn = re.findall(r"^\s*(?:[│├└─ ]+)?(\w+(?:Error))\b", errors.__doc__ or "", re.MULTILINE)
    defined = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.PrintoraError)
    }
    assert set(drawn) == defined  # the drawing is the whole tree, and nothing but the tree
    for name in drawn:
        assert name in aioprintora.__all__, name
        assert getattr(aioprintora, name) is getattr(errors, name)


ORDER_WIRE = {
    "orderId": "ord_1",
    "status": "shipped",
    "orderNumber": "PO-1",
    "totalAmount": Decimal("19.90"),
    "currency": "USD",
    "partnershipHistoryId": "ses_1",
    "createdAt": "2026-01-02T03:04:05Z",
}


def test_to_dict_is_json_safe_snake_case_with_every_field() -> None:
    order = structure(ORDER_WIRE, Order)
    data = order.to_dict()
    assert data["total_amount"] == "19.90"  # exact to the JSON text, as a string
    assert data["created_at"] == "2026-01-02T03:04:05Z"
    assert data["status"] == "shipped"  # the enum's value
    assert data["updated_at"] is None  # every field present: stable CSV columns
    assert json.loads(order.to_json()) == data
    assert structure(data, Order) == order


def test_to_dict_wire_uses_the_api_names_and_round_trips() -> None:
    order = structure(ORDER_WIRE, Order)
    wire = order.to_dict(wire=True)
    assert wire["totalAmount"] == "19.90"
    assert "total_amount" not in wire
    assert "updatedAt" not in wire  # an unset optional is left out, as the API does
    assert structure(json.loads(order.to_json(wire=True)), Order) == order


def test_unknown_status_survives_serialization() -> None:
    order = structure({**ORDER_WIRE, "status": "on_hold"}, Order)
    assert order.to_dict()["status"] == "on_hold"


@pytest.mark.parametrize(
    ("model", "wire"),
    [
        (Session, {"sessionId": "s1", "redirectUrl": "https://x/t/abc", "status": "active"}),
        (SessionToken, {"isValid": True, "sessionId": "s1", "expiresAt": "2026-01-01T00:00:00Z"}),
        (WebhookLog, {"id": "w1", "eventType": "order.paid", "status": "sent", "attemptCount": 2}),
    ],
)
def test_every_model_round_trips(model: type, wire: dict[str, object]) -> None:
    obj = structure(wire, model)
    assert structure(obj.to_dict(), model) == obj
    assert structure(obj.to_dict(wire=True), model) == obj


def test_events_serialize_without_their_raw_body() -> None:
    body = {
        "sessionId": "s1",
        "event": "order.paid",
        "timestamp": "2026-01-01T00:00:00Z",
        "data": {"order_id": "o1", "total_amount": 10.5},
    }
    event = parse_event(json.dumps(body).encode())
    data = event.to_dict()
    assert "raw" not in data
    assert data["data"]["total_amount"] == "10.5"
    assert parse_event(event.to_json(wire=True)) == event


def test_a_page_is_a_sequence_of_its_items() -> None:
    orders = [structure({**ORDER_WIRE, "orderId": f"o{i}"}, Order) for i in range(3)]
    page = Page(items=orders, pagination=Pagination(total=3, limit=3, offset=0, has_more=False))
    assert len(page) == 3
    assert [o.id for o in page] == ["o0", "o1", "o2"]
    assert not page.has_next_page()  # built by hand: nothing to fetch from
    assert page.to_dict()["pagination"]["has_more"] is False


async def test_pages_walked_by_hand_cover_the_listing_once() -> None:
    async with Sandbox(rate_limits=None) as sb:
        await sb.seed_orders(7)
        async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None) as client:
            everything = [o.id for o in await client.orders.iter().collect()]
            page: Page[Order] | None = await client.orders.list(limit=3)
            seen: list[str] = []
            sizes = []
            while page is not None:
                sizes.append(len(page))
                seen.extend(order.id for order in page)
                page = await page.next_page()
    assert seen == everything
    assert sizes == [3, 3, 1]


async def test_next_page_keeps_the_filters() -> None:
    async with Sandbox(rate_limits=None) as sb:
        await sb.seed_orders(6, ["paid"])
        await sb.seed_orders(6, ["shipped"])
        async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None) as client:
            first = await client.orders.list(status="paid", limit=4)
            second = await first.next_page()
            assert second is not None
            assert {o.status for o in [*first, *second]} == {"paid"}
            assert len(first) + len(second) == 6
            assert await second.next_page() is None
        queries = [r.query for r in sb.requests if r.path.endswith("/orders")]
    assert queries[-1] == {"status": "paid", "limit": "4", "offset": "4"}


async def test_filters_accept_values_this_sdk_does_not_know_yet() -> None:
    async with Sandbox(rate_limits=None) as sb:
        async with PrintoraClient(
            sb.api_key, base_url=sb.base_url, rate_limit=None, max_retries=0
        ) as client:
            # The sandbox knows only today's values; what matters is that it was asked.
            with contextlib.suppress(errors.BadRequestError):
                await client.orders.list(status="on_hold")
            with contextlib.suppress(errors.BadRequestError):
                await client.webhook_logs.list(event_type="order.refunded")
        sent = [r.query for r in sb.requests]
    assert {"status": "on_hold", "limit": "20", "offset": "0"} in sent
    assert {"event_type": "order.refunded", "limit": "20", "offset": "0"} in sent


@pytest.mark.parametrize("bad", ["", "Lost Orders", "PAID", "paid;drop", 3, "x" * 65])
def test_structurally_invalid_filters_are_refused_before_sending(bad: object) -> None:
    client = PrintoraClient("sk_test_x", base_url="http://127.0.0.1:1", rate_limit=None)
    with pytest.raises(ValueError, match="status"):
        client.orders.iter(status=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="event_type"):
        client.webhook_logs.iter(event_type=bad)  # type: ignore[arg-type]


def run_python(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=25,
        check=False,
    )


def test_printora_log_sends_the_sdk_log_to_stderr_without_the_key() -> None:
    script = textwrap.dedent(
        """
        import asyncio
        from aioprintora import PrintoraClient
        from aioprintora.sandbox import Sandbox

        async def main():
            async with Sandbox(rate_limits=None) as sb:
                sb.fail_next(1, "503")
                async with PrintoraClient(
                    sb.api_key, base_url=sb.base_url, rate_limit=None
                ) as client:
                    await client.orders.list()
                print(sb.api_key)

        asyncio.run(main())
        """
    )
    env = {**os.environ, "PRINTORA_LOG": "debug"}
    done = run_python(script, env)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("sk_")
    assert "/api/v1/partners/orders" in done.stderr
    assert "retrying" in done.stderr
    assert key not in done.stderr
    # Without the variable the SDK writes nothing (logging stays the application's choice).
    env.pop("PRINTORA_LOG")
    quiet = run_python(script, env)
    assert quiet.returncode == 0, quiet.stderr
    assert "/api/v1/partners/orders" not in quiet.stderr


def test_printora_log_with_an_unknown_level_says_so() -> None:
    env = {**os.environ, "PRINTORA_LOG": "chatty"}
    done = run_python("from aioprintora import PrintoraClient; PrintoraClient('k')", env)
    assert done.returncode == 0
    assert "PRINTORA_LOG='chatty' is not one of debug, info" in done.stderr


def test_money_serializes_exactly() -> None:
    order = Order(id="o", status="paid", total_amount=Decimal("0.10"))
    assert order.to_dict()["total_amount"] == "0.10"
