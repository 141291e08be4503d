"""``PrintoraClient``: one object, one connection pool, one rate limiter, explicit lifecycle."""

from __future__ import annotations

import functools
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import attrs
from yarl import URL

from ._http import sansio as _sansio
from ._http._body import DEFAULT_MAX_RESPONSE_SIZE
from ._http.pipeline import Options, Pipeline, Secret
from ._http.retry import RetryPolicy
from ._http.transport import Pool
from ._logging import configure_from_env
from .clock import SYSTEM_CLOCK, Clock
from .hooks import Dispatch, Hooks

if TYPE_CHECKING:
    from types import TracebackType

    from .ratelimit._local import Limiter, Window
    from .resources.orders import Orders
    from .resources.sessions import Sessions
    from .resources.webhook_logs import WebhookLogs

__all__ = ["PrintoraClient"]

logger = logging.getLogger("aioprintora")


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: The documented 60/min and 10,000/day, enforced in this process.
DEFAULT_RATE_LIMIT: Any = _Sentinel("DEFAULT_RATE_LIMIT")
_UNSET: Any = _Sentinel("UNSET")


class PrintoraClient:
    """An async client for the Printora Partner API.

    Args:
        api_key: the partner key (``sk_test_…`` / ``sk_live_…``); default ``$PRINTORA_API_KEY``.
        base_url: the API root; default ``$PRINTORA_BASE_URL``, else the ``environment``'s.
        environment: ``"production"`` or ``"staging"``.
        timeout: seconds one attempt may take, from send to the last byte of the body.
        max_retries: retries after the first attempt (see :mod:`aioprintora._http.retry`).
        deadline: seconds the whole call may take, every attempt and backoff sleep included
            (time queued in the rate limiter excluded); ``None`` for no deadline.
        rate_limit: ``DEFAULT_RATE_LIMIT`` (60/min and 10,000/day in this process), ``None`` to
            switch it off, a sequence of :class:`~aioprintora.ratelimit.Window`, or a limiter
            shared with other clients (e.g. :class:`~aioprintora.ratelimit.RedisRateLimiter`).
        pool_size: most connections open at once.
        session: an ``aiohttp.ClientSession`` of yours to send through; never closed by us. Its
            own middlewares are not applied to our requests.
        retry: a whole :class:`~aioprintora._http.retry.RetryPolicy`; overrides ``max_retries``
            and ``deadline``.
        clock: a :class:`~aioprintora.clock.Clock` for every wait and time reading of the
            request path (backoff sleeps, deadlines, the default rate limiter); default the
            real one. Tests pass a :class:`~aioprintora.clock.VirtualClock`.
        max_queue_wait: seconds one attempt may queue in the rate limiter before the call
            raises :class:`~aioprintora.RateLimitError` unsent; ``None`` (default): no
            bound. A wait the limiter knows exceeds ``retry.max_server_wait`` fails at once.
        max_response_size: bytes an answer may have once decompressed (default 16 MiB);
            longer ones raise :class:`~aioprintora.ResponseTooLargeError`.
        hooks: :class:`~aioprintora.hooks.Hooks` told of every attempt, retry and rate-limit
            wait (metrics, tracing: :class:`~aioprintora.otel.OpenTelemetryHooks`).
        allow_insecure_http: allow a plain ``http://`` ``base_url`` on a host other than
            loopback (a sandbox in docker-compose); default ``$PRINTORA_ALLOW_INSECURE_HTTP``
            (``1``). The API key then crosses the network in clear: a warning is logged.

    Our own connection pool honours ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY`` (read when it
    is made) but never ``.netrc``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        environment: Literal["production", "staging"] = "production",
        timeout: float = 30.0,
        max_retries: int = 5,
        deadline: float | None = 120.0,
        rate_limit: Limiter | Sequence[Window] | None = DEFAULT_RATE_LIMIT,
        pool_size: int = 10,
        session: aiohttp.ClientSession | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        max_queue_wait: float | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        hooks: Sequence[Hooks] = (),
        allow_insecure_http: bool | None = None,
    ) -> None:
        configure_from_env()
        key = api_key if api_key is not None else os.environ.get("PRINTORA_API_KEY")
        if not key:
            raise ValueError("no API key: pass api_key=... or set PRINTORA_API_KEY")
        if not key.isprintable() or not key.isascii() or " " in key:
            # CR/LF would split the Authorization header; the message must not show the key.
            raise ValueError("the API key contains whitespace or control characters")
        if allow_insecure_http is None:
            allow_insecure_http = os.environ.get("PRINTORA_ALLOW_INSECURE_HTTP", "") == "1"
        hooks = tuple(hooks)
        if not all(isinstance(hook, Hooks) for hook in hooks):
            raise TypeError("hooks must be aioprintora.hooks.Hooks instances")
        if pool_size < 1:
            raise ValueError("pool_size must be >= 1")
        options = Options(
            timeout=timeout,
            retry=retry or RetryPolicy(max_retries=max_retries, deadline=deadline),
            max_queue_wait=max_queue_wait,
            max_response_size=max_response_size,
        )
        clock = clock or SYSTEM_CLOCK
        limiter = _limiter(rate_limit, clock)
        self._setup(
            Secret(key),
            _base_url(base_url, environment, allow_insecure=allow_insecure_http),
            Pool(session=session, owned=session is None, size=pool_size, limiter=limiter),
            options,
            clock=clock,
            hooks=hooks,
        )
        self._derived = False

    def _setup(
        self,
        key: Secret,
        base_url: URL,
        pool: Pool,
        options: Options,
        *,
        clock: Clock,
        hooks: tuple[Hooks, ...],
    ) -> None:
        self._key = key
        #: The API root every path is joined to.
        self.base_url = base_url
        self._pool = pool
        self._options = options
        self._clock = clock
        self._hooks = hooks
        self._dispatch = Dispatch(hooks) if hooks else None
        self._pipeline = Pipeline(
            pool,
            options,
            key=key,
            base_url=base_url,
            clock=clock,
            hooks=self._dispatch,
            user_agent=_user_agent(),
        )

    def __repr__(self) -> str:
        return f"<PrintoraClient base_url={str(self.base_url)!r} api_key=<redacted>>"

    # -- resources -------------------------------------------------------------------------------

    @cached_property
    def sessions(self) -> Sessions:
        """Partner sessions: create, get, validate a token."""
        from .resources.sessions import Sessions

        return Sessions(self)

    @cached_property
    def orders(self) -> Orders:
        """Orders placed through your sessions."""
        from .resources.orders import Orders

        return Orders(self)

    @cached_property
    def webhook_logs(self) -> WebhookLogs:
        """Webhook delivery logs; resend and retry deliveries."""
        from .resources.webhook_logs import WebhookLogs

        return WebhookLogs(self)

    # -- options and lifecycle -------------------------------------------------------------------

    def with_options(
        self,
        *,
        timeout: float = _UNSET,
        max_retries: int = _UNSET,
        deadline: float | None = _UNSET,
        max_queue_wait: float | None = _UNSET,
        max_response_size: int = _UNSET,
        extra_headers: Mapping[str, str] | None = None,
        retry: RetryPolicy = _UNSET,
    ) -> PrintoraClient:
        """A client sharing this one's pool and limiter, with other per-call options.

        Example: ``await client.with_options(max_retries=0).orders.list()``, or
        ``client.with_options(max_queue_wait=2.0)`` for a web handler that would rather fail
        in 2 s than queue behind a busy rate limiter. Options not named keep this client's.

        Args:
            timeout: seconds one attempt may take.
            max_retries: retries after the first attempt.
            deadline: seconds the whole call may take (``None``: no deadline).
            max_queue_wait: seconds one attempt may queue in the rate limiter (``None``: no
                bound).
            max_response_size: bytes an answer may have once decompressed.
            extra_headers: sent on every request of the new client, added to this one's;
                ``Authorization``, ``Content-Type``, ``Content-Length``, ``Host`` and
                ``Idempotency-Key`` are the SDK's and raise ValueError here.
            retry: a whole :class:`~aioprintora._http.retry.RetryPolicy` (``max_retries`` and
                ``deadline``, when given too, are applied to it).
        """
        given = {
            "timeout": timeout,
            "max_queue_wait": max_queue_wait,
            "max_response_size": max_response_size,
            "retry": retry,
        }
        changes: dict[str, Any] = {k: v for k, v in given.items() if v is not _UNSET}
        policy = {"max_retries": max_retries, "deadline": deadline}
        policy = {k: v for k, v in policy.items() if v is not _UNSET}
        if policy:
            changes["retry"] = attrs.evolve(changes.get("retry", self._options.retry), **policy)
        if extra_headers:
            changes["extra_headers"] = {**self._options.extra_headers, **extra_headers}
        clone = object.__new__(PrintoraClient)
        clone._setup(
            self._key,
            self.base_url,
            self._pool,
            attrs.evolve(self._options, **changes),
            clock=self._clock,
            hooks=self._hooks,
        )
        clone._derived = True  # the original owns the pool's lifecycle (and its warning)
        return clone

    @property
    def limiter(self) -> Limiter | None:
        """The rate limiter every request of this client waits for (None when switched off)."""
        return self._pool.limiter

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._pool.closed

    async def aclose(self) -> None:
        """Release the connection pool (a session passed in by you is left open).

        Like every closer of this SDK that must be awaited, it is spelled ``aclose`` (as for
        async generators, ``contextlib.aclosing`` and httpx); closing twice is harmless.
        """
        await self._pool.aclose()

    async def __aenter__(self) -> PrintoraClient:
        self._pool.open_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        pool = self.__dict__.get("_pool")
        if self.__dict__.get("_derived"):
            return
        if pool is not None and pool.owned and pool.session is not None and not pool.closed:
            warnings.warn(
                "PrintoraClient was not closed: use 'async with' or 'await client.aclose()'",
                ResourceWarning,
                stacklevel=2,
            )


@functools.cache
def _user_agent() -> str:
    from . import __version__

    return f"aioprintora/{__version__}"


def _base_url(base_url: str | None, environment: str, *, allow_insecure: bool = False) -> URL:
    raw = base_url or os.environ.get("PRINTORA_BASE_URL")
    if raw is None:
        if environment not in _sansio.ENVIRONMENTS:
            raise ValueError(f"environment must be one of {', '.join(_sansio.ENVIRONMENTS)}")
        raw = _sansio.ENVIRONMENTS[environment]
    url = URL(raw)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {raw!r}")
    if url.scheme == "http" and not _sansio.is_loopback(url):
        if not allow_insecure:
            raise ValueError(
                f"refusing to send the API key over plain http to {url.host}: use https "
                "(plain http is allowed only to a loopback host such as the local sandbox, "
                "or with allow_insecure_http=True / PRINTORA_ALLOW_INSECURE_HTTP=1)"
            )
        logger.warning(
            "allow_insecure_http: the API key is sent in clear over plain http to %s", url.host
        )
    # A trailing slash makes URL.join keep the base's path (e.g. a proxy prefix).
    return url if url.path.endswith("/") else url.with_path(url.path + "/")


def _limiter(rate_limit: Any, clock: Clock) -> Limiter | None:
    if rate_limit is None:
        return None
    from .ratelimit._local import DEFAULT_WINDOWS, RateLimiter

    if rate_limit is DEFAULT_RATE_LIMIT:
        return RateLimiter(DEFAULT_WINDOWS, clock=clock)
    if isinstance(rate_limit, Sequence):
        return RateLimiter(tuple(rate_limit), clock=clock)
    return rate_limit  # type: ignore[no-any-return]
