"""Every client method against the sandbox over real sockets, and the reliability checks that
need server state (RELIABILITY 5, 6, 7)."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest

from aioprintora import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    EventType,
    IdempotencyKeyError,
    NotFoundError,
    OrderStatus,
    PrintoraClient,
    SessionStatus,
    UserData,
    WebhookStatus,
)
from aioprintora.sandbox import Sandbox

from .conftest import FAST_RETRY

CREATE = {
    "image_url": "https://img.example/cat.png",
    "success_url": "https://shop.example/ok",
    "failed_url": "https://shop.example/failed",
}


async def test_the_whole_flow(api: PrintoraClient, sandbox: Sandbox) -> None:
    session = await api.sessions.create(
        **CREATE, user_data=UserData(email="ada@example.com", first_name="Ada")
    )
    assert session.redirect_url is not None and session.token is not None
    fetched = await api.sessions.get(session.id)
    assert fetched.id == session.id
    assert fetched.status in (SessionStatus.PENDING, SessionStatus.ACTIVE)
    token = await api.sessions.validate_token(session.token)
    assert token.is_valid and not token.is_completed

    order = await sandbox.simulate_checkout(session.id)
    token = await api.sessions.validate_token(session.token)
    assert not token.is_valid and token.is_completed
    await sandbox.advance_order(order.id, "paid")

    page = await api.orders.list(status="paid", limit=10)
    assert [o.id for o in page.items] == [order.id]
    (paid,) = page.items
    assert paid.status is OrderStatus.PAID
    assert isinstance(paid.total_amount, Decimal)
    assert paid.session_id == session.id
    assert page.pagination.total == 1 and not page.pagination.has_more

    logs = await api.webhook_logs.list(event_type="order.created")
    assert all(log.event_type is EventType.ORDER_CREATED for log in logs.items)
    delivery = await api.webhook_logs.resend(order_id=order.id, event_type="order.paid")
    assert delivery.status is WebhookStatus.PENDING
    retried = await api.webhook_logs.retry(delivery.webhook_log_id)
    assert retried.webhook_log_id == delivery.webhook_log_id


async def test_documented_errors(api: PrintoraClient, sandbox: Sandbox) -> None:
    with pytest.raises(NotFoundError):
        await api.sessions.get(str(uuid.uuid4()))
    with pytest.raises(NotFoundError) as info:
        await api.webhook_logs.resend(order_id=str(uuid.uuid4()), event_type="order.paid")
    assert info.value.code == "ORDER_NOT_FOUND"
    with pytest.raises(NotFoundError) as info:
        await api.webhook_logs.retry(str(uuid.uuid4()))
    assert info.value.code == "WEBHOOK_NOT_FOUND"
    async with PrintoraClient("sk_test_nope", base_url=sandbox.base_url, rate_limit=None) as bad:
        with pytest.raises(AuthenticationError) as auth:
            await bad.orders.list()
    assert auth.value.code == "INVALID_API_KEY"
    assert "sk_test_nope" not in str(auth.value)


async def test_server_side_validation_reaches_the_caller(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    # A host name with "_": the SDK's URL check lets it through, the server's URL rule does not.
    with pytest.raises(BadRequestError) as info:
        await api.sessions.create(**{**CREATE, "image_url": "https://img_host.example/cat.png"})
    assert info.value.status_code == 400
    assert info.value.code == "INVALID_IMAGE_URL"
    assert "HTTPS URL" in str(info.value)
    assert len(sandbox.requests) == 1  # sent once: a 400 is not retried


@pytest.mark.parametrize("fault", ["commit_drop", "commit_500", "delay:1.0"])
async def test_ambiguous_create_makes_exactly_one_session(sandbox: Sandbox, fault: str) -> None:
    async with PrintoraClient(
        sandbox.api_key, base_url=sandbox.base_url, rate_limit=None, retry=FAST_RETRY, timeout=0.5
    ) as api:
        sandbox.fail_next(1, fault, method="POST")
        session = await api.sessions.create(**CREATE)
    assert sandbox.session_count() == 1
    keys = {r.headers.get("Idempotency-Key") for r in sandbox.requests if r.method == "POST"}
    assert len(keys) == 1
    assert session.id == (await _only_session_id(sandbox))


async def _only_session_id(sandbox: Sandbox) -> str:
    async with PrintoraClient(sandbox.api_key, base_url=sandbox.base_url, rate_limit=None) as api:
        posts = [r for r in sandbox.requests if r.method == "POST"]
        key = posts[0].headers["Idempotency-Key"]
        replay = await api.sessions.create(**CREATE, idempotency_key=key)
        return replay.id


async def test_replay_is_one_request_and_equals_the_original(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    first = await api.sessions.create(**CREATE, idempotency_key="same-key")
    before = len(sandbox.requests)
    again = await api.sessions.create(**CREATE, idempotency_key="same-key")
    assert len(sandbox.requests) == before + 1
    # RELIABILITY 6: the whole session, every field (the model's own equality, then its dict
    # so that a failure shows which field differs).
    assert again.to_dict() == first.to_dict()
    assert again == first


async def test_same_key_different_body_is_a_typed_error_without_retry(
    api: PrintoraClient, sandbox: Sandbox
) -> None:
    await api.sessions.create(**CREATE, idempotency_key="k-1")
    before = len(sandbox.requests)
    with pytest.raises(IdempotencyKeyError):
        await api.sessions.create(
            **{**CREATE, "image_url": "https://img.example/dog.png"}, idempotency_key="k-1"
        )
    assert len(sandbox.requests) == before + 1


async def test_fifty_concurrent_creates_with_one_key(api: PrintoraClient, sandbox: Sandbox) -> None:
    sessions = await asyncio.gather(
        *(api.sessions.create(**CREATE, idempotency_key="burst") for _ in range(50))
    )
    assert sandbox.session_count() == 1
    assert len({s.id for s in sessions}) == 1


async def test_drop_on_a_read_is_retried(api: PrintoraClient, sandbox: Sandbox) -> None:
    sandbox.fail_next(2, "drop", method="GET")
    page = await api.orders.list()
    assert page.items == []


async def test_malformed_and_truncated_answers(api: PrintoraClient, sandbox: Sandbox) -> None:
    from aioprintora import MalformedResponseError

    sandbox.fail_next(1, "malformed", method="GET")
    with pytest.raises(MalformedResponseError) as info:
        await api.orders.list()
    # RELIABILITY 13: the status and the body excerpt (here the whole, cut-off body).
    assert info.value.status_code == 200
    assert info.value.body == '{"success": true, "data": {"id": '
    sandbox.fail_next(4, "truncated", method="GET")
    with pytest.raises(APIConnectionError):
        await api.orders.list()
