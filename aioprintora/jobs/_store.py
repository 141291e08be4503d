"""Durable key-value stores for jobs: the import journal and the order-sync state.

A store maps string keys to bytes within one *namespace* (a journal or a sync state), and
every :meth:`~Store.put_many` is durable when it returns: a crash or Ctrl-C right after it loses
nothing, and right before it leaves the old value. That is all the jobs need, so a store is
easy to write for any database; two ship here:

- :class:`SQLiteStore`: one file, Python's standard library, the default when a job is given a
  path. Writes are committed one by one (WAL journal, ``synchronous=FULL``), so a killed process
  leaves it consistent; several processes may share the file (a webhook listener recording into
  a sync state while the cron runs it), each write waiting up to ``busy_timeout`` for the lock.
- :class:`~aioprintora.jobs.RedisStore` (``pip install aioprintora[redis]``): a Redis
  hash, for an import spread over several workers.

A webhook-fed :class:`~aioprintora.jobs.OrderSync` also needs a :class:`RecordStore`: keys found
by prefix, and a write that puts and deletes in one transaction. Both stores here are one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol, Union, runtime_checkable

if TYPE_CHECKING:
    from .._client import PrintoraClient

__all__ = [
    "AccountMismatchError",
    "RecordStore",
    "SQLiteStore",
    "Store",
    "StoreLike",
    "open_store",
]


@runtime_checkable
class Store(Protocol):
    """What the import journal and the order sync need from a durable store."""

    async def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The values stored under ``keys`` (keys never stored are absent from the answer)."""

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        """Store every item in one atomic, durable write."""

    async def aclose(self) -> None:
        """Release the store's resources (a store handed to a job is not closed by it)."""


@runtime_checkable
class RecordStore(Store, Protocol):
    """A store that also finds keys by prefix and deletes: what a webhook-fed sync appends to."""

    async def scan(self, prefix: str) -> dict[str, bytes]:
        """Every key starting with ``prefix``, with its value."""

    async def update(self, put: Mapping[str, bytes], delete: Iterable[str]) -> None:
        """Store ``put`` and remove ``delete`` in one atomic, durable write."""


StoreLike = Union[str, "os.PathLike[str]", Store]


class AccountMismatchError(ValueError):
    """A journal or sync state was written for another API key or base URL than the client's."""


def account_of(client: PrintoraClient) -> str:
    """Which account and API a job's data belongs to: a digest of the key, and the base URL.

    Never the key: a truncated HMAC-SHA256 of it, enough to tell two keys apart.

    Args:
        client: the client the job runs with.
    """
    key = client._key.reveal().encode()
    digest = hmac.new(b"aioprintora-job-account", key, hashlib.sha256).hexdigest()[:16]
    return f"{digest}@{client.base_url}"


def check_account(bound: str | None, current: str, what: str, remedy: str) -> None:
    """Refuse data bound to another account (``bound`` None: written before binding existed)."""
    if bound is None or bound == current:
        return
    theirs, ours = bound.partition("@")[2], current.partition("@")[2]
    which = f"base URL ({theirs}, not {ours})" if theirs != ours else "API key"
    raise AccountMismatchError(f"this {what} was written with another {which}; {remedy}")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS aioprintora_kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID
"""
_CHUNK = 500  # SQLite allows 999 bound parameters in older builds


class SQLiteStore:
    """A store in one SQLite file (created when missing); ``namespace`` separates jobs in it.

    Args:
        path: the database file.
        namespace: which job's keys these are (a journal and a sync state may share a file).
        busy_timeout: seconds a write waits for another process holding the file's write lock.
    """

    def __init__(
        self, path: str | os.PathLike[str], namespace: str = "default", busy_timeout: float = 10.0
    ) -> None:
        self.path = os.fspath(path)
        self.namespace = namespace
        self._db: sqlite3.Connection | None = None  # for __del__ when connect fails
        # Autocommit mode: each statement is its own transaction unless we open one.
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # a commit is on disk when it returns
            db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            db.execute(_SCHEMA)
        except BaseException:
            db.close()
            raise
        self._db = db

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r}, namespace={self.namespace!r})"

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("this SQLiteStore is closed")
        return self._db

    # A write is a few milliseconds and a job makes at most a few a second (the rate limit),
    # so the calls run inline: a thread would let a cancelled job commit after it stopped.
    async def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The values stored under ``keys``."""
        db, wanted, found = self._conn(), list(keys), {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT key, value FROM aioprintora_kv WHERE namespace = ? AND key IN ({marks})",  # noqa: S608 - only placeholders are interpolated
                [self.namespace, *chunk],
            )
            found.update({key: bytes(value) for key, value in rows})
        return found

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        """Store every item in one transaction."""
        await self.update(items, ())

    async def scan(self, prefix: str) -> dict[str, bytes]:
        """Every key starting with ``prefix``, with its value."""
        # The range [prefix, prefix + U+10FFFF) is every key that starts with it, index-served.
        rows = self._conn().execute(
            "SELECT key, value FROM aioprintora_kv WHERE namespace = ? AND key >= ? AND key < ?",
            [self.namespace, prefix, prefix + "\U0010ffff"],
        )
        return {key: bytes(value) for key, value in rows}

    async def update(self, put: Mapping[str, bytes], delete: Iterable[str]) -> None:
        """Store ``put`` and remove ``delete`` in one transaction."""
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO aioprintora_kv (namespace, key, value) VALUES (?, ?, ?)",
                [(self.namespace, key, value) for key, value in put.items()],
            )
            db.executemany(
                "DELETE FROM aioprintora_kv WHERE namespace = ? AND key = ?",
                [(self.namespace, key) for key in delete],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    async def aclose(self) -> None:
        """Close the file."""
        self.close()

    def close(self) -> None:
        """Close the file (synchronously; idempotent)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def __del__(self) -> None:
        if hasattr(self, "_db"):  # a file that could not be opened left nothing to close
            self.close()


def open_store(where: StoreLike, namespace: str) -> tuple[Store, bool]:
    """``(store, owned)``: a path becomes a :class:`SQLiteStore` we close; a store is used as is."""
    if isinstance(where, (str, os.PathLike)):
        return SQLiteStore(where, namespace), True
    if not isinstance(where, Store):
        raise TypeError("expected a file path or an aioprintora.jobs._store.Store")
    return where, False
