"""Issue 13 over real HTTP: HTTPS-only images, the caller's rate-limit state on every answer,
the imageUrl echo, cancelled sessions and the clock control; and issue 11/12's seed and host."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from aioprintora import PrintoraClient, SessionStatus
from aioprintora.sandbox import Sandbox
from aioprintora.sandbox._lifecycle import MAX_CLOCK_STEP

from .conftest import SESSION_BODY, Api

T0 = 1_800_000_000.0  # a multiple of 60: the fixed minute window starts here


class Clock:
    def __init__(self) -> None:
        self.now = T0 + 0.5

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def timed() -> AsyncIterator[Api]:
    """A sandbox on a frozen source clock: only the clock control moves its time."""
    async with (
        Sandbox(clock=Clock(), rate_limits=None, webhook_time_scale=0.00001) as sb,
        aiohttp.ClientSession() as http,
    ):
        yield Api(http, sb, sb.api_key)


async def _session(api: Api, key: str) -> tuple[str, str]:
    status, _, body = await api.create_session(key)
    assert status == 201
    return body["data"]["sessionId"], body["data"]["redirectUrl"].rsplit("/", 1)[-1]


async def _state(api: Api, session_id: str, token: str) -> tuple[Any, Any]:
    _, _, detail = await api.call("GET", f"/api/v1/partner-session/{session_id}")
    _, _, tok = await api.call("GET", f"/api/v1/partner-session/by-token/{token}")
    return detail["data"], tok["data"]


# -- 1. imageUrl must be HTTPS ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://cdn.example.com/d.png", "HTTP://cdn.example.com/d.png", "ftp://x.io/a.png"]
)
async def test_a_non_https_image_url_is_refused_with_invalid_image_url(api: Api, url: str) -> None:
    status, _, body = await api.create_session("k", {**SESSION_BODY, "imageUrl": url})
    assert status == 400
    assert body["error"] == {
        "code": "INVALID_IMAGE_URL",
        "message": "Image URL must be a valid HTTPS URL",
    }
    assert api.sb.session_count() == 0


async def test_redirect_urls_may_still_be_plain_http(api: Api) -> None:
    body = {**SESSION_BODY, "successUrl": "http://localhost:3000/ok"}
    status, _, created = await api.create_session("k", body)
    assert status == 201
    assert created["data"]["imageUrl"] == SESSION_BODY["imageUrl"]


async def test_the_client_refuses_a_plain_http_image_before_sending(sb: Sandbox) -> None:
    async with PrintoraClient(sb.api_key, base_url=sb.base_url) as client:
        with pytest.raises(ValueError, match="image_url must be a valid HTTPS URL"):
            await client.sessions.create(
                image_url="http://cdn.example.com/d.png",
                success_url="https://shop.example.com/ok",
                failed_url="https://shop.example.com/failed",
            )
        session = await client.sessions.create(
            image_url="https://cdn.example.com/d.png",
            success_url="http://localhost:3000/ok",
            failed_url="https://shop.example.com/failed",
        )
    assert session.image_url == "https://cdn.example.com/d.png"
    assert [r.method for r in sb.requests] == ["POST"]  # the refused one never left


# -- 2. rate-limit headers describe the caller's key --------------------------------------------


@pytest.fixture
async def five_a_minute() -> AsyncIterator[Api]:
    async with (
        Sandbox(clock=Clock(), rate_limits=[(5, 60.0)]) as sb,
        aiohttp.ClientSession() as http,
    ):
        yield Api(http, sb, sb.api_key)


async def test_404_and_405_show_and_count_against_the_keys_quota(five_a_minute: Api) -> None:
    api = five_a_minute
    seen = []
    for method, path, expected in (
        ("GET", "/api/v1/partners/orders", 200),
        ("GET", "/api/v1/no-such-thing", 404),
        ("DELETE", "/api/v1/partners/orders", 405),
        ("GET", "/api/v2/anything", 404),
    ):
        status, headers, _ = await api.call(method, path)
        assert status == expected, path
        seen.append(int(headers["X-RateLimit-Remaining"]))
        assert headers["X-RateLimit-Limit"] == "5"
        assert headers["X-RateLimit-Reset"] == str(int(T0 + 60))
    assert seen == [4, 3, 2, 1]
    # Neither another client's bad key nor the controls nor a non-API path use this key's quota,
    # and each answer to this key still shows its real state.
    status, headers, _ = await api.call("GET", "/api/v1/nothing", auth=False)
    assert (status, headers["X-RateLimit-Remaining"]) == (404, "5")  # no key: nothing to show
    _, headers, _ = await api.call("GET", "/_sandbox/counts")
    assert headers["X-RateLimit-Remaining"] == "1"
    status, headers, _ = await api.call("GET", "/not-the-api")
    assert (status, headers["X-RateLimit-Remaining"]) == (404, "1")
    status, headers, _ = await api.call("GET", "/api/v1/partners/orders")
    assert (status, headers["X-RateLimit-Remaining"]) == (200, "0")
    # The minute is used up: an unknown path is refused like any other request.
    for method, path in (("GET", "/api/v1/no-such-thing"), ("PUT", "/api/v1/partner-session")):
        status, headers, body = await api.call(method, path)
        assert status == 429, path
        assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert headers["X-RateLimit-Remaining"] == "0"
        assert int(headers["Retry-After"]) == 60


# -- 4. cancelled sessions ---------------------------------------------------------------------


async def test_a_cancelled_session_cannot_check_out_and_says_so(api: Api) -> None:
    pending, pending_token = await _session(api, "a")
    active, active_token = await _session(api, "b")
    await api.call("POST", f"/_sandbox/sessions/{active}/open")
    for session_id, token in ((pending, pending_token), (active, active_token)):
        status, _, body = await api.call("POST", f"/_sandbox/sessions/{session_id}/cancel")
        assert (status, body["data"]["status"]) == (200, "cancelled")
        detail, tok = await _state(api, session_id, token)
        assert detail["status"] == "cancelled"
        assert "orderId" not in detail
        assert (tok["isValid"], tok["isCompleted"], tok["status"]) == (False, False, "cancelled")
        status, _, body = await api.call("POST", f"/_sandbox/sessions/{session_id}/checkout")
        assert (status, body["error"]["code"]) == (409, "SESSION_NOT_USABLE")
        assert "cancelled" in body["error"]["message"]
        status, _, body = await api.call("POST", f"/_sandbox/sessions/{session_id}/cancel")
        assert (status, body["error"]["code"]) == (409, "SESSION_NOT_CANCELLABLE")
    assert api.sb.orders() == []


async def test_only_a_pending_or_active_session_of_ones_own_can_be_cancelled(
    api: Api, sb: Sandbox
) -> None:
    done, _ = await _session(api, "done")
    await api.call("POST", f"/_sandbox/sessions/{done}/checkout")
    status, _, body = await api.call("POST", f"/_sandbox/sessions/{done}/cancel")
    assert (status, body["error"]["code"]) == (409, "SESSION_NOT_CANCELLABLE")
    assert "completed" in body["error"]["message"]
    status, _, body = await api.call("POST", "/_sandbox/sessions/nope/cancel")
    assert (status, body["error"]["code"]) == (404, "SESSION_NOT_FOUND")
    mine, _ = await _session(api, "mine")
    other = Api(api.http, sb, sb.add_partner().api_key)
    status, _, _ = await other.call("POST", f"/_sandbox/sessions/{mine}/cancel")
    assert status == 404
    _, _, detail = await api.call("GET", f"/api/v1/partner-session/{mine}")
    assert detail["data"]["status"] == "pending"


async def test_the_client_sees_a_cancelled_session(sb: Sandbox) -> None:
    async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None) as client:
        session = await client.sessions.create(
            image_url="https://cdn.example.com/d.png",
            success_url="https://shop.example.com/ok",
            failed_url="https://shop.example.com/failed",
        )
        await sb.cancel_session(session.id)
        token = await client.sessions.validate_token(session.token or "")
        details = await client.sessions.get(session.id)
    assert (token.is_valid, token.is_completed) == (False, False)
    assert token.status is SessionStatus.CANCELLED
    assert details.status is SessionStatus.CANCELLED
    with pytest.raises(ValueError, match="cancelled"):
        await sb.simulate_checkout(session.id)


# -- 5. the clock control ------------------------------------------------------------------------


async def test_advancing_the_clock_expires_unopened_and_opened_sessions(timed: Api) -> None:
    api = timed
    _, _, clock = await api.call("GET", "/_sandbox/clock")
    assert clock["data"] == {"now": "2027-01-15T08:00:00.500Z", "offset": 0.0}
    unopened, unopened_token = await _session(api, "a")
    opened, opened_token = await _session(api, "b")
    await api.call("POST", f"/_sandbox/sessions/{opened}/open")
    status, _, clock = await api.call("POST", "/_sandbox/clock/advance", json={"seconds": 900})
    assert (status, clock["data"]) == (200, {"now": "2027-01-15T08:15:00.500Z", "offset": 900.0})
    detail, tok = await _state(api, unopened, unopened_token)
    assert (detail["status"], tok["isValid"]) == ("expired", False)  # 15 min, never opened
    detail, tok = await _state(api, opened, opened_token)
    assert (detail["status"], tok["isValid"]) == ("active", True)  # opened: 24 h
    await api.call("POST", "/_sandbox/clock/advance", json={"seconds": 86_400 - 900})
    detail, tok = await _state(api, opened, opened_token)
    assert (detail["status"], tok["status"], tok["isValid"]) == ("expired", "expired", False)
    status, _, body = await api.call("POST", f"/_sandbox/sessions/{opened}/checkout")
    assert (status, body["error"]["code"]) == (409, "SESSION_NOT_USABLE")
    status, _, body = await api.call("POST", f"/_sandbox/sessions/{opened}/cancel")
    assert (status, body["error"]["code"]) == (409, "SESSION_NOT_CANCELLABLE")


async def test_the_idempotency_window_is_24_hours_of_sandbox_time(timed: Api) -> None:
    api = timed
    first, _ = await _session(api, "key")
    await api.call("POST", "/_sandbox/clock/advance", json={"seconds": 86_399})
    status, _, body = await api.create_session("key")
    assert (status, body["data"]["sessionId"]) == (409, first)  # still the same session
    await api.call("POST", "/_sandbox/clock/advance", json={"seconds": 1})
    status, _, body = await api.create_session("key")
    assert status == 201 and body["data"]["sessionId"] != first  # forgotten after 24 h


async def test_advancing_the_clock_opens_a_new_rate_limit_window(five_a_minute: Api) -> None:
    api = five_a_minute
    for _ in range(5):
        await api.call("GET", "/api/v1/partners/orders")
    status, _, _ = await api.call("GET", "/api/v1/partners/orders")
    assert status == 429
    await api.call("POST", "/_sandbox/clock/advance", json={"seconds": 60})
    status, headers, _ = await api.call("GET", "/api/v1/partners/orders")
    assert (status, headers["X-RateLimit-Remaining"]) == (200, "4")
    assert headers["Date"] == "Fri, 15 Jan 2027 08:01:00 GMT"


@pytest.mark.parametrize(
    "body", [{}, {"seconds": -1}, {"seconds": "60"}, {"seconds": True}, {"seconds": None}]
)
async def test_the_clock_control_refuses_bad_steps(timed: Api, body: dict[str, Any]) -> None:
    status, _, answer = await timed.call("POST", "/_sandbox/clock/advance", json=body)
    assert (status, answer["error"]["code"]) == (400, "VALIDATION_ERROR")
    status, _, _ = await timed.call(
        "POST", "/_sandbox/clock/advance", json={"seconds": MAX_CLOCK_STEP + 1}
    )
    assert status == 400
    assert timed.sb.clock_offset == 0.0


@pytest.mark.parametrize("seconds", [-0.5, float("nan"), float("inf")])
def test_advance_clock_from_python_only_moves_forward(seconds: float) -> None:
    sb = Sandbox(clock=Clock(), seed=1)
    assert sb.advance_clock(30) == T0 + 30.5
    with pytest.raises(ValueError, match="seconds"):
        sb.advance_clock(seconds)
    assert sb.clock() == T0 + 30.5


# -- issue 11: the seed; issue 12: the host -----------------------------------------------------


def test_the_default_seed_is_random_and_a_given_seed_repeats() -> None:
    first, second = Sandbox(), Sandbox()
    assert first.seed != second.seed
    assert first.api_key != second.api_key and first.partner_id != second.partner_id
    again = Sandbox(seed=first.seed)
    assert (again.api_key, again.webhook_secret) == (first.api_key, first.webhook_secret)
    assert Sandbox(seed=3).api_key == Sandbox(seed=3).api_key


# Never bound: the warning comes at construction, before any socket.
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "sandbox.internal"])  # noqa: S104
def test_a_non_loopback_host_logs_a_warning(caplog: pytest.LogCaptureFixture, host: str) -> None:
    with caplog.at_level(logging.WARNING, logger="aioprintora.sandbox"):
        Sandbox(host=host)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert host in record.getMessage() and "not a loopback address" in record.getMessage()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts_log_nothing(caplog: pytest.LogCaptureFixture, host: str) -> None:
    with caplog.at_level(logging.DEBUG, logger="aioprintora.sandbox"):
        Sandbox(host=host)
    assert caplog.records == []


@pytest.mark.parametrize("status", [{}, [], 3, None, "lost"])
async def test_the_order_advance_control_refuses_a_non_status(api: Api, status: object) -> None:
    # Found by schemathesis once the controls were in the document: a dict status was a 500.
    (order,) = await api.sb.seed_orders(1, ["pending"])
    answer = await api.call("POST", f"/_sandbox/orders/{order.id}/advance", json={"status": status})
    assert (answer[0], answer[2]["error"]["code"]) == (400, "VALIDATION_ERROR")
