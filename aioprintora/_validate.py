"""Argument checks run before any request is sent: a ``ValueError`` naming the argument."""

from __future__ import annotations

import enum
import re
import uuid
from typing import TypeVar

from yarl import URL

__all__ = [
    "absolute_url",
    "exactly_one",
    "https_url",
    "int_range",
    "open_choice",
    "path_segment",
    "uuid_str",
]

E = TypeVar("E", bound=enum.Enum)
_SEGMENT = re.compile(r"[A-Za-z0-9._~-]{1,512}")
# A status or event type the API may add later: a short lowercase token such as ``on_hold`` or
# ``order.refunded`` (forward compatible, as decoding is); spaces, symbols, case are refused.
_TOKEN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def absolute_url(name: str, value: object) -> str:
    """An absolute http(s) URL with a host."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be an absolute http(s) URL, got {value!r:.80}")
    try:
        url = URL(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name} is not a valid URL: {value!r:.80}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{name} must be an absolute http(s) URL, got {value!r:.80}")
    return value


def https_url(name: str, value: object) -> str:
    """An absolute ``https`` URL with a host (Printora refuses plain ``http`` images)."""
    url = absolute_url(name, value)
    if URL(url).scheme != "https":
        raise ValueError(f"{name} must be a valid HTTPS URL, got {value!r:.80}")
    return url


def uuid_str(name: str, value: object) -> str:
    """A UUID, as the canonical string."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError(f"{name} must be a UUID, got {value!r:.80}") from None


def int_range(name: str, value: object, low: int, high: int | None = None) -> int:
    """An int (not a bool) within ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r:.40}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def exactly_one(**candidates: object) -> str:
    """The name of the one argument that is not None; anything else is a ``ValueError``."""
    given = [name for name, value in candidates.items() if value is not None]
    if len(given) != 1:
        names = " / ".join(candidates)
        which = ", ".join(given) if given else "none"
        raise ValueError(f"pass exactly one of {names} (got {which})")
    return given[0]


def path_segment(name: str, value: object) -> str:
    """An id or token that can stand in a URL path as it is (no ``/``, ``?``, ``#``, ...)."""
    if not isinstance(value, str) or not _SEGMENT.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"{name} must be a non-empty URL-safe string, got {value!r:.60}")
    return value


def open_choice(name: str, value: object, kind: type[E]) -> str:
    """An enum's value, or a well-formed value the SDK does not know yet (a newer API's).

    Only structurally invalid values are refused: not a string, empty, or not a short
    lowercase token.
    """
    raw = value.value if isinstance(value, kind) else value
    if not isinstance(raw, str) or not _TOKEN.fullmatch(raw):
        known = ", ".join(member.value for member in kind)
        raise ValueError(
            f"{name} must be a lowercase token such as one of {known}; got {value!r:.40}"
        )
    return raw
