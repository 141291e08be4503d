"""The :class:`Sandbox`: a stateful local Printora Partner API on a loopback port.

::

    async with Sandbox() as sb:
        ...  # point a client at sb.base_url with sb.api_key
        order = await sb.simulate_checkout(session_id)
        await sb.advance_order(order.id, "shipped")
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Literal

from aiohttp import web

from ._controls import add_control_routes
from ._delivery import Deliverer
from ._driving import DrivingMixin
from ._faults import FaultPlan
from ._middleware import SANDBOX, RequestRecord, make_middleware
from ._payloads import PayloadStyle
from ._ratelimit import QuotaCounter
from ._records import OrderRecord, WebhookLogRecord
from ._routes import add_api_routes
from ._state import Partner
from ._world import World

__all__ = ["DEFAULT_RATE_LIMITS", "Sandbox"]

#: The documented limits: 60 requests per minute and 10,000 per day, per API key.
DEFAULT_RATE_LIMITS: tuple[tuple[int, float], ...] = ((60, 60.0), (10_000, 86_400.0))

logger = logging.getLogger("aioprintora.sandbox")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


class Sandbox(DrivingMixin):
    """A stateful emulator of the Partner API, served by ``aiohttp.web`` on loopback.

    Args:
        host: interface to bind (loopback unless you pass another one; any other address logs
            a warning, since whoever reaches it can use the sandbox's keys).
        port: TCP port; 0 picks a free one (read it back from :attr:`base_url`).
        seed: seeds every id, token, key and price, so runs repeat exactly; None (the default)
            draws a random one, kept in :attr:`seed`.
        clock: wall-clock seconds for timestamps, windows and expiries (default ``time.time``);
            :meth:`advance_clock` moves the sandbox's time ahead of it.
        rate_limits: ``(limit, window seconds)`` pairs per API key; None disables limiting.
        rate_limit_algorithm: ``"fixed"`` or ``"sliding"`` windows.
        webhook_time_scale: multiplies the retry schedule (1 min ... 3 h) so tests run it fast.
        webhook_timeout: seconds a webhook endpoint has to answer 2xx.
        webhook_url: where the default partner's webhooks go.
        webhook_payload_style: ``"example"`` (camelCase data) or ``"collection"`` (snake_case).
        idempotency_ttl: seconds an ``Idempotency-Key`` is remembered.
        request_log_size: how many requests :attr:`requests` keeps.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        clock: Callable[[], float] | None = None,
        rate_limits: Sequence[tuple[int, float]] | None = DEFAULT_RATE_LIMITS,
        rate_limit_algorithm: Literal["fixed", "sliding"] = "fixed",
        webhook_time_scale: float = 1.0,
        webhook_timeout: float = 5.0,
        webhook_url: str | None = None,
        webhook_payload_style: PayloadStyle = "example",
        idempotency_ttl: float = 86_400.0,
        request_log_size: int = 10_000,
    ) -> None:
        if webhook_payload_style not in ("example", "collection"):
            raise ValueError(f"unknown webhook payload style {webhook_payload_style!r}")
        if not _is_loopback(host):
            logger.warning(
                "Sandbox on %s, which is not a loopback address: anyone who can reach it can "
                "use its test keys and read its partners' data; pass host='127.0.0.1' "
                "unless you mean to share it",
                host,
            )
        self.host, self.port = host, port
        #: The seed of every id, token, key and price (pass it back to repeat a run).
        self.seed: int = secrets.randbits(32) if seed is None else seed
        self._source_clock: Callable[[], float] = clock or time.time
        #: Seconds :meth:`advance_clock` has added to the clock.
        self.clock_offset = 0.0
        self.clock: Callable[[], float] = self._now
        self.world = World(self.clock, self.seed, idempotency_ttl)
        self.default_partner = self.world.add_partner(webhook_url)
        self.limiter = QuotaCounter(rate_limits, rate_limit_algorithm) if rate_limits else None
        self.faults = FaultPlan()
        #: The last ``request_log_size`` requests received (never their ``Authorization``).
        self.requests: deque[RequestRecord] = deque(maxlen=request_log_size)
        self.deliverer = Deliverer(
            self.world,
            time_scale=webhook_time_scale,
            timeout=webhook_timeout,
            style=webhook_payload_style,
        )
        self.closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        state = "running" if self._runner else "stopped"
        return f"<Sandbox {state} at {self.base_url or self.host}>"

    # -- lifecycle -----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        """The ``aiohttp.web`` application (routes and middleware) of this sandbox."""
        app = web.Application(middlewares=[make_middleware(self)], client_max_size=1024**2)
        app[SANDBOX] = self
        add_api_routes(app)
        add_control_routes(app)
        return app

    async def start(self) -> Sandbox:
        """Bind the port and start serving."""
        if self._runner is not None:
            return self
        self.closing.clear()
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.world.base_url = f"http://{host}:{self.port}"
        self.deliverer.start()
        return self

    async def aclose(self) -> None:
        """Stop serving, cancel pending webhook deliveries and close their session."""
        self.closing.set()
        await self.deliverer.aclose()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- time ----------------------------------------------------------------------------------

    def _now(self) -> float:
        return self._source_clock() + self.clock_offset

    def advance_clock(self, seconds: float) -> float:
        """Move the sandbox's time ``seconds`` ahead (expiries, rate-limit windows, timestamps).

        Returns the new time, in unix seconds. Time only moves forward: listings are ordered by
        creation time, and a clock going back would break that order.

        Raises:
            ValueError: ``seconds`` is negative or not finite.
        """
        number = isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
        if not (number and math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        self.clock_offset += float(seconds)
        return self.clock()

    # -- the default partner -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` once started."""
        return self.world.base_url

    @property
    def api_key(self) -> str:
        """The default partner's ``sk_test_`` key."""
        return self.default_partner.api_key

    @property
    def webhook_secret(self) -> str:
        """The default partner's ``whsec_`` webhook secret."""
        return self.default_partner.webhook_secret

    @property
    def partner_id(self) -> str:
        """The default partner's id."""
        return self.default_partner.partner_id

    # -- partners and introspection ------------------------------------------------------------

    def add_partner(self, webhook_url: str | None = None) -> Partner:
        """A new, isolated partner with its own key and webhook secret."""
        return self.world.add_partner(webhook_url)

    def partner(self, api_key: str | None = None) -> Partner:
        """The partner owning ``api_key`` (the default partner when None)."""
        if api_key is None:
            return self.default_partner
        partner = self.world.partner_for_key(api_key)
        if partner is None:
            raise KeyError("this sandbox did not issue that API key")
        return partner

    def set_webhook_url(self, url: str | None, api_key: str | None = None) -> None:
        """Where the partner's webhooks go (None: nowhere; deliveries are logged as failed)."""
        self.partner(api_key).webhook_url = url

    def session_count(self, api_key: str | None = None) -> int:
        """How many sessions the partner has."""
        return len(self.partner(api_key).state.sessions)

    def orders(self, api_key: str | None = None) -> list[OrderRecord]:
        """The partner's orders, newest first."""
        index = self.partner(api_key).state.order_index.all
        return index.page(len(index), 0).items

    def webhook_logs(self, api_key: str | None = None) -> list[WebhookLogRecord]:
        """The partner's webhook log entries, newest first."""
        index = self.partner(api_key).state.log_index.all
        return index.page(len(index), 0).items

    def reset(self, api_key: str | None = None) -> None:
        """Forget the partner's sessions, orders, logs, idempotency keys and rate-limit counts."""
        partner = self.partner(api_key)
        self.world.reset_partner(partner)
        if self.limiter is not None:
            self.limiter.forget(partner.partner_id)
