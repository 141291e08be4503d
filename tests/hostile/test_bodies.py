"""Issue 12, bullets 3, 4 and 6: pathological bodies and headers end in the SDK's own errors."""

from __future__ import annotations

import gc
import time
import tracemalloc
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from aiohttp import web

from aioprintora import (
    DEFAULT_RATE_LIMIT,
    BadRequestError,
    MalformedResponseError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
)
from aioprintora._http._body import DEFAULT_MAX_RESPONSE_SIZE

from .conftest import FAST, client, hostile, order

pytestmark = pytest.mark.timeout(30)

DEEP = b"[" * 200_000 + b"]" * 200_000


def _answer(status: int, body: bytes, **headers: str) -> web.Response:
    return web.Response(status=status, body=body, headers=headers)


# -- bullet 3: pathological JSON -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "requests"),
    [
        (200, MalformedResponseError, 1),
        (400, BadRequestError, 1),
        (500, ServerError, FAST.max_retries + 1),  # a GET is retried, then the status error
    ],
)
async def test_deeply_nested_json_is_an_sdk_error(
    status: int, error: type[Exception], requests: int
) -> None:
    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        return _answer(status, DEEP, **{"Content-Type": "application/json"})

    async with hostile(handler) as server, client(server.url) as api:
        with pytest.raises(error) as info:
            await api.orders.list()
    assert type(info.value) is error
    assert not isinstance(info.value.__cause__, RecursionError)
    assert len(server.requests) == requests


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", '"sNaN"', "1e999999999"])
async def test_absurd_money_is_malformed(amount: str) -> None:
    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        body = '{"orders": [{"id": "o1", "status": "paid", "totalAmount": ' + amount + "}]}"
        return _answer(200, body.encode())

    async with hostile(handler) as server, client(server.url) as api:
        with pytest.raises(MalformedResponseError, match="finite"):
            await api.orders.list()
    assert len(server.requests) == 1


# -- bullet 4: header pathologies ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "1e12"},
        {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"},
        {"X-RateLimit-Reset": "99999999999999999999"},
    ],
    ids=["retry-after 1e12", "year 9999", "absurd reset"],
)
async def test_absurd_waits_are_a_rate_limit_error_with_a_sane_reset(
    headers: dict[str, str],
) -> None:
    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        return web.json_response(
            {"error": {"code": "RATE_LIMIT_EXCEEDED"}}, status=429, headers=headers
        )

    # The default limiter too: its pause must not overflow either.
    async with hostile(handler) as server, client(server.url, rate_limit=DEFAULT_RATE_LIMIT) as api:
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            await api.orders.list()
        assert time.monotonic() - started < 2.0
    assert len(server.requests) == 1
    reset_at = info.value.reset_at
    assert reset_at is not None
    assert reset_at < datetime.now(timezone.utc) + timedelta(days=8)


async def test_a_millisecond_reset_is_read_as_milliseconds() -> None:
    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        if n == 0:
            reset_ms = int((time.time() + 0.3) * 1000)  # 13 digits
            return web.json_response(
                {"error": {"code": "RATE_LIMIT_EXCEEDED"}},
                status=429,
                headers={"X-RateLimit-Reset": str(reset_ms)},
            )
        return web.json_response({"orders": [order(1)]})

    async with hostile(handler) as server, client(server.url) as api:
        started = time.monotonic()
        page = await api.orders.list()
        took = time.monotonic() - started
    assert [o.id for o in page.items] == ["ord_1"]
    assert len(server.requests) == 2
    assert took < 5.0  # read as seconds it would have been 50,000 years


# -- bullet 6: size cap --------------------------------------------------------------------------

MB = 1024 * 1024


def _bomb() -> bytes:
    """About 400 KB of gzip that inflates to 400 MB of zeros (built without holding 400 MB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    return b"".join(packer.compress(zeros) for _ in range(400)) + packer.flush()


async def _stream(request: web.Request, size: int, *, announce: bool) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    if announce:
        response.content_length = size
    await response.prepare(request)
    chunk = b" " * (256 * 1024)
    try:
        for _ in range(size // len(chunk)):
            await response.write(chunk)
    except (ConnectionError, RuntimeError):  # the client hung up on us, as it should
        pass
    return response


@pytest.mark.parametrize("variant", ["50 MB announced", "50 MB chunked", "gzip bomb"])
async def test_oversized_answers_end_in_bounded_memory(variant: str) -> None:
    bomb = _bomb() if variant == "gzip bomb" else b""

    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        if bomb:
            return _answer(200, bomb, **{"Content-Encoding": "gzip"})
        return await _stream(request, 50 * MB, announce=variant == "50 MB announced")

    async with hostile(handler) as server, client(server.url) as api:
        gc.collect()
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError) as info:
                await api.orders.list()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert isinstance(info.value, MalformedResponseError)
    assert "max_response_size" in str(info.value)
    assert len(server.requests) == 1  # never retried
    assert peak <= 1.5 * DEFAULT_MAX_RESPONSE_SIZE, peak


async def test_the_cap_is_configurable() -> None:
    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        return web.json_response({"orders": [order(i) for i in range(50)]})

    async with hostile(handler) as server:
        async with client(server.url, max_response_size=1024) as small:
            with pytest.raises(ResponseTooLargeError):
                await small.orders.list()
        async with client(server.url) as default:
            assert len(await default.orders.list()) == 50
    assert len(server.requests) == 2
