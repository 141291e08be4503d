"""``_sansio.decipher_response`` driven with bytes, as gidgethub tests its ``sansio``: status,
headers and body in; the payload, or the error with the server's wait, out. No I/O at all."""

from __future__ import annotations

import contextvars
from datetime import datetime, timezone
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from aioprintora import _errors as errors
from aioprintora._http.sansio import Answer, decipher_response

URL = "https://api.printora.ai/api/v1/partners/orders?limit=20&offset=0"
NOW = 1_800_000_000.0


def decipher(status: int, body: bytes, **headers: str) -> Answer:
    caseless = CIMultiDictProxy(CIMultiDict({"X-Request-Id": "req-1", **headers}))
    return decipher_response(status, caseless, body, method="GET", url=URL, now=NOW)


@pytest.mark.parametrize(
    ("status", "body", "data"),
    [
        (200, b'{"success":true,"data":{"orders":[]}}', {"orders": []}),
        (200, b'{"orders":[],"total":0}', {"orders": [], "total": 0}),  # flat, no envelope
        (200, b"[1,2]", [1, 2]),
        (201, b'{"success":true,"data":{"id":"s"}}', {"id": "s"}),
        (200, b'\xef\xbb\xbf{"success":true,"data":1}', 1),  # a UTF-8 byte order mark
        # The duplicate-session replay: a 409 carrying the existing session is a success.
        (
            409,
            b'{"success":false,"error":{"code":"DUPLICATE_SESSION"},"data":{"id":"s"}}',
            {"id": "s"},
        ),
    ],
)
def test_a_success_gives_its_payload(status: int, body: bytes, data: Any) -> None:
    answer = decipher(status, body)
    assert answer.error is None
    assert answer.status == status
    assert answer.data == data
    assert answer.headers is not None and answer.headers["x-request-id"] == "req-1"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty or not JSON"),
        (b"   \n", "empty or not JSON"),
        (b"<html>oops</html>", "empty or not JSON"),
        (b'{"success":false,"error":{"code":"X","message":"no"}}', "error envelope"),
        (b"\xff\xfe", "empty or not JSON"),
    ],
)
def test_a_2xx_that_cannot_be_read_is_malformed_with_status_url_and_request_id(
    body: bytes, message: str
) -> None:
    answer = decipher(200, body)
    error = answer.error
    assert isinstance(error, errors.MalformedResponseError)
    assert message in error.message
    assert (error.status_code, error.method, error.url) == (200, "GET", URL)
    assert error.request_id == "req-1"
    assert answer.wait is None


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (418, errors.APIError),
        (422, errors.IdempotencyKeyError),
        (500, errors.ServerError),
        (502, errors.ServerError),
    ],
)
def test_an_error_status_gives_its_exception_with_code_and_message(
    status: int, kind: type[errors.APIError]
) -> None:
    body = b'{"success":false,"error":{"code":"SOME_CODE","message":"what went wrong"}}'
    answer = decipher(status, body)
    error = answer.error
    assert type(error) is kind
    assert (error.status_code, error.code, error.message) == (
        status,
        "SOME_CODE",
        "what went wrong",
    )
    assert (error.method, error.url, error.request_id) == ("GET", URL, "req-1")
    assert answer.data is None


def test_an_html_502_keeps_an_excerpt() -> None:
    error = decipher(502, b"<html><body>Bad Gateway</body></html>").error
    assert isinstance(error, errors.ServerError)
    assert error.message == "HTTP 502 with a non-JSON body"
    assert "Bad Gateway" in error.body


def test_a_gateway_error_shape_is_read_too() -> None:
    error = decipher(400, b'{"message":"bad thing","code":"E1"}').error
    assert error is not None
    assert (error.code, error.message) == ("E1", "bad thing")


def test_a_429_carries_the_servers_wait_and_reset_time() -> None:
    answer = decipher(429, b'{"error":{"code":"RATE_LIMIT_EXCEEDED"}}', **{"Retry-After": "7"})
    error = answer.error
    assert isinstance(error, errors.RateLimitError)
    assert answer.wait == 7.0
    assert error.retry_after == 7.0
    assert error.reset_at == datetime.fromtimestamp(NOW + 7.0, timezone.utc)


def test_a_429_without_retry_after_waits_for_the_reset() -> None:
    answer = decipher(429, b"{}", **{"X-RateLimit-Reset": "12"})
    assert answer.wait == 12.0


def test_a_503_with_retry_after_as_a_date_is_measured_against_date() -> None:
    answer = decipher(
        503,
        b"",
        Date="Wed, 21 Oct 2026 07:28:00 GMT",
        **{"Retry-After": "Wed, 21 Oct 2026 07:28:30 GMT"},
    )
    assert isinstance(answer.error, errors.ServerError)
    assert answer.wait == 30.0


def test_an_echoed_secret_is_redacted_from_the_error() -> None:
    def echoed() -> Answer:
        errors.hide_secrets("sk_live_echoed_secret_123")  # in this context only
        return decipher(400, b'{"error":{"message":"bad key sk_live_echoed_secret_123"}}')

    answer = contextvars.copy_context().run(echoed)
    assert answer.error is not None
    assert "sk_live_echoed_secret_123" not in str(answer.error)
    assert "sk_live_echoed_secret_123" not in answer.error.body
