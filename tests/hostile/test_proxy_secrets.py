"""Proxy credentials never reach a traceback: a real proxy on loopback answering 407."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import AsyncIterator, Iterator

import pytest

from aioprintora import APIConnectionError, PrintoraClient

from .conftest import API_KEY, FAST

pytestmark = pytest.mark.timeout(30)

PASSWORD = "pr0xyS3cret-9f2c"


async def _proxy_answering_407(seen: list[bytes]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n"
            b'Proxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n'
        )
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[bytes]]:
    seen: list[bytes] = []
    server = await _proxy_answering_407(seen)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://user:{PASSWORD}@127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with server:
        yield seen


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in seen:
        seen.append(link)
        yield link
        link = link.__cause__ or link.__context__


async def test_a_407_from_the_proxy_keeps_its_password_out_of_the_whole_chain(
    proxy: list[bytes],
) -> None:
    async with PrintoraClient(
        API_KEY, base_url="https://api.printora.invalid", rate_limit=None, retry=FAST
    ) as api:
        with pytest.raises(APIConnectionError) as info:
            await api.orders.list()
    assert proxy  # the request did go to the proxy, with its credentials
    assert b"Proxy-Authorization: Basic" in proxy[0]
    printed = "".join(traceback.format_exception(info.value))
    assert PASSWORD not in printed
    for link in _chain(info.value):
        assert PASSWORD not in str(link)
        assert PASSWORD not in repr(link)
        assert PASSWORD not in repr(link.args)
    assert "407" in printed  # what went wrong is still told
