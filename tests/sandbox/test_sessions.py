"""Sessions over real HTTP: auth, creation, idempotency, validation, details and tokens."""

from __future__ import annotations

import asyncio
import io
import json
import re

import aiohttp
import pytest

from aioprintora.sandbox import Sandbox

from .conftest import SESSION_BODY, Api

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_create_session_answers_201_with_the_documented_fields(api: Api, sb: Sandbox) -> None:
    status, headers, body = await api.create_session("k-1")
    assert status == 201
    assert headers["Content-Type"].startswith("application/json")
    assert body["success"] is True
    data = body["data"]
    assert UUID.match(data["sessionId"])
    assert data["redirectUrl"].startswith(f"{sb.base_url}/editor/")
    assert data["imageUrl"] == SESSION_BODY["imageUrl"]
    assert ISO.match(data["createdAt"])
    assert sb.session_count() == 1


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer sk_test_nope", "Basic abc", "bearer  sk_live_x"]
)
async def test_bad_or_missing_key_is_401(api: Api, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    status, _, body = await api.call("GET", "/api/v1/partners/orders", auth=False, headers=headers)
    assert status == 401
    assert body == {
        "success": False,
        "error": {"code": "INVALID_API_KEY", "message": "Invalid or missing API key"},
    }


async def test_same_key_same_body_replays_409_with_the_existing_session(
    api: Api, sb: Sandbox
) -> None:
    _, _, first = await api.create_session("k-1")
    status, _, again = await api.create_session("k-1")
    assert status == 409
    assert again == first
    assert sb.session_count() == 1


async def test_idempotency_key_in_the_body_works_too(api: Api, sb: Sandbox) -> None:
    body = {**SESSION_BODY, "idempotencyKey": "body-key"}
    s1, _, first = await api.call("POST", "/api/v1/partner-session", json=body)
    s2, _, second = await api.call("POST", "/api/v1/partner-session", json=body)
    assert (s1, s2) == (201, 409)
    assert first == second


async def test_same_key_different_body_is_422(api: Api, sb: Sandbox) -> None:
    await api.create_session("k-1")
    status, _, body = await api.create_session("k-1", {**SESSION_BODY, "failedUrl": "https://x.io"})
    assert status == 422
    assert body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert sb.session_count() == 1


async def test_missing_idempotency_key_is_400(api: Api, sb: Sandbox) -> None:
    status, _, body = await api.call("POST", "/api/v1/partner-session", json=SESSION_BODY)
    assert status == 400
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert sb.session_count() == 0


async def test_fifty_concurrent_creates_with_one_key_make_one_session(
    api: Api, sb: Sandbox
) -> None:
    results = await asyncio.gather(*(api.create_session("same") for _ in range(50)))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] + [409] * 49
    assert len({body["data"]["sessionId"] for _, _, body in results}) == 1
    assert sb.session_count() == 1


async def test_idempotency_keys_expire_after_their_ttl() -> None:
    now = [1_800_000_000.0]
    async with (
        Sandbox(clock=lambda: now[0], idempotency_ttl=10.0, rate_limits=None) as sb,
        aiohttp.ClientSession() as http,
    ):
        api = Api(http, sb, sb.api_key)
        _, _, first = await api.create_session("k")
        now[0] += 11
        status, _, second = await api.create_session("k")
        assert status == 201
        assert second["data"]["sessionId"] != first["data"]["sessionId"]
        assert len(sb.partner().state.idempotency) == 1  # the expired key was pruned


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"imageUrl": None}, "INVALID_IMAGE_URL", "Image URL must be a valid HTTPS URL"),
        ({"imageUrl": "ftp://x.io/a.png"}, "INVALID_IMAGE_URL", None),
        ({"imageUrl": "/relative.png"}, "INVALID_IMAGE_URL", None),
        ({"successUrl": None}, "VALIDATION_ERROR", "successUrl is required"),
        ({"failedUrl": None}, "VALIDATION_ERROR", "failedUrl is required"),
        ({"successUrl": "javascript:alert(1)"}, "VALIDATION_ERROR", None),
        ({"failedUrl": "partner.example/f"}, "VALIDATION_ERROR", None),
        ({"creatorId": "11111111-1111-4111-8111-111111111111"}, "VALIDATION_ERROR", None),
        ({"imageUrl": None, "creatorId": "not-a-uuid"}, "VALIDATION_ERROR", None),
        (
            {"imageUrl": None, "merchId": "11111111-1111-4111-8111-111111111111", "quantity": 0},
            "VALIDATION_ERROR",
            None,
        ),
        (
            {"imageUrl": None, "merchId": "11111111-1111-4111-8111-111111111111", "quantity": 101},
            "VALIDATION_ERROR",
            None,
        ),
        (
            {
                "imageUrl": None,
                "merchId": "11111111-1111-4111-8111-111111111111",
                "variantId": "v1",
            },
            "VALIDATION_ERROR",
            None,
        ),
        ({"quantity": 2.5}, "VALIDATION_ERROR", None),
        ({"variantId": "v-1"}, "VALIDATION_ERROR", None),
        ({"userData": "bob"}, "VALIDATION_ERROR", None),
        ({"userData": {"email": 5}}, "VALIDATION_ERROR", None),
    ],
)
async def test_invalid_bodies_are_400(
    api: Api, sb: Sandbox, change: dict[str, object], code: str, message: str | None
) -> None:
    body = {k: v for k, v in {**SESSION_BODY, **change}.items() if v is not None}
    status, _, answer = await api.create_session("k", body)
    assert status == 400
    assert answer["success"] is False
    assert answer["error"]["code"] == code
    if message:
        assert answer["error"]["message"] == message
    assert sb.session_count() == 0


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"', b""])
async def test_non_object_bodies_are_400(api: Api, raw: bytes) -> None:
    status, _, body = await api.call(
        "POST",
        "/api/v1/partner-session",
        data=raw,
        headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert status == 400
    assert body["error"]["code"] == "VALIDATION_ERROR"


async def test_creator_and_merch_flows(api: Api) -> None:
    base = {k: v for k, v in SESSION_BODY.items() if k != "imageUrl"}
    creator = {**base, "creatorId": "11111111-1111-4111-8111-111111111111"}
    merch = {
        **base,
        "merchId": "22222222-2222-4222-8222-222222222222",
        "variantId": "33333333-3333-4333-8333-333333333333",
        "quantity": 3,
    }
    s1, _, b1 = await api.create_session("c", creator)
    s2, _, b2 = await api.create_session("m", merch)
    assert (s1, s2) == (201, 201)
    # The create answer always echoes imageUrl, null for the flows without one (issue 13).
    assert b1["data"]["imageUrl"] is None
    assert b2["data"]["imageUrl"] is None
    assert set(b1["data"]) == {"sessionId", "redirectUrl", "imageUrl", "createdAt"}
    _, _, detail = await api.call("GET", f"/api/v1/partner-session/{b2['data']['sessionId']}")
    assert detail["data"]["merchId"] == merch["merchId"]
    assert detail["data"]["variantId"] == merch["variantId"]
    assert detail["data"]["quantity"] == 3


async def test_session_details_and_token_follow_the_lifecycle(api: Api, sb: Sandbox) -> None:
    body = {**SESSION_BODY, "userData": {"email": "a@b.co", "firstName": "Ada"}}
    _, _, created = await api.create_session("k", body)
    session_id = created["data"]["sessionId"]
    token = created["data"]["redirectUrl"].rsplit("/", 1)[-1]
    _, _, detail = await api.call("GET", f"/api/v1/partner-session/{session_id}")
    data = detail["data"]
    assert data["status"] == "pending"
    assert data["successUrl"] == SESSION_BODY["successUrl"]
    assert data["failedUrl"] == SESSION_BODY["failedUrl"]
    assert data["userData"] == {"email": "a@b.co", "firstName": "Ada"}
    assert ISO.match(data["expiresAt"])
    assert "orderId" not in data
    _, _, tok = await api.call("GET", f"/api/v1/partner-session/by-token/{token}")
    assert tok["data"] == {
        "isValid": True,
        "isCompleted": False,
        "sessionId": session_id,
        "status": "pending",
        "expiresAt": data["expiresAt"],
    }
    async with api.http.get(created["data"]["redirectUrl"]) as resp:  # the customer opens it
        assert resp.status == 200
    _, _, tok = await api.call("GET", f"/api/v1/partner-session/by-token/{token}")
    assert tok["data"]["status"] == "active"
    order = await sb.simulate_checkout(session_id)
    _, _, tok = await api.call("GET", f"/api/v1/partner-session/by-token/{token}")
    assert tok["data"]["isValid"] is False
    assert tok["data"]["isCompleted"] is True
    assert tok["data"]["status"] == "completed"
    _, _, detail = await api.call("GET", f"/api/v1/partner-session/{session_id}")
    assert detail["data"]["orderId"] == order.id
    with pytest.raises(ValueError, match="completed"):
        await sb.simulate_checkout(session_id)  # one token = one order


async def test_sessions_expire_by_the_clock() -> None:
    now = [1_800_000_000.0]
    async with (
        Sandbox(clock=lambda: now[0], rate_limits=None) as sb,
        aiohttp.ClientSession() as http,
    ):
        api = Api(http, sb, sb.api_key)
        _, _, created = await api.create_session("k")
        session_id = created["data"]["sessionId"]
        now[0] += 15 * 60
        _, _, detail = await api.call("GET", f"/api/v1/partner-session/{session_id}")
        assert detail["data"]["status"] == "expired"
        with pytest.raises(ValueError, match="expired"):
            await sb.simulate_checkout(session_id)


async def test_unknown_session_and_token_are_404(api: Api) -> None:
    for path in (
        "/api/v1/partner-session/11111111-1111-4111-8111-111111111111",
        "/api/v1/partner-session/whatever",
        "/api/v1/partner-session/by-token/abc",
    ):
        status, _, body = await api.call("GET", path)
        assert status == 404
        assert body["error"]["code"] == "SESSION_NOT_FOUND"


async def test_partners_are_isolated(api: Api, sb: Sandbox) -> None:
    other = sb.add_partner()
    assert other.api_key != sb.api_key and other.webhook_secret != sb.webhook_secret
    assert other.api_key.startswith("sk_test_") and other.webhook_secret.startswith("whsec_")
    assert other.api_key not in repr(other) and other.webhook_secret not in repr(other)
    other_api = Api(api.http, sb, other.api_key)
    _, _, mine = await api.create_session("k")
    status, _, theirs = await other_api.create_session("k")  # same key, other partner: new
    assert status == 201
    assert theirs["data"]["sessionId"] != mine["data"]["sessionId"]
    status, _, _ = await other_api.call(
        "GET", f"/api/v1/partner-session/{mine['data']['sessionId']}"
    )
    assert status == 404
    await sb.simulate_checkout(mine["data"]["sessionId"])
    _, _, listing = await other_api.call("GET", "/api/v1/partners/orders")
    assert listing["data"]["orders"] == []
    assert sb.session_count(other.api_key) == 1
    assert len(sb.orders()) == 1 and sb.orders(other.api_key) == []


@pytest.mark.parametrize(
    ("nulls", "status"),
    [
        ({"imageUrl": None}, 400),  # a flow field sent as null is invalid
        ({"creatorId": None}, 400),
        ({"successUrl": None}, 400),
        ({"userData": None, "variantId": None, "quantity": None}, 201),  # optional: null = absent
        ({"userData": {"email": None, "name": "Bo"}}, 201),
    ],
)
async def test_explicit_nulls(api: Api, nulls: dict[str, object], status: int) -> None:
    got, _, _ = await api.create_session("k", {**SESSION_BODY, **nulls})
    assert got == status


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9"])
async def test_malformed_idempotency_keys_are_400(api: Api, sb: Sandbox, key: str) -> None:
    body = {**SESSION_BODY, "idempotencyKey": key}
    status, _, answer = await api.call("POST", "/api/v1/partner-session", json=body)
    assert (status, answer["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert sb.session_count() == 0


async def test_oversized_body_is_a_json_413(api: Api, sb: Sandbox) -> None:
    body = {**SESSION_BODY, "userData": {"name": "x" * (2 * 1024 * 1024)}}
    status, _, answer = await api.call(
        "POST",
        "/api/v1/partner-session",
        data=io.BytesIO(json.dumps(body).encode()),  # a stream: aiohttp warns on big bytes
        headers={"Idempotency-Key": "big", "Content-Type": "application/json"},
    )
    assert (status, answer["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert sb.session_count() == 0
