"""The differential: the vendor's Postman collection, replayed against the sandbox as Postman
would send it, each answer checked against what the collection's descriptions promise."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aioprintora.sandbox import Sandbox
from aioprintora.sandbox._routes import add_api_routes

from ._postman import ORIGINAL, extract, load, requests

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
ORDER_FIELDS = {
    "id",
    "orderNumber",
    "status",
    "totalAmount",
    "currency",
    "source",
    "partnershipHistoryId",
    "createdAt",
    "updatedAt",
}
LOG_FIELDS = {
    "id",
    "eventType",
    "status",
    "httpStatusCode",
    "attemptCount",
    "lastAttemptAt",
    "nextRetryAt",
    "responseData",
    "errorMessage",
    "orderId",
    "partnershipHistoryId",
    "createdAt",
}
PAGINATION = {"total", "limit", "offset", "hasMore"}


def _strip_comments(raw: str) -> str:
    """What Postman sends of a raw JSON body: the ``//`` comment lines left out."""
    return "\r\n".join(line for line in raw.splitlines() if not line.lstrip().startswith("//"))


def fill_in(
    item: dict[str, Any], base_url: str, api_key: str, ids: dict[str, str]
) -> tuple[str, str, dict[str, str], bytes | None]:
    """``(method, url, headers, body)`` of one collection request, as Postman sends it.

    The collection's URLs have no host and its token and variables are empty: the base URL, the
    key, an ``Idempotency-Key`` and real ids are filled in here. ``ids`` maps a path variable
    (``webhookLogId``) or a body field (``orderId``) to a real value.
    """
    request = item["request"]
    path = "/" + "/".join(
        ids.get(part[1:], part) if part.startswith(":") else part
        for part in request["urlObject"]["path"]
    )
    query = "&".join(f"{q['key']}={q['value']}" for q in request["urlObject"]["query"])
    url = base_url + path + (f"?{query}" if query else "")
    headers = {"Authorization": f"Bearer {api_key}"}  # the collection's bearer auth
    for header in request["header"]:
        value = header["value"]
        if header["key"].lower() == "idempotency-key" and not value:
            value = str(uuid.uuid4())
        headers[header["key"]] = value
    body: bytes | None = None
    raw = (request.get("body") or {}).get("raw")
    if raw is not None:
        text = _strip_comments(raw)
        if text.strip():
            data = json.loads(text)
            for name in set(data) & set(ids):
                text = text.replace(data[name], ids[name])
            body = text.encode()
            headers["Content-Type"] = "application/json"  # Postman's, for a raw JSON body
    return request["method"], url, headers, body


def _check(name: str, status: int, headers: dict[str, str], answer: Any) -> None:
    """The answer against the collection's description of that request."""
    # "Rate limit headers are included in every response."
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(headers)
    assert answer["success"] is True
    data = answer["data"]
    if name == "Create Session":
        assert status == 201
        assert set(data) == {"sessionId", "redirectUrl", "imageUrl", "createdAt"}
        assert UUID.match(data["sessionId"]) and ISO.match(data["createdAt"])
        assert data["imageUrl"] == "https://picsum.photos/3000/3000"  # "echo" of the body's
    elif name == "List":
        assert status == 200
        assert set(data) == {"orders", "pagination"} and set(data["pagination"]) == PAGINATION
        assert data["pagination"]["limit"] == 10 and len(data["orders"]) == 10
        assert all(set(order) == ORDER_FIELDS for order in data["orders"])
        assert all(order["source"] == "partner" for order in data["orders"])
        stamps = [order["createdAt"] for order in data["orders"]]
        assert stamps == sorted(stamps, reverse=True)  # "newest first"
    elif name == "Logs":
        assert status == 200
        assert set(data) == {"logs", "pagination"} and set(data["pagination"]) == PAGINATION
        assert data["logs"] and all(set(log) == LOG_FIELDS for log in data["logs"])
    elif name == "Resend":
        assert status == 200
        assert data["status"] == "pending" and data["message"] == "Webhook queued for delivery"
        assert data["eventType"] == "order.paid" and UUID.match(data["webhookLogId"])
    else:
        assert name == "Retry" and status == 200
        assert (data["status"], data["message"]) in (
            ("pending", "Webhook queued for retry"),
            ("sent", "Webhook already successfully delivered"),
        )
        assert data["eventType"].startswith("order.")


async def test_the_vendor_collection_replays_against_the_sandbox() -> None:
    collection = load()
    items = requests(collection)
    assert [item["name"] for item in items] == ["Create Session", "List", "Logs", "Resend", "Retry"]
    # The vendor's limits, so that the headers the description promises are there to check.
    async with Sandbox(seed=24) as sb, aiohttp.ClientSession() as http:
        seeded = await sb.seed_history(40, days=14, webhooks=True)  # no URL: deliveries fail
        await sb.wait_for_deliveries(timeout=5)
        paid = next(o for o in seeded if o.paid_at is not None)
        ids = {"orderId": paid.id, "webhookLogId": sb.webhook_logs()[-1].id}
        answers = []
        for item in items:
            method, url, headers, body = fill_in(item, sb.base_url, sb.api_key, ids)
            async with http.request(method, url, headers=headers, data=body) as resp:
                answer = await resp.json()
                answers.append((item["name"], resp.status))
                _check(item["name"], resp.status, dict(resp.headers), answer)
    assert all(200 <= status < 300 for _, status in answers), answers
    sent = [r for r in sb.requests if r.path.startswith("/api/")]
    assert len(sent) == 5
    assert sent[0].idempotency_key and UUID.match(sent[0].idempotency_key)
    assert b"userData" not in sent[0].body and sent[4].body == b""
    assert sent[3].body.decode().count(paid.id) == 1


def test_the_fill_in_strips_comment_lines_as_postman_does() -> None:
    create = requests(load())[0]
    _, url, headers, body = fill_in(create, "http://sb", "sk_test_k", {})
    assert url == "http://sb/api/v1/partner-session"
    assert headers["Authorization"] == "Bearer sk_test_k"
    assert body is not None and json.loads(body) == {
        "imageUrl": "https://picsum.photos/3000/3000",
        "failedUrl": "https://shopee.co.id",
        "successUrl": "https://favos.app",
    }


def test_the_copy_is_the_vendor_collection_without_its_prose() -> None:
    if not ORIGINAL.exists():
        pytest.skip(f"no checkout of shared/ beside the repository ({ORIGINAL} is absent)")
    original = json.loads(ORIGINAL.read_text("utf-8"))
    assert extract(original) == load()


def test_docs_list_every_alias_and_the_choices_where_the_vendor_is_silent() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sandbox.md").read_text("utf-8")
    canonical = {
        "/" + "/".join("{" + p[1:] + "}" if p.startswith(":") else p for p in path)
        for path in (item["request"]["urlObject"]["path"] for item in requests(load()))
    }
    # The two session reads the collection names in its prose, not as requests.
    canonical |= {"/api/v1/partner-session/{sessionId}", "/api/v1/partner-session/by-token/{token}"}
    app = web.Application()
    add_api_routes(app)
    served = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    aliases = {path for path in served - canonical if path.startswith("/api/")}
    assert len(aliases) == 4
    section = docs.split("## Aliases", 1)[1].split("\n## ", 1)[0]
    for alias in aliases:
        assert f"`{alias}`" in section or f" {alias}`" in section, alias
    silent = docs.split("## Where the vendor is silent", 1)[1].split("\n## ", 1)[0]
    for choice in ("15 minutes", "24 hours", "422 `IDEMPOTENCY_KEY_REUSED`", "`null`", "415"):
        assert choice in silent, choice
    assert "`--no-rate-limits`) the answers carry **no** `X-RateLimit-*` headers" in docs
