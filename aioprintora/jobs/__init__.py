"""Batch jobs: importing many sessions, and the incremental order sync.

- :meth:`Sessions.create_many <aioprintora.resources.sessions.Sessions.create_many>` takes
  :class:`SessionRequest` objects and returns a :class:`BatchResult` each; with a
  :class:`Journal` a re-run sends nothing twice.
- :class:`OrderSync` yields the orders new or changed since its previous complete run.
- Both keep their state in a :class:`Store`: :class:`SQLiteStore` (a file, the default) or
  :class:`RedisStore` (jobs spread over several workers).
"""

from __future__ import annotations

import typing

from .._lazy import exports as _exports

if typing.TYPE_CHECKING:
    from ._imports import (
        BatchResult,
        Progress,
        ProgressCallback,
        SessionRequest,
        key_for_ref,
        stops_job,
    )
    from ._journal import Journal, JournalConflictError
    from ._store import AccountMismatchError, RecordStore, SQLiteStore, Store, StoreLike
    from ._store_redis import RedisStore
    from ._sync import NO_EVENT_STATUSES, OrderSync, WebhookLogOrderError

#: Where each public name lives.
_HOMES: dict[str, str] = {
    "BatchResult": "_imports",
    "Progress": "_imports",
    "ProgressCallback": "_imports",
    "SessionRequest": "_imports",
    "key_for_ref": "_imports",
    "stops_job": "_imports",
    "Journal": "_journal",
    "JournalConflictError": "_journal",
    "AccountMismatchError": "_store",
    "RecordStore": "_store",
    "SQLiteStore": "_store",
    "Store": "_store",
    "StoreLike": "_store",
    "RedisStore": "_store_redis",
    "NO_EVENT_STATUSES": "_sync",
    "OrderSync": "_sync",
    "WebhookLogOrderError": "_sync",
}

__getattr__, __dir__ = _exports(__name__, _HOMES, globals())

__all__ = [
    "NO_EVENT_STATUSES",
    "AccountMismatchError",
    "BatchResult",
    "Journal",
    "JournalConflictError",
    "OrderSync",
    "Progress",
    "ProgressCallback",
    "RecordStore",
    "RedisStore",
    "SQLiteStore",
    "SessionRequest",
    "Store",
    "StoreLike",
    "WebhookLogOrderError",
    "key_for_ref",
    "stops_job",
]
