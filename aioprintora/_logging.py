"""``PRINTORA_LOG=debug|info``: the SDK's log on stderr without any logging setup.

As openai-python's ``OPENAI_LOG``: set the variable and every request, retry and rate-limit wait
is written to stderr. Read once, when the first client is made (nothing happens at import time).
A logging setup of your own keeps working: records still propagate to it.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["ENV_VAR", "configure_from_env", "logger"]

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
