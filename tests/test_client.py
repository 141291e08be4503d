"""The client's contract against a scripted loopback server: lifecycle, security, errors."""

from __future__ import annotations

import gc
import logging
import uuid
import warnings

import aiohttp
import pytest

from aioprintora import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IdempotencyKeyError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    PrintoraClient,
    RateLimitError,
    ServerError,
    Session,
    UserData,
    __version__,
)

from .conftest import API_KEY, FAST_RETRY
from .scripted import Reply, ScriptedServer, fail, ok

SESSION = {
    "sessionId": "0b9c3f3e-5a55-4c43-9d2b-9f1a3c1f0a11",
    "redirectUrl": "https://printora.ai/editor/tok_abc123",
    "imageUrl": "https://img.example/cat.png",
    "createdAt": "2026-01-30T10:40:00Z",
}
CREATE = {
    "image_url": "https://img.example/cat.png",
    "success_url": "https://shop.example/ok",
    "failed_url": "https://shop.example/failed",
}


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRINTORA_API_KEY", raising=False)
    with pytest.raises(ValueError, match="PRINTORA_API_KEY"):
        PrintoraClient()


def test_key_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRINTORA_API_KEY", API_KEY)
    monkeypatch.setenv("PRINTORA_BASE_URL", "http://127.0.0.1:9")
    client = PrintoraClient()
    assert str(client.base_url).rstrip("/") == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [("production", "https://api.printora.ai/"), ("staging", "https://api-staging.printora.ai/")],
)
def test_environments(monkeypatch: pytest.MonkeyPatch, environment: str, expected: str) -> None:
    monkeypatch.delenv("PRINTORA_BASE_URL", raising=False)
    assert str(PrintoraClient(API_KEY, environment=environment).base_url).rstrip(
        "/"
    ) == expected.rstrip("/")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url", ["http://api.printora.ai", "http://10.0.0.1:8080", "ftp://x", "nohost"]
)
def test_refuses_to_send_the_key_in_clear_or_to_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        PrintoraClient(API_KEY, base_url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:8"])
def test_plain_http_is_fine_on_loopback(url: str) -> None:
    assert PrintoraClient(API_KEY, base_url=url).base_url.scheme == "http"


def test_repr_and_vars_never_show_the_key() -> None:
    client = PrintoraClient(API_KEY, base_url="http://127.0.0.1:1")
    assert API_KEY not in repr(client)
    assert API_KEY not in repr(vars(client))


async def test_use_after_close_is_a_clear_error(scripted: ScriptedServer) -> None:
    client = PrintoraClient(API_KEY, base_url=scripted.base_url, rate_limit=None)
    async with client:
        scripted.add(ok(SESSION))
        await client.sessions.get(SESSION["sessionId"])
    assert client.closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.sessions.get(SESSION["sessionId"])


async def test_external_session_is_not_closed(scripted: ScriptedServer) -> None:
    async with aiohttp.ClientSession() as mine:
        async with PrintoraClient(
            API_KEY, base_url=scripted.base_url, session=mine, rate_limit=None
        ) as client:
            scripted.add(ok(SESSION))
            session = await client.sessions.get(SESSION["sessionId"])
        assert session.id == SESSION["sessionId"]
        assert not mine.closed
    assert scripted.seen[0].headers["User-Agent"] == f"aioprintora/{__version__}"


async def test_unclosed_client_warns(scripted: ScriptedServer) -> None:
    client = PrintoraClient(API_KEY, base_url=scripted.base_url, rate_limit=None)
    scripted.add(ok(SESSION))
    await client.sessions.get(SESSION["sessionId"])
    session = client._pool.session
    assert session is not None
    with pytest.warns(ResourceWarning, match="not closed"):
        del client
        gc.collect()
    await session.close()


async def test_create_sends_camelcase_body_key_and_user_agent(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(ok(SESSION, status=201))
    session = await client.sessions.create(
        **CREATE, user_data=UserData(email="a@b.example", first_name="Ada")
    )
    assert isinstance(session, Session)
    assert session.token == "tok_abc123"
    assert session.created_at is not None and session.created_at.tzinfo is not None
    (seen,) = scripted.seen
    assert seen.method == "POST" and seen.path == "/api/v1/partner-session"
    assert uuid.UUID(seen.headers["Idempotency-Key"]).version == 4
    assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
    assert seen.headers["User-Agent"] == f"aioprintora/{__version__}"
    assert seen.headers["Content-Type"] == "application/json"
    import json

    assert json.loads(seen.body) == {
        "imageUrl": CREATE["image_url"],
        "successUrl": CREATE["success_url"],
        "failedUrl": CREATE["failed_url"],
        "userData": {"email": "a@b.example", "firstName": "Ada"},
    }


async def test_duplicate_session_replay_returns_the_session(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(
        Reply(409, {"success": True, "data": SESSION, "error": {"code": "DUPLICATE_SESSION"}})
    )
    session = await client.sessions.create(**CREATE, idempotency_key="order-42")
    assert session.id == SESSION["sessionId"]
    assert len(scripted.seen) == 1
    assert scripted.seen[0].headers["Idempotency-Key"] == "order-42"


@pytest.mark.parametrize(
    "bad",
    [
        {},  # no flow
        {"image_url": "https://x.example/a.png", "creator_id": str(uuid.uuid4())},
        {"image_url": "/relative.png"},
        {"image_url": "ftp://x.example/a.png"},
        {"creator_id": "not-a-uuid"},
        {"merch_id": str(uuid.uuid4()), "quantity": 0},
        {"merch_id": str(uuid.uuid4()), "quantity": 101},
        {"merch_id": str(uuid.uuid4()), "variant_id": "nope"},
        {"image_url": "https://x.example/a.png", "quantity": 2},
        {"image_url": "https://x.example/a.png", "success_url": "not a url"},
        {"image_url": "https://x.example/a.png", "idempotency_key": ""},
    ],
)
async def test_bad_session_arguments_fail_before_sending(
    client: PrintoraClient, scripted: ScriptedServer, bad: dict[str, object]
) -> None:
    args = {"success_url": CREATE["success_url"], "failed_url": CREATE["failed_url"], **bad}
    with pytest.raises(ValueError):
        await client.sessions.create(**args)  # type: ignore[arg-type]
    assert scripted.seen == []


async def test_merch_flow_body(client: PrintoraClient, scripted: ScriptedServer) -> None:
    merch, variant = str(uuid.uuid4()), str(uuid.uuid4())
    scripted.add(ok(SESSION, status=201))
    await client.sessions.create(
        merch_id=merch,
        variant_id=variant,
        quantity=3,
        success_url=CREATE["success_url"],
        failed_url=CREATE["failed_url"],
    )
    import json

    body = json.loads(scripted.seen[0].body)
    assert body["merchId"] == merch and body["variantId"] == variant and body["quantity"] == 3
    assert "imageUrl" not in body


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "INVALID_IMAGE_URL", BadRequestError),
        (400, "VALIDATION_ERROR", BadRequestError),
        (401, "INVALID_API_KEY", AuthenticationError),
        (403, "FORBIDDEN", PermissionDeniedError),
        (404, "ORDER_NOT_FOUND", NotFoundError),
        (404, "WEBHOOK_NOT_FOUND", NotFoundError),
        (409, "CONFLICT", ConflictError),
        (422, "IDEMPOTENCY_KEY_REUSED", IdempotencyKeyError),
        (418, "TEAPOT", APIError),
    ],
)
async def test_error_statuses_map_to_typed_errors(
    client: PrintoraClient, scripted: ScriptedServer, status: int, code: str, kind: type[APIError]
) -> None:
    scripted.add(fail(status, code, "explained", **{"X-Request-Id": "r1"}))
    with pytest.raises(kind) as info:
        await client.orders.list()
    err = info.value
    assert type(err) is kind
    assert (err.status_code, err.code, err.message) == (status, code, "explained")
    assert err.headers["X-Request-Id"] == "r1"
    assert err.method == "GET" and "/api/v1/partners/orders" in err.url
    assert len(scripted.seen) == 1  # 4xx are never retried
    assert API_KEY not in str(err) and API_KEY not in repr(err)


async def test_html_502_becomes_server_error_with_excerpt(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    scripted.add(*[Reply(502, raw=page)] * 4)
    with pytest.raises(ServerError) as info:
        await client.orders.list()
    assert info.value.status_code == 502
    assert "502 Bad Gateway" in info.value.body
    assert info.value.attempts == 4
    assert "after 4 attempts" in str(info.value)


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b'{"success": true, "data": {"orders": "nope"}}',
        b'{"success": true, "data": {"orders": [{"status": "paid"}]}}',
        b"[1, 2]",
    ],
)
async def test_garbage_success_bodies_are_malformed_response_errors(
    client: PrintoraClient, scripted: ScriptedServer, raw: bytes
) -> None:
    scripted.add(Reply(200, raw=raw))
    with pytest.raises(MalformedResponseError) as info:
        await client.orders.list()
    assert info.value.status_code == 200
    # RELIABILITY 13: a body excerpt, all of a short body (of a valid envelope: its data).
    assert info.value.body == raw.decode() or raw.startswith(b'{"success"')
    assert (info.value.body != "") == (raw != b"")
    assert info.value.body in raw.decode()


async def test_rate_limit_error_carries_retry_after(scripted: ScriptedServer) -> None:
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, max_retries=0
    ) as client:
        scripted.add(fail(429, "RATE_LIMIT_EXCEEDED", "slow down", **{"Retry-After": "7"}))
        with pytest.raises(RateLimitError) as info:
            await client.orders.list()
    assert info.value.retry_after == pytest.approx(7, abs=1)
    assert info.value.reset_at is not None


async def test_key_never_logged(
    client: PrintoraClient, scripted: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aioprintora")
    scripted.add(fail(500), ok(SESSION))
    await client.sessions.get(SESSION["sessionId"])
    assert any("attempt" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert API_KEY not in record.getMessage()


async def test_with_options_shares_the_pool(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    strict = client.with_options(max_retries=0)
    scripted.add(fail(500), ok(SESSION))
    with pytest.raises(ServerError):
        await strict.sessions.get(SESSION["sessionId"])
    assert await client.sessions.get(SESSION["sessionId"])
    assert strict._pool is client._pool


async def test_a_derived_client_going_away_does_not_warn(
    client: PrintoraClient, scripted: ScriptedServer
) -> None:
    scripted.add(ok(SESSION), ok(SESSION))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await client.with_options(max_retries=0).sessions.get(SESSION["sessionId"])
        gc.collect()  # the temporary client is gone; the pool is the original's to close
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    # Nor did it take the pool with it: the original still sends on it.
    assert not client.closed
    assert (await client.sessions.get(SESSION["sessionId"])).id == SESSION["sessionId"]
    assert len(scripted.seen) == 2


def test_retry_policy_is_validated() -> None:
    from aioprintora._http.retry import RetryPolicy

    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    assert FAST_RETRY.max_retries == 3
