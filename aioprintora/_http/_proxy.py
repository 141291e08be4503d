"""Which proxy a request of the client's own pool goes through: ``HTTP(S)_PROXY``/``NO_PROXY``.

aiohttp's ``trust_env=True`` would read these too, but it also reads ``.netrc`` (in a thread, on
every request sent without ``auth=``) and a matching or ``default`` entry then collides with our
``Authorization`` header. So the session keeps ``trust_env`` off and each request is given its
proxy explicitly, read from the environment with urllib's own rules.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable

from yarl import URL

__all__ = ["ProxyChooser"]

# Public in urllib since forever, missing from typeshed's stubs.
_bypass: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


class ProxyChooser:
    """The proxy for a URL (None: connect directly), from the environment read once."""

    __slots__ = ("_cache", "_proxies")

    def __init__(self, proxies: dict[str, str] | None = None) -> None:
        self._proxies = proxies if proxies is not None else urllib.request.getproxies_environment()
        self._cache: dict[tuple[str, str], URL | None] = {}

    def __bool__(self) -> bool:
        return any(scheme in self._proxies for scheme in ("http", "https"))

    def __call__(self, url: URL) -> URL | None:
        host = url.host or ""
        if url.explicit_port and url.port is not None:
            host = f"{host}:{url.port}"
        key = (url.scheme, host)
        try:
            return self._cache[key]
        except KeyError:
            pass
        raw = self._proxies.get(url.scheme)
        bypass = raw is None or _bypass(host, self._proxies)
        proxy = None
        if not bypass and raw is not None:
            proxy = URL(raw if "://" in raw else f"http://{raw}")
        self._cache[key] = proxy
        return proxy


class ProxyFailure(Exception):  # noqa: N818 - it stands for the failure, it is not one of ours
    """Stands in for a failure whose text showed the proxy's credentials (they are redacted)."""


def without_credentials(exc: BaseException, proxy: URL) -> BaseException:
    """``exc``, or when its chain shows the proxy's password, a stand-in with it redacted.

    aiohttp names the proxy URL, credentials included, in its errors (a 407 does), and the
    SDK's error keeps the failure as its ``__cause__``: every traceback would print it.
    """
    secrets = {s for s in (proxy.password, proxy.raw_password) if s}
    if not secrets:
        return exc
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    if not any(secret in str(e) or secret in repr(e) for e in chain for secret in secrets):
        return exc
    text = f"{type(exc).__name__}: {exc}"
    for secret in secrets:
        text = text.replace(secret, "<redacted>")
    return ProxyFailure(text)
