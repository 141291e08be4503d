"""An answer the SDK cannot read is reported with its real status, method, URL and request id."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from aioprintora import MalformedResponseError, PrintoraClient
from tests._loopback import serve

pytestmark = pytest.mark.timeout(30)

API_KEY = "sk_test_decode_errors_41c9"


@contextlib.asynccontextmanager
async def answering(status: int, body: Any) -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        return web.json_response(body, status=status, headers={"X-Request-Id": "req-42"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with serve(app) as url:
        yield url


def _client(url: str) -> PrintoraClient:
    return PrintoraClient(API_KEY, base_url=url, rate_limit=None, max_retries=0)


async def test_a_201_whose_body_is_not_a_session_reports_201_and_the_absolute_url() -> None:
    async with (
        answering(201, {"success": True, "data": {"unexpected": 1}}) as url,
        _client(url) as api,
    ):
        with pytest.raises(MalformedResponseError) as info:
            await api.sessions.create(
                image_url="https://cdn.example.com/a.png",
                success_url="https://shop.example.com/ok",
                failed_url="https://shop.example.com/failed",
            )
    error = info.value
    assert error.status_code == 201
    assert error.method == "POST"
    assert error.url == f"{url}/api/v1/partner-session"
    assert error.request_id == "req-42"
    assert "documented shape" in error.message
    assert "201: the answer does not match" in str(error)
    assert "unexpected" in error.body  # an excerpt of what could not be read


async def test_a_page_that_is_not_a_listing_reports_the_page_url() -> None:
    async with answering(200, {"orders": "not a list"}) as url, _client(url) as api:
        with pytest.raises(MalformedResponseError) as info:
            await api.orders.list(status="paid", limit=5, offset=10)
    error = info.value
    assert error.status_code == 200
    assert error.method == "GET"
    assert error.url == f"{url}/api/v1/partners/orders?limit=5&offset=10&status=paid"
    assert error.request_id == "req-42"


async def test_the_raw_twin_reports_the_same_when_parsed() -> None:
    async with answering(200, {"success": True, "data": {"id": 7}}) as url, _client(url) as api:
        raw = await api.orders.with_raw_response.list()
        assert raw.status_code == 200
        with pytest.raises(MalformedResponseError) as info:
            raw.parse()
    assert info.value.url == f"{url}/api/v1/partners/orders?limit=20&offset=0"
    assert info.value.request_id == "req-42"


async def test_a_body_that_is_not_json_carries_the_request_id() -> None:
    async with answering(200, None) as url, _client(url) as api:
        with pytest.raises(MalformedResponseError) as info:
            await api.orders.list()
    assert info.value.request_id == "req-42"
    assert info.value.url == f"{url}/api/v1/partners/orders?limit=20&offset=0"
