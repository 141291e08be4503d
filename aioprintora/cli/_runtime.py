"""Running a command's coroutine: Ctrl-C cancels it (so ``finally`` blocks run), then exit 130."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._errors import InterruptedByUserError

__all__ = ["run_async"]

T = TypeVar("T")


def run_async(main: Callable[[], Awaitable[T]], *, stop_on_sigterm: bool = False) -> T | None:
    """Run ``main()`` in a fresh loop.

    Ctrl-C cancels the task instead of raising KeyboardInterrupt wherever the loop happens to be,
    so files are flushed and connections closed; :class:`InterruptedByUserError` is raised
    afterwards. With ``stop_on_sigterm`` (servers), SIGTERM stops it the same way and returns
    None: a requested stop.
    """
    got: list[int] = []

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def stop(signum: int) -> None:
            got.append(signum)
            task.cancel()

        signals = (signal.SIGINT, signal.SIGTERM) if stop_on_sigterm else (signal.SIGINT,)
        for signum in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows
                loop.add_signal_handler(signum, stop, signum)
        try:
            return await main()
        finally:
            for signum in signals:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)

    try:
        result = asyncio.run(guarded())
    except asyncio.CancelledError:
        if not got:
            raise
        result = None
    except KeyboardInterrupt:  # Ctrl-C before the handler was in place
        raise InterruptedByUserError from None
    if signal.SIGINT in got:
        raise InterruptedByUserError
    return result
