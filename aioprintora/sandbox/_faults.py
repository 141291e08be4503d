"""Which request gets which fault: scripted (``fail_next``) and random (``set_faults``).

Pure bookkeeping, no I/O; :mod:`.middleware` carries the faults out.

Kinds: ``"500"``, ``"502"`` (HTML body, like a proxy), ``"503"``, ``"429"`` (``"429:<s>"`` sets
``Retry-After``, default 1), ``"drop"`` (close before doing the work), ``"commit_drop"`` (do the
work, then close), ``"commit_500"`` (do the work, answer 500), ``"delay:<s>"`` (do the work,
answer after ``s`` seconds), ``"malformed"`` (200 with invalid JSON, work not done),
``"truncated"`` (``Content-Length`` larger than the body sent, then close; work not done).
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Iterable

import attrs

__all__ = ["FaultPlan", "check_kind"]

_SIMPLE = frozenset(
    {"500", "502", "503", "429", "drop", "commit_drop", "commit_500", "malformed", "truncated"}
)


def check_kind(kind: str) -> str:
    """Return ``kind`` if it names a fault, else raise ``ValueError``."""
    if kind in _SIMPLE:
        return kind
    name, _, arg = kind.partition(":")
    if name in ("delay", "429") and arg:
        try:
            seconds = float(arg)
        except ValueError:
            pass
        else:
            if seconds >= 0:
                return kind
    raise ValueError(f"unknown fault kind {kind!r}")


@attrs.define
class _Rule:
    remaining: int
    kind: str
    method: str | None
    path: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


class FaultPlan:
    """The faults still to be served."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._rate = 0.0
        self._kinds: tuple[str, ...] = ()
        self._rng = random.Random(0)

    def fail_next(
        self, count: int, kind: str, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Serve ``kind`` to the next ``count`` requests matching ``method`` and ``path``.

        Args:
            count: how many requests get the fault.
            kind: the fault (see the module docstring).
            method: only requests with this HTTP method (any when None).
            path: only requests whose path matches this exact path or glob (any when None).
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        self._rules.append(_Rule(count, check_kind(kind), method and method.upper(), path))

    def set_random(self, rate: float, kinds: Iterable[str], seed: int | None) -> None:
        """Fault a fraction ``rate`` of requests with a kind drawn from ``kinds``."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        checked = tuple(check_kind(k) for k in kinds)
        if rate and not checked:
            raise ValueError("kinds must not be empty")
        self._rate, self._kinds = rate, checked
        self._rng = random.Random(seed)

    def clear(self) -> None:
        """Serve no more faults."""
        self._rules.clear()
        self._rate, self._kinds = 0.0, ()

    @property
    def pending(self) -> int:
        """How many scripted faults are still to be served."""
        return sum(rule.remaining for rule in self._rules)

    def take(self, method: str, path: str) -> str | None:
        """The fault for this request, if any (a scripted one first, then maybe a random one)."""
        for rule in self._rules:
            if rule.matches(method, path):
                rule.remaining -= 1
                if not rule.remaining:
                    self._rules.remove(rule)
                return rule.kind
        if self._rate and self._rng.random() < self._rate:
            return self._rng.choice(self._kinds)
        return None
