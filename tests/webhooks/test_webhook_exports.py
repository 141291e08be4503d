"""The public surface of aioprintora.webhooks: names fixed by the issue, optional deps lazy."""

from __future__ import annotations

import subprocess
import sys

from aioprintora import _errors as errors
from aioprintora import webhooks


def test_all_is_sorted_and_complete() -> None:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions.
    def group(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert webhooks.__all__ == sorted(webhooks.__all__, key=group)
    for name in webhooks.__all__:
        assert hasattr(webhooks, name), name


def test_issue_names_are_exported() -> None:
    for name in ("verify_signature", "construct_event", "WebhookEvent", "WebhookSignatureError"):
        assert name in webhooks.__all__
    assert webhooks.WebhookSignatureError is errors.WebhookSignatureError
    assert webhooks.WebhookPayloadError is errors.WebhookPayloadError


def test_core_import_needs_neither_fastapi_nor_redis() -> None:
    code = (
        "import sys, aioprintora.webhooks\n"
        "bad = {'fastapi', 'starlette', 'redis'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)  # noqa: S603 - our code
