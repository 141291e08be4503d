"""The sandbox's own classes never take a name the client publishes (issue 11)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import aioprintora
import aioprintora.sandbox
from aioprintora import _errors as errors
from aioprintora.ratelimit import _local as ratelimit
from aioprintora.ratelimit import _redis as ratelimit_redis


def _client_names() -> set[str]:
    names = set(aioprintora.__all__)
    for module in (errors, ratelimit, ratelimit_redis):
        names.update(n for n, v in vars(module).items() if inspect.isclass(v))
    return {n for n in names if not n.startswith("_")}


def _sandbox_classes() -> dict[str, str]:
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(aioprintora.sandbox.__path__):
        module = importlib.import_module(f"aioprintora.sandbox.{info.name}")
        for name, value in vars(module).items():
            if inspect.isclass(value) and value.__module__ == module.__name__:
                found[name] = module.__name__
    return found


def test_no_sandbox_class_reuses_a_public_client_name() -> None:
    sandbox = _sandbox_classes()
    assert "QuotaCounter" in sandbox and "EnvelopeError" in sandbox  # the scan sees them
    clashes = {
        name: home
        for name, home in sandbox.items()
        if name in _client_names() or name.lower() in {n.lower() for n in _client_names()}
    }
    assert clashes == {}
