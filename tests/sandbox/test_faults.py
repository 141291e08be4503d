"""Each fault kind as a plain aiohttp client sees it, and where the work was (not) committed."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from aioprintora.sandbox import Sandbox
from aioprintora.sandbox._faults import FaultPlan, check_kind

from .conftest import Api

CREATE = "/api/v1/partner-session"


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("503", 503), ("429", 429)])
async def test_status_faults_answer_json_errors_without_doing_the_work(
    api: Api, sb: Sandbox, kind: str, status: int
) -> None:
    sb.fail_next(1, kind)
    got, headers, body = await api.create_session("k")
    assert got == status
    assert body["success"] is False
    if kind == "429":
        assert headers["Retry-After"] == "1"
    assert sb.session_count() == 0
    assert (await api.create_session("k"))[0] == 201  # only one request was faulted


async def test_502_is_an_html_page_like_a_proxy(api: Api, sb: Sandbox) -> None:
    sb.fail_next(1, "502")
    async with api.http.get(
        sb.base_url + "/api/v1/partners/orders", headers={"Authorization": f"Bearer {sb.api_key}"}
    ) as resp:
        assert resp.status == 502
        assert resp.content_type == "text/html"
        assert "502 Bad Gateway" in await resp.text()


async def test_drop_closes_before_the_work(
    api: Api, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sb.fail_next(1, "drop")
    with caplog.at_level(logging.WARNING), pytest.raises(aiohttp.ServerDisconnectedError):
        await api.create_session("k")
    assert sb.session_count() == 0
    assert sb.requests[-1].status is None and sb.requests[-1].fault == "drop"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_drop_on_a_get_is_retried_once_by_aiohttp_itself(api: Api, sb: Sandbox) -> None:
    # aiohttp's ClientSession resends an idempotent request once after a disconnect, so two
    # drops are needed before a plain client sees the error (worth knowing when counting).
    sb.fail_next(2, "drop", method="GET")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.call("GET", "/api/v1/partners/orders")
    assert [r.fault for r in list(sb.requests)[-2:]] == ["drop", "drop"]


async def test_commit_drop_commits_then_closes(api: Api, sb: Sandbox) -> None:
    sb.fail_next(1, "commit_drop", path=CREATE)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.create_session("k")
    assert sb.session_count() == 1
    status, _, _ = await api.create_session("k")  # the client's retry replays the session
    assert status == 409
    assert sb.session_count() == 1


async def test_commit_500_commits_then_answers_500(api: Api, sb: Sandbox) -> None:
    sb.fail_next(1, "commit_500", method="POST")
    status, _, body = await api.create_session("k")
    assert status == 500 and body["error"]["code"] == "INTERNAL_ERROR"
    assert sb.session_count() == 1


async def test_delay_commits_and_answers_late(api: Api, sb: Sandbox) -> None:
    sb.fail_next(1, "delay:0.5", path=CREATE)
    timeout = aiohttp.ClientTimeout(total=0.1)
    with pytest.raises(asyncio.TimeoutError):
        await api.call(
            "POST",
            CREATE,
            json={
                "imageUrl": "https://a.example/i.png",
                "successUrl": "https://a.example/s",
                "failedUrl": "https://a.example/f",
            },
            headers={"Idempotency-Key": "k"},
            timeout=timeout,
        )
    assert sb.session_count() == 1


async def test_delay_answers_normally_when_waited_for(api: Api, sb: Sandbox) -> None:
    sb.fail_next(1, "delay:0.05")
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, _, _ = await api.call("GET", "/api/v1/partners/orders")
    assert status == 200
    assert loop.time() - started >= 0.05


async def test_close_does_not_wait_for_a_long_delay(http: aiohttp.ClientSession) -> None:
    sb = await Sandbox(rate_limits=None).start()
    sb.fail_next(1, "delay:30")
    request = asyncio.ensure_future(
        Api(http, sb, sb.api_key).call("GET", "/api/v1/partners/orders")
    )
    await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await sb.aclose()
    assert loop.time() - started < 2.0
    status, _, _ = await request  # closing cut the delay short; the answer still went out
    assert status == 200


async def test_malformed_is_200_with_invalid_json(api: Api, sb: Sandbox) -> None:
    sb.fail_next(1, "malformed")
    async with api.http.get(
        sb.base_url + "/api/v1/partners/orders", headers={"Authorization": f"Bearer {sb.api_key}"}
    ) as resp:
        assert resp.status == 200
        with pytest.raises(ValueError):
            await resp.json()


async def test_truncated_body_is_a_payload_error(api: Api, sb: Sandbox) -> None:
    sb.fail_next(1, "truncated")
    with pytest.raises(aiohttp.ClientPayloadError):
        await api.call("GET", "/api/v1/partners/orders")


async def test_faults_match_method_and_path(api: Api, sb: Sandbox) -> None:
    sb.fail_next(1, "500", method="POST", path="/api/v1/partner-session*")
    assert (await api.call("GET", "/api/v1/partners/orders"))[0] == 200
    assert (await api.create_session("k"))[0] == 500
    assert sb.faults.pending == 0


async def test_faults_never_hit_control_routes(api: Api, sb: Sandbox) -> None:
    sb.set_faults(rate=1.0, kinds=("500",), seed=1)
    assert (await api.call("GET", "/_sandbox/counts"))[0] == 200
    assert (await api.call("GET", "/api/v1/partners/orders"))[0] == 500
    sb.set_faults(rate=0)
    assert (await api.call("GET", "/api/v1/partners/orders"))[0] == 200


async def test_random_faults_hit_about_the_rate_and_repeat_with_the_seed(
    api: Api, sb: Sandbox
) -> None:
    async def run() -> list[int]:
        sb.set_faults(rate=0.3, kinds=("500", "503"), seed=7)
        return [(await api.call("GET", "/api/v1/partners/orders"))[0] for _ in range(100)]

    first, second = await run(), await run()
    assert first == second
    assert 15 <= sum(s != 200 for s in first) <= 45
    assert set(first) <= {200, 500, 503}


def test_fault_kinds_are_checked() -> None:
    for good in ("500", "delay:0.5", "429:0", "truncated"):
        assert check_kind(good) == good
    for bad in ("404", "delay", "delay:x", "delay:-1", ""):
        with pytest.raises(ValueError):
            check_kind(bad)
    plan = FaultPlan()
    with pytest.raises(ValueError):
        plan.fail_next(0, "500")
    with pytest.raises(ValueError):
        plan.set_random(1.5, ("500",), None)
    plan.fail_next(2, "503")
    plan.clear()
    assert plan.take("GET", "/") is None
