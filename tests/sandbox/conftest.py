"""Shared fixtures: a started sandbox and a plain aiohttp client talking to it over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from aioprintora.sandbox import Sandbox

SESSION_BODY = {
    "imageUrl": "https://partner.example/design.png",
    "successUrl": "https://partner.example/ok",
    "failedUrl": "https://partner.example/failed",
}


class Api:
    """A tiny JSON client for one sandbox partner (no SDK involved)."""

    def __init__(self, http: aiohttp.ClientSession, sb: Sandbox, api_key: str) -> None:
        self.http, self.sb, self.api_key = http, sb, api_key

    async def call(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[int, dict[str, str], Any]:
        hdrs = {"Authorization": f"Bearer {self.api_key}"} if auth else {}
        hdrs.update(headers or {})
        async with self.http.request(
            method, self.sb.base_url + path, headers=hdrs, **kwargs
        ) as resp:
            text = await resp.text()
            body = await resp.json(content_type=None) if text else None
            return resp.status, dict(resp.headers), body

    async def create_session(
        self, key: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        return await self.call(
            "POST",
            "/api/v1/partner-session",
            json=body or SESSION_BODY,
            headers={"Idempotency-Key": key},
        )


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(rate_limits=None, webhook_time_scale=0.00001) as sandbox:
        yield sandbox


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(http: aiohttp.ClientSession, sb: Sandbox) -> Api:
    return Api(http, sb, sb.api_key)
