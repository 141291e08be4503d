"""The public surface: ``__all__`` is sorted, complete and importable (cf. httpx's test)."""

from __future__ import annotations
import __future__

import importlib
import importlib.metadata
import inspect
import re
import subprocess
import sys
import typing
from types import ModuleType

import pytest

import aioprintora

PACKAGES = ["aioprintora", "aioprintora.webhooks", "aioprintora.sandbox"]


def isort_style_key(name: str) -> tuple[int, list[str | int]]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then the rest, naturally sorted."""
    if len(name) > 1 and name.isupper():
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
    return group, natural


def public_names(module: ModuleType) -> set[str]:
    """Names a user can reach on ``module`` that belong to its API.

    Left out: private names, submodules (bound as attributes when imported), the ``__future__``
    feature, and classes or functions of other libraries imported for internal use (such as
    ``importlib.metadata.version``).
    """
    for name in getattr(module, "_HOMES", {}):  # lazily exported names resolve on first use
        getattr(module, name)
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, (ModuleType, __future__._Feature)):
            continue
        # A type alias such as ``Callable[[...], ...]`` is ours even though its origin is not
        # (Python 3.10 also calls such aliases classes).
        alias = typing.get_origin(value) is not None
        foreign = (
            not alias
            and (inspect.isclass(value) or inspect.isfunction(value))
            and not value.__module__.startswith("aioprintora")
        )
        if not foreign:
            names.add(name)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_sorted_without_duplicates(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__ == sorted(module.__all__, key=isort_style_key)
    assert len(set(module.__all__)) == len(module.__all__)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_lists_exactly_the_public_names(package: str) -> None:
    module = importlib.import_module(package)
    declared = set(module.__all__) - {"__version__"}
    assert declared == public_names(module)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_name_in_all_is_importable(package: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package} import *", namespace)  # noqa: S102 - the star import is the test
    module = importlib.import_module(package)
    for name in module.__all__:
        assert name in namespace, name
        assert namespace[name] is getattr(module, name)


def test_version_is_the_installed_distribution_version() -> None:
    assert isinstance(aioprintora.__version__, str)
    assert aioprintora.__version__ == importlib.metadata.version("aioprintora")
    assert "__version__" in aioprintora.__all__


def test_sort_key_matches_ruff_examples() -> None:
    names = ["b", "Sandbox", "API_2", "API_10", "a", "__version__", "DEFAULT", "Claim"]
    assert sorted(names, key=isort_style_key) == [
        "API_2",
        "API_10",
        "DEFAULT",
        "Claim",
        "Sandbox",
        "__version__",
        "a",
        "b",
    ]


def test_client_facing_names_are_exported() -> None:
    """The names the issues fix for external users are all on the top-level package."""
    fixed = {
        "PrintoraClient",
        "UserData",
        "Session",
        "SessionToken",
        "Order",
        "Page",
        "Pagination",
        "WebhookLog",
        "WebhookDelivery",
        "PrintoraError",
        "APIError",
        "AuthenticationError",
        "BadRequestError",
        "NotFoundError",
        "ConflictError",
        "IdempotencyKeyError",
        "RateLimitError",
        "ServerError",
        "APIConnectionError",
        "APITimeoutError",
        "OrderStatus",
        "SessionStatus",
        "WebhookStatus",
        "EventType",
    }
    assert fixed <= set(aioprintora.__all__)


@pytest.mark.parametrize("package", ["aioprintora", "aioprintora.sandbox"])
def test_lazy_exports_match_all(package: str) -> None:
    module = importlib.import_module(package)
    assert set(module._HOMES) | {"__version__"} >= set(module.__all__)
    assert set(module._HOMES) <= set(module.__all__)
    with pytest.raises(AttributeError, match="no attribute"):
        module.not_a_name  # noqa: B018


def test_importing_the_package_and_its_pytest_plugin_is_cheap() -> None:
    # The plugin is loaded by every pytest run where aioprintora is installed: it must not
    # drag in aiohttp (or anything else heavy) before a test asks for the sandbox.
    code = (
        "import sys, pytest; import aioprintora, aioprintora.sandbox.pytest_plugin; "
        "heavy = {'aiohttp', 'cattrs', 'backoff', 'aioprintora.client'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run(  # noqa: S603 - our own code, our interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
