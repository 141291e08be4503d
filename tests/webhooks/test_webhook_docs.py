"""Every Python block of docs/webhooks.md runs, and the endpoints it shows actually work."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from .conftest import event_body, serve, serve_asgi, signed_headers

DOC = Path(__file__).parents[2] / "docs" / "webhooks.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text("utf-8"), flags=re.DOTALL)


def _block(marker: str) -> str:
    (code,) = [b for b in BLOCKS if marker in b]
    return str(code)


def _run(code: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "webhooks_doc_example"}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace


def test_every_block_compiles() -> None:
    assert len(BLOCKS) >= 8
    for code in BLOCKS:
        compile(code, str(DOC), "exec")


@pytest.mark.parametrize(
    "marker", ["construct_event(body, header", "rotation", "check_timestamp(", "tracker.apply"]
)
def test_plain_examples_run(marker: str, capsys: pytest.CaptureFixture[str]) -> None:
    marker = "verify_signature(body, sign_payload" if marker == "rotation" else marker
    _run(_block(marker))
    if "check_timestamp" in marker:
        assert "25200s old, outside the 21600s tolerance" in capsys.readouterr().out


async def _deliver_and_wait(
    http: aiohttp.ClientSession, url: str, secret: str, done: Callable[[], bool]
) -> None:
    """Deliver one event twice (processed, then duplicate) and wait for the worker."""
    answers = []
    for _ in range(2):
        body = event_body("order.shipped", session_id="doc-session")
        async with http.post(url, data=body, headers=signed_headers(body, secret)) as resp:
            answers.append((resp.status, (await resp.json())["status"]))
    assert answers == [(200, "processed"), (200, "duplicate")]
    for _ in range(200):
        if done():
            break
        await asyncio.sleep(0.01)
    assert done()


async def test_aiohttp_example_serves(http: aiohttp.ClientSession) -> None:
    ns = _run(_block("A Printora webhook endpoint on aiohttp"))
    async with serve(ns["create_app"]("whsec_doc")) as base:
        tracker = ns["TRACKER"]
        await _deliver_and_wait(
            http, base + "/webhooks/printora", "whsec_doc", lambda: len(tracker) == 1
        )
    assert str(tracker.status("doc-session")) == "shipped"


async def test_fastapi_example_serves(
    http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("fastapi")
    monkeypatch.setenv("PRINTORA_WEBHOOK_SECRET", "whsec_doc_fastapi")
    ns = _run(_block("A Printora webhook endpoint on FastAPI"))
    tracker = ns["TRACKER"]
    async with serve_asgi(ns["app"], lifespan="on") as base:
        await _deliver_and_wait(
            http, base + "/webhooks/printora", "whsec_doc_fastapi", lambda: len(tracker) == 1
        )
    assert str(tracker.status("doc-session")) == "shipped"


async def test_fastapi_dependency_example(http: aiohttp.ClientSession) -> None:
    pytest.importorskip("fastapi")
    ns = _run(_block('verified_event("whsec_change_me")'))
    body = event_body("order.paid")
    async with serve_asgi(ns["app"]) as base:
        url = base + "/webhooks/printora"
        async with http.post(url, data=body, headers=signed_headers(body, "whsec_change_me")) as r:
            assert (r.status, await r.json()) == (200, {"received": "order.paid"})
        async with http.post(url, data=body, headers=signed_headers(body, "whsec_other")) as r:
            assert r.status == 401


@pytest.mark.redis
async def test_redis_example_serves(
    http: aiohttp.ClientSession, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    ns = _run(_block("Several webhook workers sharing one Redis"))
    app: web.Application = await ns["create_app"]()
    async with serve(app) as base:
        body = event_body("order.paid", session_id=f"doc-redis-{id(app)}")
        answers = []
        for _ in range(2):
            headers = signed_headers(body, "whsec_change_me")
            async with http.post(base + "/webhooks/printora", data=body, headers=headers) as r:
                answers.append((r.status, (await r.json())["status"]))
    assert answers == [(200, "processed"), (200, "duplicate")]


async def test_sandbox_testing_example_passes() -> None:
    ns = _run(_block("async def test_my_endpoint_gets_every_event_once"))
    await ns["test_my_endpoint_gets_every_event_once"]()
