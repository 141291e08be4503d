"""Issue 12, bullet 8: a server echoing the Authorization header never puts the key in our texts."""

from __future__ import annotations

import json
import logging
import traceback

import pytest
from aiohttp import web

from aioprintora import APIError, MalformedResponseError, PrintoraClient, ServerError

from .conftest import API_KEY, client, hostile

pytestmark = pytest.mark.timeout(30)


def _texts(exc: BaseException) -> str:
    """Everything a caller, a log or a traceback could show of ``exc``."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, APIError):
        parts += [exc.body, exc.message, json.dumps(dict(exc.headers)), exc.url]
    return "\n".join(parts)


def _echo(status: int, *, pad: int = 0) -> object:
    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        auth = request.headers["Authorization"]
        body = " " * pad + json.dumps({"error": {"code": "X", "message": f"bad header {auth}"}})
        return web.Response(
            status=status,
            text=body,
            headers={"X-Echo-Authorization": auth, "Content-Type": "application/json"},
        )

    return handler


@pytest.mark.parametrize(
    ("status", "pad", "error"),
    [
        (400, 0, APIError),
        (503, 0, ServerError),  # retried: each retry's log line too
        (200, 0, MalformedResponseError),  # a 2xx error envelope
        (400, 435, APIError),  # the 500-char body excerpt ends 10 chars into the key
    ],
    ids=["400", "503 retried", "200 envelope", "cut key"],
)
async def test_an_echoed_key_is_redacted_everywhere(
    status: int, pad: int, error: type[Exception], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aioprintora")
    async with hostile(_echo(status, pad=pad)) as server, client(server.url) as api:  # type: ignore[arg-type]
        with pytest.raises(error) as info:
            await api.orders.list()
    assert len(server.requests) == (3 if status == 503 else 1)
    texts = _texts(info.value) + caplog.text
    assert API_KEY not in texts
    assert API_KEY[4:12] not in texts  # not even a piece beyond the public prefix
    assert "<redacted>" in texts


async def test_a_2xx_body_echoing_the_key_in_a_listing_is_redacted() -> None:
    async def handler(request: web.Request, n: int) -> web.StreamResponse:
        return web.json_response({"orders": [{"id": request.headers["Authorization"]}]})

    async with hostile(handler) as server, client(server.url) as api:
        with pytest.raises(MalformedResponseError) as info:
            await api.orders.list()
    assert API_KEY not in _texts(info.value)
    assert len(server.requests) == 1


@pytest.mark.parametrize("bad", ["\r\n", "\n", "\r", "\x00", " "])
def test_a_key_with_control_characters_is_refused_without_showing_it(bad: str) -> None:
    key = f"sk_test_{bad}X-Injected: 1"
    with pytest.raises(ValueError, match="API key") as info:
        PrintoraClient(key, base_url="http://127.0.0.1:1")
    assert "Injected" not in _texts(info.value)
