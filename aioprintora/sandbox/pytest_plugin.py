"""pytest plugin (entry point ``pytest11``): the ``printora_sandbox`` fixture.

It is loaded by every pytest run in an environment where aioprintora is installed, so it imports
nothing heavy at load time and defines nothing but the fixture. Without pytest-asyncio the
fixture exists but skips the test, saying why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._server import Sandbox

__all__ = ["printora_sandbox"]

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - only where pytest-asyncio is missing
    HAS_PYTEST_ASYNCIO = False
else:
    HAS_PYTEST_ASYNCIO = True

if HAS_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def printora_sandbox() -> AsyncIterator[Sandbox]:
        """A started :class:`~aioprintora.sandbox.Sandbox` on loopback, closed after the test.

        Webhook retries run 1000 times faster than in production (1 min -> 60 ms).
        """
        from ._server import Sandbox  # imported late: keeps plugin loading light

        async with Sandbox(webhook_time_scale=0.001) as sandbox:
            yield sandbox

else:  # pragma: no cover

    @pytest.fixture
    def printora_sandbox() -> Any:
        """Skips: the async sandbox fixture needs pytest-asyncio."""
        pytest.skip(
            "the printora_sandbox fixture needs pytest-asyncio (pip install pytest-asyncio)"
        )
