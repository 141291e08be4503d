"""Offset pagination: page arithmetic (pure) and decoding of every page shape the API sends.

Shapes accepted ([drift] in the spec): ``{"orders": [...], "pagination": {...}}``, the flat
``{"orders": [...], "total": 42, "limit": 20, "offset": 0}``, a bare ``{"logs": [...]}`` and a
bare list. When the server does not say whether more items exist, a full page means "maybe":
the next request finds out, so nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ._convert import structure
from .models import Page, Pagination

__all__ = ["parse_page"]

T = TypeVar("T")


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return default
    try:
        return int(value)
    except ValueError:
        return default


def parse_page(
    data: Any, items_key: str, item_type: type[T], *, limit: int, offset: int
) -> Page[T]:
    """Build a :class:`Page` from a decoded listing body.

    Args:
        data: the decoded ``data`` of the answer (or the whole flat body).
        items_key: ``"orders"`` or ``"logs"``.
        item_type: the model of one item.
        limit: the page size asked for (used when the server omits it).
        offset: the offset asked for (likewise).

    Raises:
        TypeError, ValueError: the body is not a listing (the caller wraps these).
    """
    meta: Mapping[str, Any]
    if isinstance(data, list):
        raw_items, meta = data, {}
    elif isinstance(data, Mapping):
        raw_items = data.get(items_key, data.get("items", data.get("data")))
        nested = data.get("pagination")
        meta = nested if isinstance(nested, Mapping) else data
    else:
        raise TypeError(f"expected a listing, got {type(data).__name__}")
    if not isinstance(raw_items, list):
        raise TypeError(f"the listing has no {items_key!r} list")
    items = [structure(item, item_type) for item in raw_items]
    page_limit = _int(meta.get("limit"), limit)
    page_offset = _int(meta.get("offset"), offset)
    total = _int(meta.get("total"), -1)
    has_more = meta.get("hasMore", meta.get("has_more"))
    if not isinstance(has_more, bool):
        has_more = (
            (page_offset + len(items) < total) if total >= 0 else len(items) >= page_limit > 0
        )
    if total < 0:
        total = page_offset + len(items) + (1 if has_more else 0)
    return Page(items=items, pagination=Pagination(total, page_limit, page_offset, has_more))
