"""A rate window, in a module of its own: the header reader and every limiter use it."""

from __future__ import annotations

import attrs

__all__ = ["DEFAULT_WINDOWS", "Window"]


@attrs.frozen
class Window:
    """At most ``limit`` requests in any interval of ``period`` seconds.

    Args:
        limit: requests allowed per period (≥ 1).
        period: the interval length in seconds (> 0).
    """

    limit: int = attrs.field(validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)])
    period: float = attrs.field(converter=float, validator=attrs.validators.gt(0.0))


#: Printora's documented limits: 60 per minute and 10,000 per day, per API key.
DEFAULT_WINDOWS: tuple[Window, ...] = (Window(60, 60.0), Window(10_000, 86_400.0))
