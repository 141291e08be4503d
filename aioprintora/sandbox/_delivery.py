"""Webhook delivery: signed POSTs to the partner's URL, retried on Printora's schedule.

A delivery fails on a non-2xx answer, a connection error or no answer within the timeout; it is
then retried after 1 min, 5 min, 15 min, 1 h and 3 h (times ``time_scale``), and marked
``failed`` after the fifth retry. Every attempt updates the log entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp

from .._models import EventType, WebhookStatus
from ..webhooks._signature import SIGNATURE_HEADER, sign_payload
from ._payloads import PayloadStyle, build_payload
from ._records import OrderRecord, WebhookLogRecord
from ._state import Partner
from ._world import World

__all__ = ["RETRY_SCHEDULE", "Deliverer"]

RETRY_SCHEDULE = (60.0, 300.0, 900.0, 3600.0, 10800.0)
_RESPONSE_EXCERPT = 1000


class Deliverer:
    """Sends webhooks with one ``ClientSession`` and tracks the pending ones."""

    def __init__(
        self, world: World, *, time_scale: float, timeout: float, style: PayloadStyle
    ) -> None:
        self.world = world
        self.time_scale = time_scale
        self.timeout = timeout
        self.style = style
        self._session: aiohttp.ClientSession | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._attempting: set[str] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def clock(self) -> Callable[[], float]:
        return self.world.clock

    def start(self) -> None:
        """Open the delivery session (inside the running loop)."""
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)

    async def aclose(self) -> None:
        """Cancel pending deliveries and close the session."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._idle.set()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- scheduling ----------------------------------------------------------------------------

    def emit(
        self, partner: Partner, order: OrderRecord, event: EventType, at: float | None = None
    ) -> WebhookLogRecord:
        """Log ``event`` about ``order`` and deliver it now.

        ``at`` (default now) is when the event happened: the payload's ``timestamp`` and the log
        entry's ``createdAt``. Seeded orders pass the times of their history.
        """
        when = self.clock() if at is None else at
        payload = build_payload(order, event, when, self.style)
        log = self.world.new_log(partner, order, event, payload, when)
        self._schedule(partner, log, 0.0)
        return log

    def retry(self, partner: Partner, log: WebhookLogRecord) -> None:
        """Deliver ``log`` again now (skipping the wait of a scheduled retry)."""
        if log.id in self._attempting:
            return  # an attempt is under way: starting another would deliver twice
        task = self._tasks.pop(log.id, None)
        if task is not None:
            task.cancel()
        partner.state.update_log(log, status=WebhookStatus.PENDING, next_retry_at=None)
        self._schedule(partner, log, 0.0)

    def _schedule(self, partner: Partner, log: WebhookLogRecord, delay: float) -> None:
        task = asyncio.get_running_loop().create_task(self._run(partner, log, delay))
        self._tasks[log.id] = task
        self._idle.clear()
        task.add_done_callback(lambda t: self._forget(log.id, t))

    def _forget(self, log_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(log_id) is task:
            del self._tasks[log_id]
        if not self._tasks:
            self._idle.set()

    async def wait_idle(self, timeout: float | None) -> None:
        """Wait until no delivery is pending or scheduled (``TimeoutError`` after ``timeout``)."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    @property
    def pending(self) -> int:
        """Deliveries under way or waiting for a retry."""
        return len(self._tasks)

    # -- one attempt ---------------------------------------------------------------------------

    async def _run(self, partner: Partner, log: WebhookLogRecord, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        self._attempting.add(log.id)
        try:
            ok, changes = await self._attempt(partner, log)
        finally:
            self._attempting.discard(log.id)
        state = partner.state
        if ok or partner.webhook_url is None:
            state.update_log(log, **changes, next_retry_at=None)
            return
        if log.auto_retries >= len(RETRY_SCHEDULE):
            state.update_log(log, **changes, status=WebhookStatus.FAILED, next_retry_at=None)
            return
        wait = RETRY_SCHEDULE[log.auto_retries] * self.time_scale
        state.update_log(
            log,
            **changes,
            status=WebhookStatus.RETRYING,
            auto_retries=log.auto_retries + 1,
            next_retry_at=self.clock() + wait,
        )
        self._schedule(partner, log, wait)

    async def _attempt(
        self, partner: Partner, log: WebhookLogRecord
    ) -> tuple[bool, dict[str, Any]]:
        """POST the payload once: ``(delivered, changes to the log)``."""
        url = partner.webhook_url
        if url is None:
            message = "No webhook URL configured"
            return False, {"status": WebhookStatus.FAILED, "error_message": message}
        assert self._session is not None, "the sandbox is not started"
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_payload(log.payload, partner.webhook_secret),
            "User-Agent": "Printora-Webhooks/1.0 (aioprintora sandbox)",
        }
        changes: dict[str, Any] = {
            "attempt_count": log.attempt_count + 1,
            "last_attempt_at": self.clock(),
        }
        try:
            async with self._session.post(url, data=log.payload, headers=headers) as resp:
                text = await resp.text(errors="replace")
                status = resp.status
        except asyncio.TimeoutError:
            changes.update(http_status_code=None, error_message="Connection timeout")
            return False, changes
        except aiohttp.ClientError as exc:
            message = f"Connection error: {type(exc).__name__}"
            changes.update(http_status_code=None, error_message=message)
            return False, changes
        changes.update(http_status_code=status, response_data=_response_data(text))
        if 200 <= status < 300:
            changes.update(status=WebhookStatus.SENT, error_message=None)
            return True, changes
        changes["error_message"] = f"Endpoint answered HTTP {status}"
        return False, changes


def _response_data(text: str) -> dict[str, Any] | None:
    """The endpoint's answer as an object: its JSON object, or its text under ``body``."""
    if not text:
        return None
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        if isinstance(data, dict):
            return data
    return {"body": text[:_RESPONSE_EXCERPT]}
