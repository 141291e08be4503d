"""``PrintoraClient``: one object, one connection pool, one rate limiter, explicit lifecycle."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import errors
from ._http import sansio as _sansio
from ._http._body import DEFAULT_MAX_RESPONSE_SIZE
from ._http._proxy import ProxyChooser
from ._http.retry import RetryMiddleware, RetryPolicy, is_idempotent
from ._http.transport import CallState, Request, Transport, make_session
from ._logging import configure_from_env
from .clock import SYSTEM_CLOCK, Clock
from .hooks import CallInfo, Dispatch, Hooks, emit
from .response import RAW, RawResponse

if TYPE_CHECKING:
    from types import TracebackType

    from .ratelimit._local import Limiter, Window
    from .resources.orders import Orders
    from .resources.sessions import Sessions
    from .resources.webhook_logs import WebhookLogs

__all__ = ["PrintoraClient"]

T = TypeVar("T")
logger = logging.getLogger("aioprintora")

#: Headers ``extra_headers`` may not set: the key is the client's, the others are per request.
_RESERVED_HEADERS = frozenset({"authorization", "content-type", "content-length", "host"})
_RESERVED_HEADERS |= {"idempotency-key"}


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: The documented 60/min and 10,000/day, enforced in this process.
DEFAULT_RATE_LIMIT: Any = _Sentinel("DEFAULT_RATE_LIMIT")
_UNSET: Any = _Sentinel("UNSET")


class _Secret:
    """Holds the API key so that no repr, traceback local or ``vars()`` dump shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"


class _Headers:
    """The headers of every request of one client, built once (they carry the key: redacted)."""

    __slots__ = ("value",)

    def __init__(self, key: str, extra: Mapping[str, str]) -> None:
        # aiohttp's own header type: it takes it as is, where a dict is converted per request.
        headers = {
            "User-Agent": _user_agent(),
            "Accept": "application/json",
            **extra,
            "Authorization": f"Bearer {key}",
        }
        self.value: Mapping[str, str] = CIMultiDictProxy(CIMultiDict(headers))

    def __repr__(self) -> str:
        return "<redacted>"


@attrs.frozen
class _Options:
    timeout: float
    retry: RetryPolicy
    max_queue_wait: float | None = None
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE
    extra_headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.define(eq=False)
class _Pool:
    """The state clients derived by ``with_options`` share: pool, limiter, lifecycle."""

    session: aiohttp.ClientSession | None
    owned: bool
    limiter: Limiter | None
    closed: bool = False
    #: The loop the session was made in (a pool cannot move between loops).
    loop: asyncio.AbstractEventLoop | None = None
    #: Proxies from the environment, for our own session only (None: none set, or yours).
    proxy: ProxyChooser | None = None


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
            raises :class:`~aioprintora.errors.RateLimitError` unsent; ``None`` (default): no
            bound. A wait the limiter knows exceeds ``retry.max_server_wait`` fails at once.
        max_response_size: bytes an answer may have once decompressed (default 16 MiB);
            longer ones raise :class:`~aioprintora.errors.ResponseTooLargeError`.
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
        self._key = _Secret(key)
        if allow_insecure_http is None:
            allow_insecure_http = os.environ.get("PRINTORA_ALLOW_INSECURE_HTTP", "") == "1"
        self.base_url = _base_url(base_url, environment, allow_insecure=allow_insecure_http)
        self._hooks = tuple(hooks)
        if not all(isinstance(hook, Hooks) for hook in self._hooks):
            raise TypeError("hooks must be aioprintora.hooks.Hooks instances")
        self._dispatch = Dispatch(self._hooks) if self._hooks else None
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if pool_size < 1:
            raise ValueError("pool_size must be >= 1")
        self._pool_size = pool_size
        _check_bounds(max_queue_wait, max_response_size)
        self._options = _Options(
            timeout=timeout,
            retry=retry or RetryPolicy(max_retries=max_retries, deadline=deadline),
            max_queue_wait=max_queue_wait,
            max_response_size=max_response_size,
        )
        self._clock = clock or SYSTEM_CLOCK
        limiter = _limiter(rate_limit, self._clock)
        self._pool = _Pool(session=session, owned=session is None, limiter=limiter)
        self._transport = self._build_transport()
        self._retry = self._build_retry()
        self._derived = False

    def _build_retry(self) -> RetryMiddleware:
        return RetryMiddleware(self._options.retry, self._options.timeout, clock=self._clock)

    def _build_transport(self) -> Transport:
        self._headers = _Headers(self._key.reveal(), self._options.extra_headers)
        return Transport(
            self._pool.limiter,
            self._clock,
            self._is_closed,
            max_response_size=self._options.max_response_size,
            max_server_wait=self._options.retry.max_server_wait,
            max_queue_wait=self._options.max_queue_wait,
        )

    def _is_closed(self) -> bool:
        return self._pool.closed

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
        timeout: float | None = None,
        max_retries: int | None = None,
        deadline: float | None = _UNSET,
        max_queue_wait: float | None = _UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> PrintoraClient:
        """A client sharing this one's pool and limiter, with other timeout or retry settings.

        Example: ``await client.with_options(max_retries=0).orders.list()``, or
        ``client.with_options(max_queue_wait=2.0)`` for a web handler that would rather fail
        in 2 s than queue behind a busy rate limiter.

        Args:
            timeout: seconds one attempt may take.
            max_retries: retries after the first attempt.
            deadline: seconds the whole call may take (``None``: no deadline).
            max_queue_wait: seconds one attempt may queue in the rate limiter (``None``: no
                bound).
            extra_headers: sent on every request of the new client, added to this one's;
                ``Authorization``, ``Content-Type``, ``Content-Length``, ``Host`` and
                ``Idempotency-Key`` are the SDK's and raise ValueError here.
        """
        clone = object.__new__(PrintoraClient)
        clone.__dict__.update(
            {
                k: v
                for k, v in self.__dict__.items()
                if k not in ("sessions", "orders", "webhook_logs")
            }
        )
        retry = self._options.retry
        if max_retries is not None:
            retry = attrs.evolve(retry, max_retries=max_retries)
        if deadline is not _UNSET:
            retry = attrs.evolve(retry, deadline=deadline)
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive")
        queue = self._options.max_queue_wait if max_queue_wait is _UNSET else max_queue_wait
        _check_bounds(queue, self._options.max_response_size)
        headers = dict(self._options.extra_headers)
        if extra_headers:
            reserved = sorted(k for k in extra_headers if k.lower() in _RESERVED_HEADERS)
            if reserved:
                raise ValueError(f"extra_headers cannot set {', '.join(reserved)}")
            headers.update(extra_headers)
        clone._options = attrs.evolve(
            self._options,
            timeout=timeout or self._options.timeout,
            retry=retry,
            max_queue_wait=queue,
            extra_headers=headers,
        )
        clone._retry = clone._build_retry()
        clone._transport = clone._build_transport()
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

    def _session(self) -> aiohttp.ClientSession:
        pool = self._pool
        if pool.closed:
            raise RuntimeError("this PrintoraClient is closed; create a new one")
        loop = asyncio.get_running_loop()
        if pool.session is None:
            if pool.owned:
                pool.session = make_session(self._pool_size)
                pool.proxy = ProxyChooser() or None
            else:
                raise RuntimeError("this PrintoraClient's session was taken away")
            pool.loop = loop
        elif pool.loop is None:
            pool.loop = loop  # a session of yours: the loop it is first used in
        elif pool.loop is not loop:
            raise RuntimeError(_OTHER_LOOP)
        return pool.session

    async def aclose(self) -> None:
        """Release the connection pool (a session passed in by you is left open).

        Like every closer of this SDK that must be awaited, it is spelled ``aclose`` (as for
        async generators, ``contextlib.aclosing`` and httpx); closing twice is harmless.
        """
        if self._pool.closed:
            return
        self._pool.closed = True
        session, self._pool.session = self._pool.session, None
        if session is not None and self._pool.owned:
            await session.close()

    async def __aenter__(self) -> PrintoraClient:
        self._session()
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

    # -- the one request path --------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        parse: Callable[[Any], T],
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> T:
        """Send one API call through the retry middleware; ``parse`` of the answer's ``data``.

        Under a ``with_raw_response`` twin it returns a :class:`RawResponse` instead, whose
        ``parse()`` runs ``parse`` (the one code path of a method and its twin).
        """
        session = self._session()
        # Left set in the caller's task: errors built from this answer later are scrubbed too.
        errors.hide_secrets(self._key.reveal())
        url = _url(self.base_url, path, tuple(params.items()) if params else ())
        # Per request, not per session: a session passed in by the caller gets them too.
        headers = self._headers.value
        body = None
        if json is not None or idempotency_key is not None:
            headers = dict(headers)
            if json is not None:
                body = _sansio.dumps(json)
                headers["Content-Type"] = "application/json"
            if idempotency_key is not None:
                headers["Idempotency-Key"] = idempotency_key
        proxy = self._pool.proxy
        request = Request(method, url, headers, body, proxy(url) if proxy else None)
        retry, hooks = self._retry, self._dispatch
        state = CallState(
            retry.timeout, retry.policy.deadline, self._clock.monotonic, self._clock.monotonic()
        )
        # A partial, not a coroutine of ours around ``send``: one frame less on every resume.
        attempt = functools.partial(self._transport.send, session, request)
        idempotent = is_idempotent(method, headers)
        if hooks is not None:
            state.hooks, state.call = hooks, CallInfo(operation, method, url)
            emit(hooks.on_call_start, state.call)
            try:
                answer = await retry.run(state, attempt, method, idempotent)
            except BaseException as exc:
                emit(hooks.on_call_end, state.call, exc)
                raise
            emit(hooks.on_call_end, state.call, None)
        else:
            answer = await retry.run(state, attempt, method, idempotent)
        if RAW.get():
            raw = RawResponse(
                answer.status,
                answer.headers or {},
                lambda: _decoded(parse, answer, method, url),
                arrived=self._clock.time(),
                attempts=state.attempts,
            )
            return raw  # type: ignore[return-value]  # noqa: RET504 - the twin casts it back
        return _decoded(parse, answer, method, url)


def _decoded(parse: Callable[[Any], T], answer: _sansio.Answer, method: str, url: URL) -> T:
    """``parse`` of the answer's data; data it cannot read is reported with the answer's real
    status, headers (request id) and absolute URL."""
    try:
        return parse(answer.data)
    except _sansio.Undecodable as exc:
        raise exc.error(answer.status, answer.headers, method=method, url=url) from exc.__cause__


@functools.lru_cache(maxsize=32)
def _url(base: URL, path: str, query: tuple[tuple[str, str | int], ...]) -> URL:
    """The request URL, cached: a repeated call (a poll, a status check) reuses one ``URL``,
    whose parts aiohttp reads on every request (yarl computes each once per object). A walk
    asks for every offset once: the cache is small and bounded, so its memory stays flat."""
    url = _join(base, path)
    if query:
        url = url.with_query({k: str(v) for k, v in query})
    return url


@functools.lru_cache(maxsize=64)
def _join(base: URL, path: str) -> URL:
    return base.join(URL(path.lstrip("/"))) if path else base


@functools.cache
def _user_agent() -> str:
    from . import __version__

    return f"aioprintora/{__version__}"


_OTHER_LOOP = (
    "this PrintoraClient was first used in another event loop (e.g. an earlier asyncio.run()); "
    "a client's connection pool belongs to one loop: create the client inside the loop that "
    "uses it (in your async main), or run all its calls under one asyncio.run()"
)


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


def _check_bounds(max_queue_wait: float | None, max_response_size: int) -> None:
    if max_queue_wait is not None and max_queue_wait <= 0:
        raise ValueError("max_queue_wait must be positive (or None)")
    if max_response_size < 1:
        raise ValueError("max_response_size must be >= 1")


def _limiter(rate_limit: Any, clock: Clock) -> Limiter | None:
    if rate_limit is None:
        return None
    from .ratelimit._local import DEFAULT_WINDOWS, RateLimiter

    if rate_limit is DEFAULT_RATE_LIMIT:
        return RateLimiter(DEFAULT_WINDOWS, clock=clock)
    if isinstance(rate_limit, Sequence):
        return RateLimiter(tuple(rate_limit), clock=clock)
    return rate_limit  # type: ignore[no-any-return]
