"""HTTP semantics every route keeps: HEAD like GET without a body and without effects, 415 for a
body that is not JSON, and OPTIONS without authentication."""

from __future__ import annotations

import pytest

from aioprintora import PrintoraClient
from aioprintora._models import SessionStatus
from aioprintora.sandbox import Sandbox

from .conftest import SESSION_BODY, Api


async def _filled_paths(api: Api, sb: Sandbox) -> dict[str, str]:
    """Every route's path with its parameters filled from real data."""
    _, _, created = await api.create_session("semantics")
    session_id = created["data"]["sessionId"]
    token = created["data"]["redirectUrl"].rsplit("/", 1)[-1]
    values = {"sessionId": session_id, "token": token, "partnerId": sb.partner_id}
    values["orderId"] = (await sb.seed_orders(1))[0].id
    values["webhookLogId"] = "11111111-1111-4111-8111-111111111111"
    paths = {}
    for resource in sb.build_app().router.resources():
        template = resource.canonical
        paths[template] = template.format(**values)
    return paths


def _routes(sb: Sandbox) -> dict[str, set[str]]:
    """The methods each route template registers."""
    methods: dict[str, set[str]] = {}
    for route in sb.build_app().router.routes():
        methods.setdefault(route.resource.canonical, set()).add(route.method)  # type: ignore[union-attr]
    return methods


async def test_head_answers_every_get_route_like_the_get_without_a_body(
    api: Api, sb: Sandbox
) -> None:
    paths = await _filled_paths(api, sb)
    gets = sorted(t for t, methods in _routes(sb).items() if "GET" in methods)
    assert len(gets) >= 9  # the Partner API's, the controls' and the editor link
    for template in gets:
        if template.startswith("/editor/"):
            continue  # opening a session is an effect: its own test below
        path = paths[template]
        head_status, head_headers, head_body = await api.call("HEAD", path)
        get_status, get_headers, _ = await api.call("GET", path)
        assert head_status == get_status == 200, template
        assert head_body is None, template
        for name in ("Content-Type", "Content-Length", "X-RateLimit-Limit"):
            assert head_headers.get(name) == get_headers.get(name), (template, name)


async def test_head_on_the_editor_link_does_not_open_the_session(api: Api, sb: Sandbox) -> None:
    _, _, created = await api.create_session("editor")
    session_id = created["data"]["sessionId"]
    link = created["data"]["redirectUrl"].removeprefix(sb.base_url)
    status, headers, _ = await api.call("HEAD", link, auth=False)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert sb.partner().state.sessions[session_id].status(sb.clock()) is SessionStatus.PENDING
    # The session's clock has not started: the unopened link still expires after 15 minutes.
    sb.advance_clock(15 * 60)
    _, _, detail = await api.call("GET", f"/api/v1/partner-session/{session_id}")
    assert detail["data"]["status"] == "expired"
    status, _, _ = await api.call("HEAD", "/editor/unknown", auth=False)
    assert status == 404


async def test_get_on_the_editor_link_opens_the_session(api: Api, sb: Sandbox) -> None:
    _, _, created = await api.create_session("editor-get")
    link = created["data"]["redirectUrl"].removeprefix(sb.base_url)
    async with api.http.get(sb.base_url + link) as resp:
        assert resp.status == 200
    _, _, detail = await api.call("GET", f"/api/v1/partner-session/{created['data']['sessionId']}")
    assert detail["data"]["status"] == "active"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", None]
)
async def test_a_body_that_is_not_json_is_415_and_creates_nothing(
    api: Api, sb: Sandbox, content_type: str | None
) -> None:
    headers = {"Idempotency-Key": "typed"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = b'{"imageUrl": "https://p.example/i.png", "successUrl": "https://p.example/ok", '
    body += b'"failedUrl": "https://p.example/ko"}'
    async with api.http.post(
        sb.base_url + "/api/v1/partner-session",
        data=body,
        headers={"Authorization": f"Bearer {sb.api_key}", **headers},
        skip_auto_headers=["Content-Type"],
    ) as resp:
        answer = await resp.json()
        assert resp.status == 415
    assert answer == {
        "success": False,
        "error": {
            "code": "UNSUPPORTED_MEDIA_TYPE",
            "message": "Content-Type must be application/json",
        },
    }
    assert sb.session_count() == 0


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
async def test_json_with_parameters_is_accepted(api: Api, content_type: str) -> None:
    status, _, _ = await api.call(
        "POST",
        "/api/v1/partner-session",
        json=SESSION_BODY,
        headers={"Idempotency-Key": content_type.replace(" ", ""), "Content-Type": content_type},
    )
    assert status == 201


async def test_a_post_without_a_body_needs_no_content_type(api: Api, sb: Sandbox) -> None:
    await sb.seed_orders(1, ["pending"], webhooks=True)
    await sb.wait_for_deliveries(timeout=2)
    (log,) = sb.webhook_logs()
    path = f"/api/v1/partners/webhook-logs/{log.id}/retry"
    async with api.http.post(
        sb.base_url + path,
        headers={"Authorization": f"Bearer {sb.api_key}"},
        skip_auto_headers=["Content-Type"],
    ) as resp:
        assert resp.status == 200
        assert "Content-Type" not in resp.request_info.headers
    async with PrintoraClient(sb.api_key, base_url=sb.base_url, rate_limit=None) as client:
        answer = await client.webhook_logs.retry(log.id)  # the SDK sends no body either
    assert answer.webhook_log_id == log.id


async def test_options_answers_every_route_without_a_key(api: Api, sb: Sandbox) -> None:
    paths = await _filled_paths(api, sb)
    for template, methods in _routes(sb).items():
        status, headers, body = await api.call("OPTIONS", paths[template], auth=False)
        assert (status, body) == (204, None), template
        assert set(headers["Allow"].split(", ")) == methods | {"OPTIONS"}, template
    _, headers, _ = await api.call("OPTIONS", "/api/v1/partners/orders", auth=False)
    assert headers["Allow"] == "GET, HEAD, OPTIONS"
    _, headers, _ = await api.call("OPTIONS", "/api/v1/partner-session", auth=False)
    assert headers["Allow"] == "OPTIONS, POST"
    status, _, body = await api.call("OPTIONS", "/api/v9/nothing", auth=False)
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


async def test_a_405_lists_options_and_head_in_allow(api: Api) -> None:
    status, headers, _ = await api.call("DELETE", "/api/v1/partners/orders")
    assert (status, headers["Allow"]) == (405, "GET, HEAD, OPTIONS")
