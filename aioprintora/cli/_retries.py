"""Retries shown as they happen, so a command never goes silent while it backs off."""

from __future__ import annotations

from ..hooks import CallInfo, Hooks, RetryEvent
from ._output import Output

__all__ = ["RetryNotice"]


class RetryNotice(Hooks):
    """Each retry on stderr as it happens, as the rate-limit waits are: its reason and wait.

    Args:
        output: where to say it.
    """

    def __init__(self, output: Output) -> None:
        self.output = output

    def on_retry(self, call: CallInfo, event: RetryEvent) -> None:
        detail = getattr(event.error, "message", None) or event.error
        self.output.say(
            f"waiting {event.wait:.1f} s to retry {call.operation}: attempt {event.attempt} "
            f"failed ({event.reason}: {detail})"
        )
