"""Env proxies without .netrc, and the OpenTelemetry spans, over loopback servers of our own."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from aioprintora import PrintoraClient
from aioprintora.otel import OpenTelemetryHooks

from .conftest import API_KEY, FAST_RETRY
from .scripted import ScriptedServer, fail, ok

PAGE = {"orders": [], "pagination": {"total": 0, "hasMore": False}}
BODY = json.dumps({"success": True, "data": PAGE}).encode()


class Proxy:
    """A forward proxy that answers itself: records each request line and its headers."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.url = ""
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        line, *rest = head.decode("latin-1").split("\r\n")
        headers = dict(h.split(": ", 1) for h in rest if h)
        self.seen.append((line, headers))
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
            + BODY
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Proxy]:
    # A .netrc whose `default` entry matches every host: it must never reach our requests.
    netrc = tmp_path / ".netrc"
    netrc.write_text("default login intruder password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with Proxy() as p:
        monkeypatch.setenv("HTTP_PROXY", p.url)
        yield p


async def test_http_proxy_from_the_environment_sees_the_request_without_netrc(
    proxy: Proxy,
) -> None:
    async with PrintoraClient(
        API_KEY, base_url="http://printora.internal:8080", allow_insecure_http=True, rate_limit=None
    ) as client:
        page = await client.orders.list(limit=5)
    assert page.items == []
    ((line, headers),) = proxy.seen
    assert line.startswith("GET http://printora.internal:8080/api/v1/partners/orders?")
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert "Proxy-Authorization" not in headers


async def test_no_proxy_bypasses_it(
    proxy: Proxy, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    scripted.add(ok(PAGE))
    async with PrintoraClient(API_KEY, base_url=scripted.base_url, rate_limit=None) as client:
        await client.orders.list()
    assert proxy.seen == []
    assert scripted.seen[0].headers["Authorization"] == f"Bearer {API_KEY}"


async def test_netrc_default_entry_does_not_break_a_direct_call(
    proxy: Proxy, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HTTP_PROXY")
    scripted.add(ok(PAGE))
    async with PrintoraClient(API_KEY, base_url=scripted.base_url, rate_limit=None) as client:
        await client.orders.list()
    assert scripted.seen[0].headers["Authorization"] == f"Bearer {API_KEY}"


# -- OpenTelemetry -------------------------------------------------------------------------------


async def test_one_internal_span_per_call_and_a_client_span_per_attempt(
    scripted: ScriptedServer,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    scripted.add(fail(503, "BUSY"), ok(PAGE))
    async with PrintoraClient(
        API_KEY,
        base_url=scripted.base_url,
        rate_limit=None,
        retry=FAST_RETRY,
        hooks=[OpenTelemetryHooks(provider)],
    ) as client:
        await client.orders.list(status="paid")
    spans = exporter.get_finished_spans()
    (call,) = [s for s in spans if s.kind == SpanKind.INTERNAL]
    attempts = sorted((s for s in spans if s.kind == SpanKind.CLIENT), key=lambda s: s.start_time)
    assert call.name == "printora orders.list"
    assert [a.name for a in attempts] == ["GET", "GET"]
    for attempt in attempts:
        assert attempt.parent is not None and attempt.parent.span_id == call.context.span_id
        attrs = attempt.attributes or {}
        assert attrs["http.request.method"] == "GET"
        assert str(attrs["url.full"]).startswith(scripted.base_url + "/api/v1/partners/orders?")
        assert attrs["server.address"] == "127.0.0.1"
        assert attrs["server.port"] == int(scripted.base_url.rsplit(":", 1)[1])
        assert API_KEY not in json.dumps(dict(attrs))
    first, second = (a.attributes or {} for a in attempts)
    assert first["http.response.status_code"] == 503 and first["error.type"] == "503"
    assert "http.request.resend_count" not in first
    assert second["http.response.status_code"] == 200 and "error.type" not in second
    assert second["http.request.resend_count"] == 1
    assert [e.name for e in call.events] == ["retry"]
    assert call.status.is_ok


async def test_a_failed_call_marks_its_span_and_limiter_waits_are_events(
    scripted: ScriptedServer,
) -> None:
    from aioprintora.ratelimit._local import RateLimiter, Window

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    scripted.add(ok(PAGE), fail(404, "NOPE"))
    async with PrintoraClient(
        API_KEY,
        base_url=scripted.base_url,
        rate_limit=RateLimiter([Window(1, 0.05)]),
        hooks=[OpenTelemetryHooks(provider)],
    ) as client:
        await client.orders.list()
        with pytest.raises(Exception, match="NOPE"):
            await client.sessions.get("0b9c3f3e-5a55-4c43-9d2b-9f1a3c1f0a11")
    calls = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.INTERNAL]
    failed = calls[-1]
    assert failed.name == "printora sessions.get"
    assert not failed.status.is_ok
    assert (failed.attributes or {})["error.type"] == "NotFoundError"
    assert [e.name for e in failed.events] == ["rate_limit_wait"]
    assert (failed.events[0].attributes or {})["printora.reason"] == "window full"
