"""``PRINTORA_LOG=debug|info``: the SDK's log on stderr without any logging setup.

As openai-python's ``OPENAI_LOG``: set the variable and the SDK's log is written to stderr:

- ``info``: every retry (why, and how long it waits) and every rate-limit wait (how long, and
  whether our own pacing or a server pause held the request);
- ``debug``: that, and one line per HTTP attempt: method, URL, status (or the failure),
  milliseconds, attempt number and the server's request id. Never the API key.

The variable is read once, when the first client is made (nothing happens at import time). A
logging setup of your own keeps working: records still propagate to it.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from ._errors import scrub
from .response import request_id_of

if TYPE_CHECKING:
    from yarl import URL

    from .hooks import AttemptInfo

__all__ = ["ENV_VAR", "configure_from_env", "log_attempt", "log_wait", "logger"]

ENV_VAR = "PRINTORA_LOG"
logger = logging.getLogger("aioprintora")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_configured = False


class _EnvHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``PRINTORA_LOG`` installs (a class of its own, so it is installed once)."""


def configure_from_env() -> None:
    """Install a stderr handler on the ``aioprintora`` logger if ``PRINTORA_LOG`` asks for one."""
    global _configured  # noqa: PLW0603 - read the environment once per process
    if _configured:
        return
    _configured = True
    raw = os.environ.get(ENV_VAR, "").strip().lower()
    if not raw:
        return
    level = _LEVELS.get(raw)
    if level is None:
        logger.warning("%s=%r is not one of %s; ignored", ENV_VAR, raw, ", ".join(_LEVELS))
        return
    if not any(isinstance(h, _EnvHandler) for h in logger.handlers):
        handler = _EnvHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


def _where(url: URL) -> str:
    """The URL as logged: never its userinfo, and scrubbed of any secret in play."""
    if url.user is not None or url.password is not None:
        url = url.with_user(None)
    return scrub(str(url))


def log_attempt(method: str, url: URL, attempt: AttemptInfo) -> None:
    """One attempt at DEBUG: method, URL, status (or failure), milliseconds, number, request id."""
    status, error = attempt.status_code, attempt.error
    outcome = f"failed ({type(error).__name__}: {error})" if status is None else str(status)
    logger.debug(
        "%s %s -> %s in %.0f ms (attempt %d, request id %s)",
        method,
        _where(url),
        outcome,
        attempt.duration * 1000.0,
        attempt.number,
        request_id_of(attempt.headers) or "-",
    )


def log_wait(method: str, url: URL, seconds: float, reason: str) -> None:
    """A rate-limit wait at INFO: how long, and why."""
    logger.info("rate limiter held %s %s for %.2f s (%s)", method, _where(url), seconds, reason)
