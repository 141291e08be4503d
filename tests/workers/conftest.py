"""The queue's tests need the ``workers`` extra (saq), which caps redis-py: they run in
``nox -s workers`` with a lock of their own, and are skipped elsewhere unless
``AIOPRINTORA_REQUIRE_WORKERS=1`` says they must run."""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests._redis_server import redis_server_factory, redis_url

__all__ = ["redis_server_factory", "redis_url"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if importlib.util.find_spec("saq") is not None:
        return
    reason = "the workers extra (saq) is not installed: nox -s workers runs these"
    if os.environ.get("AIOPRINTORA_REQUIRE_WORKERS") == "1":
        raise pytest.UsageError(f"AIOPRINTORA_REQUIRE_WORKERS=1 but {reason}")
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.skip(reason=reason))
