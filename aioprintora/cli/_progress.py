"""Progress of a long command: a live bar on a terminal, plain lines on stderr otherwise.

The ETA accounts for the rate limit: never less than when the limiter's schedule
(:meth:`~aioprintora.ratelimit.Limiter.free_after`) grants the requests still to send. An import
shows the ETA its job computes (rows still to send; journaled rows cost nothing).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from ._output import Output
from ._ratewatch import RateWatch

if TYPE_CHECKING:
    from ..ratelimit._local import Limiter

__all__ = ["Meter", "eta_seconds"]


def eta_seconds(
    done: int,
    total: int | None,
    elapsed: float,
    *,
    per_request: int = 1,
    limiter: Limiter | None = None,
    now: float = 0.0,
) -> float | None:
    """Seconds left: the pace so far, and never less than the limiter's schedule allows.

    Args:
        done: items finished.
        total: items in all (None: unknown).
        elapsed: seconds since the start (rate-limit waits included, so they count).
        per_request: items one request handles (a page of orders; one session).
        limiter: ``client.limiter``; its ``free_after(n, now)`` says when ``n`` more requests
            could all be granted (None: the pace alone).
        now: the limiter's clock.
    """
    if total is None:
        return None
    left = max(0, total - done)
    if left == 0:
        return 0.0
    known = [left * elapsed / done] if done and elapsed > 0 else []
    if limiter is not None:
        known.append(limiter.free_after(math.ceil(left / per_request), now))
    return max(known) if known else None


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "ETA -:--:--"
    whole = int(seconds + 0.5)
    return f"ETA {whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class Meter:
    """Counts what a command has done, shows rate and ETA, and says when the limiter holds it.

    Args:
        output: where to write (stderr).
        label: ``exporting orders``...
        limiter: ``client.limiter``, watched for waits.
        per_request: items one request handles, for the ETA.
    """

    def __init__(
        self, output: Output, label: str, limiter: Limiter | None, *, per_request: int = 1
    ) -> None:
        self.output = output
        self.label = label
        self.limiter = limiter
        self.per_request = per_request
        self.done = 0
        self.total: int | None = None
        #: An ETA the job computes itself (``create_many``'s progress), preferred when set.
        self.known_eta: float | None = None
        self.started = time.monotonic()
        self.live = output.err.is_terminal
        self._note = ""
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._watch = RateWatch(limiter, self._on_wait, live=self.live)

    def _on_wait(self, message: str | None) -> None:
        self._note = message or ""
        if not self.live and message:
            self.output.say(message)
        self.refresh()

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Items per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds left (see :func:`eta_seconds`), or what the job itself estimated."""
        if self.known_eta is not None:
            return self.known_eta
        return eta_seconds(
            self.done,
            self.total,
            self.elapsed,
            per_request=self.per_request,
            limiter=self.limiter,
            now=self._watch.clock(),
        )

    def advance(self, count: int = 1) -> None:
        """``count`` more items done."""
        self.done += count
        self.refresh()

    def set_total(self, total: int | None) -> None:
        """The number of items in all, once known."""
        self.total = total
        self.refresh()

    def refresh(self) -> None:
        """Redraw the bar (a no-op off a terminal)."""
        if self._progress is None or self._task is None:
            return
        self._progress.update(
            self._task,
            completed=self.done,
            total=self.total,
            rate=f"{self.rate:,.0f}/s",
            eta=_clock(self.eta()),
            note=self._note,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Meter]:
        """Show progress for the duration of the block."""
        if self.live:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TextColumn("{task.fields[eta]}"),
                TextColumn("[yellow]{task.fields[note]}"),
                console=self.output.err,
                transient=False,
            )
            self._task = self._progress.add_task(self.label, total=None, rate="", eta="", note="")
            self._progress.start()
        try:
            async with self._watch.running():
                yield self
        finally:
            self._note = ""
            self.refresh()
            if self._progress is not None:
                self._progress.stop()

    def summary(self) -> str:
        """``5,000 in 3.2 s (1,562/s)``."""
        return f"{self.done:,} in {self.elapsed:.1f} s ({self.rate:,.0f}/s)"
