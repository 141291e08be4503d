"""Newest-first listings kept sorted on insert, so a page costs O(limit), not a sort.

Pure data structures, no I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["Slice", "Timeline", "page_window"]

T = TypeVar("T")
#: ``(created_at, seq)``: the sequence number breaks ties between equal timestamps.
Key = tuple[float, int]


def page_window(total: int, limit: int, offset: int) -> dict[str, int | bool]:
    """The ``pagination`` object of a page."""
    return {"total": total, "limit": limit, "offset": offset, "hasMore": offset + limit < total}


class Slice(Generic[T]):
    """One page of a listing and the size of the whole filtered listing."""

    __slots__ = ("items", "total")

    def __init__(self, items: list[T], total: int) -> None:
        self.items = items
        self.total = total


class Timeline(Generic[T]):
    """Items ordered by ``(created_at, seq)``, listed newest first.

    Inserting costs a binary search plus a memmove (fast even at 100k items); removing likewise.
    """

    __slots__ = ("_items", "_keys")

    def __init__(self) -> None:
        self._keys: list[Key] = []
        self._items: dict[Key, T] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: Key, item: T) -> None:
        """Insert ``item`` under ``key`` (appending when it is the newest, the common case)."""
        if not self._keys or key > self._keys[-1]:
            self._keys.append(key)
        else:
            bisect.insort(self._keys, key)
        self._items[key] = item

    def remove(self, key: Key) -> None:
        """Drop the item under ``key`` (no error when absent)."""
        if self._items.pop(key, None) is None:
            return
        index = bisect.bisect_left(self._keys, key)
        del self._keys[index]

    def newest_key(self) -> Key | None:
        """The key of the newest item, if any."""
        return self._keys[-1] if self._keys else None

    def page(self, limit: int, offset: int) -> Slice[T]:
        """Items ``offset .. offset+limit`` counted from the newest."""
        total = len(self._keys)
        start = max(total - offset, 0)
        stop = max(start - limit, 0)
        keys = self._keys[stop:start]
        keys.reverse()
        return Slice([self._items[k] for k in keys], total)


class Indexed(Generic[T]):
    """A timeline of everything plus one timeline per filter value (status, event type...)."""

    __slots__ = ("all", "by")

    def __init__(self) -> None:
        self.all: Timeline[T] = Timeline()
        self.by: dict[Hashable, Timeline[T]] = {}

    def add(self, key: Key, item: T, tags: tuple[Hashable, ...]) -> None:
        """Insert ``item`` in the main timeline and in the timeline of each tag."""
        self.all.add(key, item)
        for tag in tags:
            self.by.setdefault(tag, Timeline()).add(key, item)

    def retag(
        self, key: Key, item: T, old: tuple[Hashable, ...], new: tuple[Hashable, ...]
    ) -> None:
        """Move ``item`` from the timelines of ``old`` tags to those of ``new`` tags."""
        for tag in old:
            if tag not in new and tag in self.by:
                self.by[tag].remove(key)
        for tag in new:
            if tag not in old:
                self.by.setdefault(tag, Timeline()).add(key, item)

    def page(self, tag: Hashable | None, limit: int, offset: int) -> Slice[T]:
        """A page of everything (``tag=None``) or of the items carrying ``tag``."""
        line = self.all if tag is None else self.by.get(tag)
        if line is None:
            return Slice([], 0)
        return line.page(limit, offset)
