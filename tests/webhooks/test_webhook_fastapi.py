"""The FastAPI router and dependency, served on loopback (uvicorn, or the aiohttp ASGI bridge)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

pytest.importorskip("fastapi")

from fastapi import Depends, FastAPI

from aioprintora.webhooks import SIGNATURE_HEADER, WebhookEvent
from aioprintora.webhooks.fastapi_receiver import verified_event, webhook_router

from .conftest import SECRET, event_body, serve_asgi, signed_headers

Post = Callable[..., Awaitable[tuple[int, dict[str, object]]]]


class Recorder:
    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self.fail_next = 0

    async def __call__(self, event: WebhookEvent) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("downstream failed")
        self.events.append(event)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def post(http: aiohttp.ClientSession, recorder: Recorder) -> AsyncIterator[Post]:
    app = FastAPI()
    app.include_router(webhook_router(SECRET, recorder, path="/hooks", max_body_size=2048))

    @app.post("/manual")
    async def manual(
        event: WebhookEvent = Depends(verified_event(SECRET, max_body_size=2048)),  # noqa: B008
    ) -> dict[str, str]:
        return {"session": event.session_id, "event": str(event.event_type)}

    async with serve_asgi(app) as base:

        async def send(
            path: str, body: bytes, headers: dict[str, str] | None = None
        ) -> tuple[int, dict[str, object]]:
            hdrs = signed_headers(body) if headers is None else headers
            async with http.post(base + path, data=body, headers=hdrs) as resp:
                return resp.status, await resp.json()

        yield send


async def test_router_processes_then_suppresses_duplicates(post: Post, recorder: Recorder) -> None:
    body = event_body(session_id="fa-1")
    assert await post("/hooks", body) == (200, {"status": "processed"})
    assert await post("/hooks", body) == (200, {"status": "duplicate"})
    assert [e.session_id for e in recorder.events] == ["fa-1"]


async def test_router_rejections(post: Post, recorder: Recorder) -> None:
    body = event_body()
    assert (await post("/hooks", body, {SIGNATURE_HEADER: "sha256=" + "0" * 64}))[0] == 401
    assert (await post("/hooks", body, {}))[0] == 401
    assert (await post("/hooks", b"[1, 2]"))[0] == 400
    assert (await post("/hooks", event_body(pad="x" * 3000)))[0] == 413
    assert recorder.events == []


async def test_router_callback_failure_is_500_then_retry_processed(
    post: Post, recorder: Recorder
) -> None:
    recorder.fail_next = 1
    body = event_body(session_id="fa-retry")
    assert await post("/hooks", body) == (500, {"error": "callback_failed"})
    assert await post("/hooks", body) == (200, {"status": "processed"})
    assert len(recorder.events) == 1


async def test_dependency_yields_the_verified_event(post: Post) -> None:
    body = event_body("order.paid", session_id="dep")
    assert await post("/manual", body) == (200, {"session": "dep", "event": "order.paid"})
    status, answer = await post("/manual", body, {SIGNATURE_HEADER: "sha256=x"})
    assert status == 401
    assert "malformed" in str(answer["detail"])
    assert (await post("/manual", b"nope"))[0] == 400
    assert (await post("/manual", event_body(pad="x" * 3000)))[0] == 413
