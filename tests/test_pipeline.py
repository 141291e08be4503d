"""The request path's pieces on their own: the pure retry decisions, the failure classifier,
the frozen options that ``with_options`` evolves, and one request object per call."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from aioprintora import PrintoraClient, ResponseTooLargeError, RetryPolicy, ServerError
from aioprintora._errors import APIConnectionError, APITimeoutError, MalformedResponseError
from aioprintora._http.call import Call
from aioprintora._http.pipeline import Options
from aioprintora._http.retry import CONNECT, DROPPED, TIMEOUT, Retries
from aioprintora._http.sansio import Answer, decipher_response, result
from aioprintora._http.transport import Request, failure_of
from aioprintora._models import Session
from aioprintora.resources._base import decoder

from .conftest import API_KEY, FAST_RETRY
from .scripted import ScriptedServer, fail, ok

POLICY = RetryPolicy(max_retries=3, backoff_base=1.0, backoff_cap=4.0, max_server_wait=60.0)
ORDERS = {"orders": [], "pagination": {"total": 0, "limit": 20, "offset": 0, "hasMore": False}}


class NoJitter(Retries):
    """The ceilings themselves: backoff's jitter left out, so the arithmetic shows."""

    __slots__ = ()

    @staticmethod
    def jitter(ceiling: float) -> float:
        return ceiling


# -- the pure retry decisions ----------------------------------------------------------------


def test_ceilings_double_up_to_the_cap_one_step_per_retry() -> None:
    retries = NoJitter(POLICY, idempotent=True)
    delays = [retries.delay(n, status=503) for n in (1, 2, 3)]
    assert delays == [1.0, 2.0, 4.0]
    assert retries.delay(4, status=503) is None  # max_retries spent


def test_a_server_wait_is_used_as_is_and_still_takes_its_step() -> None:
    retries = NoJitter(POLICY, idempotent=True)
    assert retries.delay(1, status=429, server_wait=7.5) == 7.5
    assert retries.delay(2, status=503) == 2.0  # the server's wait spent the first step


def test_a_server_wait_past_max_server_wait_gives_up_at_once() -> None:
    assert NoJitter(POLICY, idempotent=True).delay(1, status=429, server_wait=61.0) is None


def test_no_retry_whose_sleep_would_pass_the_deadline() -> None:
    retries = NoJitter(POLICY, idempotent=True)
    assert retries.delay(1, status=503, remaining=1.0) is None
    assert NoJitter(POLICY, idempotent=True).delay(1, status=503, remaining=1.01) == 1.0


@pytest.mark.parametrize(
    ("status", "failure", "idempotent", "retried"),
    [
        (500, None, True, True),
        (500, None, False, False),
        (503, None, False, True),
        (404, None, True, False),
        (None, CONNECT, False, True),
        (None, DROPPED, False, False),
        (None, TIMEOUT, True, True),
    ],
)
def test_the_table_decides(
    status: int | None, failure: str | None, idempotent: bool, retried: bool
) -> None:
    delay = Retries(POLICY, idempotent).delay(1, status=status, failure=failure)
    assert (delay is not None) is retried
    if delay is not None:
        assert 0.0 <= delay <= 1.0  # full jitter under the first ceiling


# -- failures without a response, classified once --------------------------------------------

REQUEST = Request("GET", URL("https://api.example/x"), {})


def test_a_refused_connection_is_a_connect_failure_naming_the_request() -> None:
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("api.example", 443, True, True, None, None, None),
        OSError(111, "refused"),
    )
    failure = failure_of(refused, REQUEST)
    assert failure is not None
    assert (type(failure.error), failure.kind, failure.cause) == (
        APIConnectionError,
        CONNECT,
        refused,
    )
    assert (failure.error.method, failure.error.url) == ("GET", "https://api.example/x")


def test_a_timeout_a_drop_and_a_foreign_exception() -> None:
    timeout = failure_of(asyncio.TimeoutError(), REQUEST)
    assert timeout is not None and (type(timeout.error), timeout.kind) == (
        APITimeoutError,
        TIMEOUT,
    )
    dropped = failure_of(aiohttp.ServerDisconnectedError(), REQUEST)
    assert dropped is not None and dropped.kind == DROPPED
    assert "ServerDisconnectedError" in str(dropped.error)
    assert failure_of(KeyError("x"), REQUEST) is None  # not a transport failure: raised as is
    closed = failure_of(KeyError("x"), REQUEST, closed=True)
    assert closed is not None and "closed while this call was in flight" in str(closed.error)


# -- one frozen options object -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timeout": 0}, "timeout must be positive"),
        ({"timeout": None}, "timeout must be positive"),
        ({"max_retries": None}, "max_retries must be an int >= 0"),
        ({"max_queue_wait": -1.0}, "max_queue_wait must be positive (or None)"),
        ({"max_response_size": 0}, "max_response_size must be >= 1"),
        ({"extra_headers": {"Authorization": "x"}}, "extra_headers cannot set Authorization"),
    ],
)
def test_with_options_validates_like_the_constructor(
    changes: dict[str, object], message: str
) -> None:
    client = PrintoraClient(API_KEY, base_url="http://127.0.0.1:9", rate_limit=None)
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        client.with_options(**changes)  # type: ignore[arg-type]
    if "max_retries" not in changes:  # a field of the retry policy, not of the options
        with pytest.raises(ValueError):
            Options(**changes)  # type: ignore[arg-type]


def test_with_options_evolves_only_what_it_is_given() -> None:
    client = PrintoraClient(
        API_KEY, base_url="http://127.0.0.1:9", rate_limit=None, timeout=3.0, max_queue_wait=2.0
    )
    derived = client.with_options(max_retries=0, extra_headers={"X-Tenant": "t1"})
    assert derived._options == Options(
        timeout=3.0,
        retry=RetryPolicy(max_retries=0),
        max_queue_wait=2.0,
        extra_headers={"X-Tenant": "t1"},
    )
    policy = RetryPolicy(max_retries=1, backoff_base=0.01)
    assert derived.with_options(retry=policy, deadline=None)._options.retry == RetryPolicy(
        max_retries=1, backoff_base=0.01, deadline=None
    )


async def test_every_per_call_option_reaches_the_wire(scripted: ScriptedServer) -> None:
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, retry=FAST_RETRY
    ) as client:
        scripted.add(ok(ORDERS), ok(ORDERS))
        small = client.with_options(max_response_size=64)
        with pytest.raises(ResponseTooLargeError):
            await small.orders.list()
        assert (await client.orders.list()).items == []  # the original keeps its cap
        scripted.add(fail(503), ok(ORDERS))
        with pytest.raises(ServerError) as raised:
            await client.with_options(retry=RetryPolicy(max_retries=0)).orders.list()
        assert raised.value.attempts == 1
        assert len(scripted.seen) == 3


# -- one request object per call ---------------------------------------------------------------


def test_a_call_is_frozen_and_keeps_its_secrets_out_of_its_repr() -> None:
    call = Call("POST", "api/v1/partner-session", "sessions.create", dict, json={"a": 1})
    with pytest.raises(AttributeError):
        call.method = "GET"  # type: ignore[misc]
    assert repr(call) == (
        "Call(method='POST', path='api/v1/partner-session', operation='sessions.create', query=())"
    )


async def test_a_resource_sends_the_call_it_builds(scripted: ScriptedServer) -> None:
    """What a call carries is what the server sees: method, path, query, key and body."""
    async with PrintoraClient(
        API_KEY, base_url=scripted.base_url, rate_limit=None, retry=FAST_RETRY
    ) as client:
        scripted.add(ok(ORDERS))
        call = Call("POST", "api/v1/x", "test.x", dict, (("a", 1), ("b", "two")), {"k": 1}, "key-1")
        assert await client._pipeline.send(call) == ORDERS
    seen = scripted.seen[0]
    assert (seen.method, seen.path, seen.query) == ("POST", "/api/v1/x", {"a": "1", "b": "two"})
    assert seen.headers["Idempotency-Key"] == "key-1"
    assert seen.body == b'{"k":1}'


# -- the pure step: (status, headers, body) -> the model, or the error ---------------------------

SESSION_URL = "https://api.printora.ai/api/v1/partner-session"


def _answer(status: int, body: bytes) -> Answer:
    headers = CIMultiDictProxy(CIMultiDict({"X-Request-Id": "req-7"}))
    return decipher_response(status, headers, body, method="POST", url=SESSION_URL, now=0.0)


def test_a_created_session_decodes_to_its_model() -> None:
    body = b'{"success":true,"data":{"sessionId":"s-1","redirectUrl":"https://e/t"}}'
    session = result(_answer(201, body), decoder(Session), "POST", SESSION_URL)
    assert (session.id, session.redirect_url) == ("s-1", "https://e/t")


def test_a_201_that_is_not_a_session_names_its_real_status_url_and_request_id() -> None:
    answer = _answer(201, b'{"success":true,"data":{"unexpected":1}}')
    with pytest.raises(MalformedResponseError) as raised:
        result(answer, decoder(Session), "POST", SESSION_URL)
    error = raised.value
    assert (error.status_code, error.method, error.url) == (201, "POST", SESSION_URL)
    assert error.request_id == "req-7"
    assert '"unexpected": 1' in error.body
